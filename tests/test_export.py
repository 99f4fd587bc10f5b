"""Exports: filters, the four formats, and the round trip export → import = unchanged."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from shapely import LineString, Polygon
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from test_import import ACTOR, SETTINGS

from kip.actors import Actor
from kip.cli import main
from kip.errors import ValidationError
from kip.services.exports import WorkFilter, export_works
from kip.services.imports import import_file

SYSTEM = Actor.system("test")


@pytest.fixture
def plan(session: Session, make_org, make_work):
    org = make_org("Netbeheer")
    other = make_org("Groen")
    a = make_work(
        org,
        title="Kabel Stationsweg",
        discipline="electricity",
        external_ref="K-1",
        tags=["energietransitie"],
        budget=12500,
    )
    b = make_work(
        org,
        title="Kabel Bergstraat",
        discipline="electricity",
        external_ref="K-2",
        geometry=Polygon([(175000, 451000), (175050, 451000), (175050, 451050)]),
        start_date=date(2028, 1, 1),
        end_date=date(2028, 12, 31),
        precision="year",
    )
    c = make_work(
        other,
        title="Bomen planten",
        discipline="green",
        geometry=LineString([(160000, 440000), (160100, 440000)]),
    )
    return org, other, a, b, c


def test_filters(session: Session, plan) -> None:
    _org, _other, a, b, c = plan

    def ids(**kw) -> list[int]:
        data = export_works(session, SYSTEM, "geojson", WorkFilter.parse(**kw)).data
        return [f["properties"]["kip_id"] for f in json.loads(data)["features"]]

    mine = {a.id, b.id, c.id}
    assert set(ids()) >= mine
    assert set(ids(organisations=["Netbeheer"])) == {a.id, b.id}
    assert set(ids(disciplines=["green"])) & mine == {c.id}
    assert set(ids(start=date(2028, 6, 1), end=date(2028, 6, 2))) & mine == {b.id}
    assert set(ids(q="bergstraat")) & mine == {b.id}
    assert set(ids(bbox="5.60,52.0,5.70,52.1")) & mine == {a.id, b.id}  # Ede, not the trees
    with pytest.raises(ValidationError, match="bbox"):
        WorkFilter.parse(bbox="5,52,4")


def test_the_visibility_hook(session: Session, plan) -> None:
    from kip.models import Work

    _org, _other, a, _b, _c = plan
    result = export_works(session, SYSTEM, "csv", where=Work.id == a.id)
    assert result.count == 1


def test_geojson_is_wgs84(session: Session, plan) -> None:
    org, *_ = plan
    data = export_works(session, SYSTEM, "geojson", WorkFilter(organisations=[str(org.id)])).data
    features = json.loads(data)["features"]
    lon, lat = features[0]["geometry"]["coordinates"][0]
    assert 5.6 < lon < 5.7 and 52.0 < lat < 52.1
    props = features[0]["properties"]
    assert props["external_ref"] == "K-1" and props["tags"] == "energietransitie"


def test_csv_and_xlsx(session: Session, plan, tmp_path: Path) -> None:
    org, *_ = plan
    filters = WorkFilter(organisations=[org.name])
    rows = list(
        csv.DictReader(io.StringIO(export_works(session, SYSTEM, "csv", filters).data.decode()))
    )
    assert [r["external_ref"] for r in rows] == ["K-1", "K-2"]
    assert rows[0]["wkt"].startswith("LINESTRING (5.")
    assert rows[1]["precision"] == "year" and rows[0]["budget"] == "12500.0"

    path = tmp_path / "works.xlsx"
    path.write_bytes(export_works(session, SYSTEM, "xlsx", filters).data)
    sheet = load_workbook(path).active
    header, *values = list(sheet.values)
    assert header[-1] == "wkt" and len(values) == 2
    assert values[1][header.index("title")] == "Kabel Bergstraat"


@pytest.mark.parametrize(
    "fmt,suffix", [("gpkg", ".gpkg"), ("csv", ".csv"), ("geojson", ".geojson")]
)
def test_round_trip_reports_everything_unchanged(
    session: Session, plan, tmp_path: Path, fmt: str, suffix: str
) -> None:
    org, *_ = plan
    path = tmp_path / f"export{suffix}"
    path.write_bytes(export_works(session, SYSTEM, fmt, WorkFilter(organisations=[org.name])).data)
    report = import_file(session, ACTOR, org.id, path, settings=SETTINGS, dry_run=True)
    assert report.ok, report.to_dict()
    assert report.counts()["unchanged"] == 2, report.to_dict()
    assert "organisation" in report.ignored_columns


def test_a_csv_export_of_formula_like_text_imports_unchanged(
    session: Session, make_org, make_work, tmp_path: Path
) -> None:
    """The quote a CSV export puts before text a spreadsheet would run goes again on import
    (kip.io.formulas), also before text that starts with quotes of its own."""
    org = make_org("Formules")
    make_work(
        org,
        title="=SUM(1;2)",
        description="-- nog af te stemmen",
        contact_name="@team",
        contact_phone="+31 6 12345678",
        external_ref="+F-1",
        tags=["=energie"],
    )
    make_work(org, title="'=al geciteerd", external_ref="'-F-2")
    path = tmp_path / "export.csv"
    filters = WorkFilter(organisations=[org.name])
    path.write_bytes(export_works(session, SYSTEM, "csv", filters).data)
    assert "'+31 6 12345678" in path.read_text() and "''=al geciteerd" in path.read_text()

    report = import_file(session, ACTOR, org.id, path, settings=SETTINGS, dry_run=True)

    assert report.ok, report.to_dict()
    assert report.counts()["unchanged"] == 2, report.to_dict()


def test_a_control_character_does_not_stop_an_xlsx_export(
    session: Session, make_org, make_work, tmp_path: Path
) -> None:
    org = make_org("Plakwerk")
    make_work(org, title="Kabel", description="uit Word geplakt\x0bmet een verticale tab")
    data = export_works(session, SYSTEM, "xlsx", WorkFilter(organisations=[org.name])).data
    header, row = load_workbook(io.BytesIO(data)).active.values
    assert row[header.index("description")] == "uit Word geplakt\ufffdmet een verticale tab"


def test_cli_export(app: Flask, connection: Connection, plan, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "works.gpkg"
    result = runner.invoke(
        main, ["export", "--format", "gpkg", "--output", str(out), "--organisation", "Netbeheer"]
    )
    assert result.exit_code == 0, result.output
    assert "exported 2 works" in result.output and out.stat().st_size > 0
    streamed = runner.invoke(main, ["export", "--format", "geojson", "--discipline", "green"])
    assert streamed.exit_code == 0, streamed.output
    assert json.loads(streamed.stdout)["type"] == "FeatureCollection"
    bad = runner.invoke(main, ["export", "--format", "csv", "--bbox", "nonsense"])
    assert bad.exit_code == 1 and "Error: bbox: give four numbers" in bad.output
