"""`kip orgs ...`: organisations (departments and partners)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from ..actors import Actor
from ..db import unit_of_work
from . import clean_errors, main


@main.group("orgs")
def orgs_group() -> None:
    """Manage organisations (departments and partners)."""


@orgs_group.command("add")
@click.argument("name")
@click.option(
    "--kind",
    required=True,
    help="department, grid_operator, water, telecom, housing_corporation, contractor or other",
)
@click.option("--contact-name")
@click.option("--contact-email")
@click.option("--contact-phone")
@with_appcontext
@clean_errors
def orgs_add(name: str, kind: str, contact_name, contact_email, contact_phone) -> None:
    """Add an organisation NAME of a KIND."""
    from ..services.organisations import add_organisation

    with unit_of_work() as session:
        org = add_organisation(
            session,
            Actor.system("cli"),
            name,
            kind,
            contact_name=contact_name,
            contact_email=contact_email,
            contact_phone=contact_phone,
        )
        click.echo(f"added organisation {org.id}: {org.name} ({org.kind.value})")


@orgs_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
@clean_errors
def orgs_list(fmt: str) -> None:
    """List the organisations with their number of works."""
    from ..services.organisations import list_organisations

    with unit_of_work() as session:
        rows = list_organisations(session)
    if fmt == "json":
        click.echo(
            json.dumps(
                [{"id": o.id, "name": o.name, "kind": o.kind.value, "works": n} for o, n in rows],
                indent=2,
            )
        )
        return
    if not rows:
        click.echo("no organisations yet (kip orgs add NAME --kind KIND, or kip demo load)")
        return
    width = max(len(o.name) for o, _ in rows)
    click.echo(f"{'id':>4}  {'name':<{width}}  {'kind':<19}  works")
    for org, n in rows:
        click.echo(f"{org.id:>4}  {org.name:<{width}}  {org.kind.value:<19}  {n:>5}")
