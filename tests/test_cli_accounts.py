"""`kip users` and `kip tokens` on the real database (rolled back)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from kip.cli import main
from kip.services import accounts


@pytest.fixture
def kip(app, connection: Connection):
    runner = app.test_cli_runner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run


def test_first_administrator(kip, connection):
    assert kip("orgs", "add", "Gemeente Ede", "--kind", "department").exit_code == 0
    result = kip(
        "users",
        "create",
        "--admin",
        "--email",
        "Beheer@Ede.example",
        "--name",
        "Beheerder",
        "--password-stdin",
        input="een goed wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    assert "created administrator beheer@ede.example (Gemeente Ede)" in result.output
    role = connection.execute(text("SELECT role FROM users WHERE email = 'beheer@ede.example'"))
    assert role.scalar() == "administrator"
    listing = kip("users", "list").output
    assert "beheer@ede.example" in listing and "administrator" in listing


def test_an_organisation_must_be_named_when_there_are_several(kip):
    kip("orgs", "add", "A", "--kind", "department")
    kip("orgs", "add", "B", "--kind", "water")
    result = kip(
        "users",
        "create",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--password-stdin",
        input="een goed wachtwoord\n",
    )
    assert result.exit_code == 2 and "--org" in result.output


def test_weak_password_is_one_clear_line(kip):
    kip("orgs", "add", "A", "--kind", "department")
    result = kip(
        "users",
        "create",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--password-stdin",
        input="short\n",
    )
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: the password is too weak")
    assert "Traceback" not in result.output


def test_tokens_create_list_revoke(app, kip, connection):
    kip("orgs", "add", "Netbeheerder", "--kind", "grid_operator")
    created = kip(
        "tokens",
        "create",
        "--org",
        "Netbeheerder",
        "--scope",
        "write",
        "--name",
        "GIS",
        "--days",
        "30",
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("kip_")
    listing = kip("tokens", "list", "--format", "json").output
    assert secret not in listing and secret[:12] in listing
    from kip.db import database

    with database(app).sessionmaker() as session:
        token = accounts.authenticate_token(session, secret)
        assert token is not None
        token_id = token.id
    assert kip("tokens", "revoke", str(token_id)).exit_code == 0
    with database(app).sessionmaker() as session:
        assert accounts.authenticate_token(session, secret) is None
    assert '"revoked": true' in kip("tokens", "list", "--format", "json").output
