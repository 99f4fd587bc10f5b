"""`kip import` through Flask's CLI runner; the ``connection`` fixture rolls every write back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import Connection, text
from test_import_files import plan_fields, rd_line, write_gis

from kip.cli import main


@pytest.fixture
def kip(app: Flask, connection: Connection):
    runner = app.test_cli_runner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args))

    return run


@pytest.fixture
def org(kip) -> str:
    assert kip("orgs", "add", "Riolering Ede", "--kind", "department").exit_code == 0
    return "Riolering Ede"


def imported(connection: Connection) -> list[tuple]:
    return connection.execute(
        text(
            "SELECT w.external_ref, w.version FROM works w JOIN organisations o "
            "ON o.id = w.organisation_id WHERE o.name = 'Riolering Ede' ORDER BY 1"
        )
    ).all()


def test_import_table_then_again_unchanged(kip, org, connection, tmp_path: Path) -> None:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line(0), rd_line(1)], plan_fields(2))

    first = kip("import", str(path), "--org", org)
    assert first.exit_code == 0, first.output
    assert "2 created, 0 updated, 0 unchanged" in first.output
    assert imported(connection) == [("RIO-001", 1), ("RIO-002", 1)]
    history = connection.execute(
        text("SELECT count(*) FROM work_changes WHERE actor = 'system:import'")
    ).scalar()
    assert history == 2

    again = kip("import", str(path), "--org", org, "--format", "json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout[again.stdout.index("{") :])
    assert report["counts"]["unchanged"] == 2 and report["applied"] is True
    assert imported(connection) == [("RIO-001", 1), ("RIO-002", 1)]


def test_dry_run_writes_nothing(kip, org, connection, tmp_path: Path) -> None:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line(0)], plan_fields(1))
    result = kip("import", str(path), "--org", org, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "1 to create" in result.output
    assert imported(connection) == []


def test_a_bad_row_exits_non_zero_and_names_row_and_field(kip, org, connection, tmp_path):
    path = write_gis(
        tmp_path / "plan.gpkg",
        [rd_line(0), rd_line(1)],
        plan_fields(2, einddatum=["2027-06-30", "2027-01-01"]),
    )
    result = kip("import", str(path), "--org", org)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = [ln for ln in result.output.splitlines() if "RIO-002" in ln]
    assert "error" in line and "end_date: the end (2027-01-01) is before the start" in line
    assert "Error: nothing was imported" in result.output
    assert imported(connection) == []


def test_a_refused_file_is_one_line(kip, org, tmp_path: Path) -> None:
    path = tmp_path / "plan.geojson"
    path.write_text("{ not json")
    result = kip("import", str(path), "--org", org)
    assert result.exit_code == 1
    assert "Error: plan.geojson cannot be read as GeoJSON" in result.output
    assert "Traceback" not in result.output


def test_cancel_missing(kip, org, connection, tmp_path: Path) -> None:
    full = write_gis(tmp_path / "full.gpkg", [rd_line(0), rd_line(1)], plan_fields(2))
    short = write_gis(tmp_path / "short.gpkg", [rd_line(0)], plan_fields(1))
    assert kip("import", str(full), "--org", org).exit_code == 0

    result = kip("import", str(short), "--org", org, "--cancel-missing")
    assert result.exit_code == 0, result.output
    assert "RIO-002" in result.output and "cancelled" in result.output
    phase = connection.execute(
        text("SELECT phase_code FROM works WHERE external_ref = 'RIO-002'")
    ).scalar()
    assert phase == "cancelled"


def test_unknown_organisation(kip, tmp_path: Path) -> None:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line(0)], plan_fields(1))
    result = kip("import", str(path), "--org", "Nobody")
    assert result.exit_code == 1 and "no organisation 'Nobody'" in result.output


def test_rows_with_the_same_outcome_are_one_line(kip, org, connection, tmp_path) -> None:
    ends = ["2027-06-30"] * 30
    ends[11] = "2027-01-01"  # row 12 ends before it starts
    path = write_gis(
        tmp_path / "plan.gpkg", [rd_line(i) for i in range(30)], plan_fields(30, einddatum=ends)
    )

    result = kip("import", str(path), "--org", org, "--dry-run")

    lines = result.output.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.strip().startswith("row"))
    table = lines[header + 1 : header + 4]
    assert "1-11" in table[0] and "RIO-001…RIO-011" in table[0] and "create" in table[0]
    assert "12" in table[1] and "end_date: the end (2027-01-01)" in table[1]
    assert "13-30" in table[2] and "18 rows" in table[2]
    assert "29 to create" in lines[header + 4]
