"""The ``kip`` command line: organisations, the database commands, clean errors.

Commands run against the test app through Flask's CLI runner; the ``connection`` fixture
binds their unit of work to a transaction that is rolled back after each test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import Connection, text

from kip import migrate
from kip.cli import main


@pytest.fixture
def kip(app: Flask, connection: Connection):
    runner = app.test_cli_runner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input)

    return run


def assert_clean_failure(result: Result, message: str) -> None:
    """Exit code 1 and one ``Error: ...`` line naming the problem, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_orgs_add_then_list(kip, connection: Connection) -> None:
    added = kip("orgs", "add", "Liander", "--kind", "grid_operator", "--contact-email", "a@b.nl")

    assert added.exit_code == 0, added.output
    assert "added organisation" in added.output
    assert "Liander (grid_operator)" in added.output
    email = connection.execute(
        text("SELECT contact_email FROM organisations WHERE name = 'Liander'")
    ).scalar()
    assert email == "a@b.nl"

    listed = kip("orgs", "list")

    assert listed.exit_code == 0, listed.output
    header, *rows = listed.output.strip().splitlines()
    assert header.split() == ["id", "name", "kind", "works"]
    [row] = [r for r in rows if "Liander" in r]
    assert row.split()[-2:] == ["grid_operator", "0"]


def test_orgs_list_as_json(kip) -> None:
    kip("orgs", "add", "Vitens", "--kind", "water")
    kip("orgs", "add", "Gemeente Ede, groen", "--kind", "department")

    result = kip("orgs", "list", "--format", "json")

    assert result.exit_code == 0, result.output
    orgs = {o["name"]: o for o in json.loads(result.output)}
    assert orgs["Vitens"]["kind"] == "water"
    assert orgs["Gemeente Ede, groen"]["works"] == 0
    assert list(orgs) == sorted(orgs)


def test_orgs_list_counts_the_works(kip, make_work, make_org) -> None:
    org = make_org("Gemeente Ede, riolering")
    make_work(org)
    make_work(org, external_ref="R-2")

    result = kip("orgs", "list", "--format", "json")

    [listed] = [o for o in json.loads(result.output) if o["name"] == org.name]
    assert listed["works"] == 2


def test_orgs_list_when_there_are_none(kip, connection: Connection) -> None:
    # Whatever the shared test database holds, this transaction is rolled back.
    for table in ("work_changes", "dig_bans", "works", "organisations"):
        connection.execute(text(f"DELETE FROM {table}"))

    result = kip("orgs", "list")

    assert result.exit_code == 0
    assert "no organisations yet" in result.output


def test_an_unknown_kind_is_a_one_line_error(kip, connection: Connection) -> None:
    result = kip("orgs", "add", "Sportclub", "--kind", "club")

    assert_clean_failure(result, "unknown organisation kind 'club'")
    assert "grid_operator" in result.output
    assert connection.execute(text("SELECT count(*) FROM organisations")).scalar() == 0


@pytest.mark.parametrize("second", ["KPN", "kpn", "  KPN "])
def test_a_duplicate_name_is_a_one_line_error(kip, connection, second: str) -> None:
    assert kip("orgs", "add", "KPN", "--kind", "telecom").exit_code == 0

    result = kip("orgs", "add", second, "--kind", "telecom")

    assert_clean_failure(result, "already exists")
    count = connection.execute(text("SELECT count(*) FROM organisations")).scalar()
    assert count == 1


def test_a_blank_name_is_a_one_line_error(kip) -> None:
    assert_clean_failure(kip("orgs", "add", "   ", "--kind", "other"), "needs a name")


def test_a_missing_kind_is_a_usage_error(kip) -> None:
    result = kip("orgs", "add", "Enexis")

    assert result.exit_code == 2
    assert "--kind" in result.output


def test_db_check_says_models_and_migrations_agree(kip) -> None:
    result = kip("db", "check")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "models and migrations agree"


def test_db_status_reports_a_healthy_database(kip) -> None:
    result = kip("db", "status")

    assert result.exit_code == 0, result.output
    state = json.loads(result.output)
    assert state["reachable"] is True
    assert state["revision"] == migrate.head_revision()
    assert state["srid"] == 28992


def test_db_upgrade_on_a_migrated_database_keeps_it_at_head(kip) -> None:
    result = kip("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"database at revision {migrate.head_revision()}"


def test_db_downgrade_to_base_asks_first(kip, connection: Connection) -> None:
    result = kip("db", "downgrade", "base", input="n\n")

    assert result.exit_code == 1
    assert "deletes every KIP table" in result.output
    assert "Aborted" in result.output
    assert connection.execute(text("SELECT count(*) FROM disciplines")).scalar() == 12


def test_commands_without_a_database_fail_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: Flask
) -> None:
    # ``app`` first: the process has bound its SRID before this builds an app of its own.
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("KIP_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    result = CliRunner().invoke(main, ["orgs", "list"])

    assert_clean_failure(result, "no database configured")


def test_an_unreachable_database_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: Flask
) -> None:
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("KIP_DATABASE_URL", "postgresql://kip@127.0.0.1:1/kip")
    monkeypatch.setenv("KIP_DATABASE_CONNECT_TIMEOUT", "1")

    result = CliRunner().invoke(main, ["orgs", "list"])

    assert_clean_failure(result, "the database cannot be reached")
