"""`kip users ...` and `kip tokens ...`: accounts and API tokens from the command line."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from ..actors import Actor
from ..db import unit_of_work
from ..models import Role, TokenScope
from ..services import accounts
from ..services.organisations import find_organisation, list_organisations
from . import clean_errors, main


@main.group("users")
def users_group() -> None:
    """Accounts of people (planners, coordinators, administrators)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--org", "org", help="organisation name or id (default: the only one, if one)")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PLANNER.value)
@click.option("--admin", is_flag=True, help="the same as --role administrator")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
@clean_errors
def users_create(email, name, org, role, admin, password_stdin) -> None:
    """Create an account (the first administrator: kip users create --admin ...)."""
    with unit_of_work() as session:
        if org is None:
            orgs = list_organisations(session)
            if len(orgs) != 1:
                raise click.UsageError(
                    "say which organisation with --org (kip orgs list shows them; "
                    "kip orgs add NAME --kind department makes one)"
                )
            organisation = orgs[0][0]
        else:
            organisation = find_organisation(session, org)
        user = accounts.create_user(
            session,
            Actor.system("cli"),
            email=email,
            name=name,
            organisation=organisation,
            role=Role.ADMINISTRATOR if admin else role,
            password=_read_password(password_stdin),
        )
        click.echo(f"created {user.role.value} {user.email} ({organisation.name})")


@users_group.command("list")
@with_appcontext
@clean_errors
def users_list() -> None:
    """List the accounts."""
    with unit_of_work() as session:
        for user in accounts.list_users(session, Actor.system("cli")):
            state = "" if user.active else "  (inactive)"
            click.echo(
                f"{user.id:>4}  {user.email:<36} {user.role.value:<13} "
                f"{user.organisation.name}{state}"
            )


@main.group("tokens")
def tokens_group() -> None:
    """API tokens of partner systems."""


@tokens_group.command("create")
@click.option("--org", "org", required=True, help="organisation name or id")
@click.option("--scope", type=click.Choice([s.value for s in TokenScope]), required=True)
@click.option("--name", default="", help="what the token is for")
@click.option("--days", default=365, show_default=True, help="how long it is valid")
@with_appcontext
@clean_errors
def tokens_create(org, scope, name, days) -> None:
    """Create a token; its secret is printed once and never again."""
    with unit_of_work() as session:
        new = accounts.create_token(
            session,
            Actor.system("cli"),
            organisation=find_organisation(session, org),
            scope=scope,
            name=name,
            days=days,
        )
        click.echo(
            f"token {new.token.id} for {new.token.organisation.name} ({scope}), "
            f"valid until {new.token.expires_at:%Y-%m-%d}. Keep it now; it is not shown again:",
            err=True,
        )
        click.echo(new.secret)


@tokens_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
@clean_errors
def tokens_list(fmt) -> None:
    """List tokens (never their secrets)."""
    with unit_of_work() as session:
        tokens = accounts.list_tokens(session, Actor.system("cli"))
        rows = [
            {
                "id": t.id,
                "organisation": t.organisation.name,
                "name": t.name,
                "scope": t.scope.value,
                "prefix": t.prefix,
                "expires_at": t.expires_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked": t.revoked_at is not None,
            }
            for t in tokens
        ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = "revoked" if r["revoked"] else f"until {r['expires_at'][:10]}"
        click.echo(
            f"{r['id']:>4}  {r['prefix']}…  {r['scope']:<5}  {state:<16} "
            f"{r['organisation']}: {r['name']}"
        )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
@clean_errors
def tokens_revoke(token_id) -> None:
    """Revoke a token at once."""
    with unit_of_work() as session:
        token = accounts.revoke_token(session, Actor.system("cli"), token_id)
        click.echo(f"token {token.id} revoked")
