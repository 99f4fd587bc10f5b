"""Bad input: each is refused with a message naming the row and field, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shapely import GeometryCollection, LineString, Point, Polygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_import import ACTOR, SETTINGS
from test_import_files import plan_fields, rd_line, write_gis

from kip.errors import ValidationError
from kip.io.readers import FileRefused
from kip.models import Work
from kip.services.imports import ImportRejected, ImportSettings, import_file


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Work)).scalar_one()


def rejected(session: Session, org: Any, path: Path, **kw: Any) -> list[tuple[int, str, str]]:
    """Import, expect a rejection, check nothing was written; return (row, field, message)."""
    before = count(session)
    with pytest.raises(ImportRejected) as caught:
        import_file(session, ACTOR, org.id, path, settings=SETTINGS, **kw)
    assert count(session) == before
    return [(r.row, p["field"], p["message"]) for r in caught.value.report.rows for p in r.problems]


def refused(session: Session, org: Any, path: Path, match: str, **kw: Any) -> None:
    before = count(session)
    with pytest.raises(ValidationError, match=match):
        import_file(session, ACTOR, org.id, path, settings=kw.pop("settings", SETTINGS), **kw)
    assert count(session) == before


def test_malformed_geojson(session: Session, make_org, tmp_path: Path) -> None:
    path = tmp_path / "plan.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    refused(session, make_org(), path, r"plan\.geojson cannot be read as GeoJSON")


def test_a_file_that_is_not_what_its_name_says(session: Session, make_org, tmp_path) -> None:
    path = tmp_path / "plan.gpkg"
    path.write_text("kenmerk,wkt\nA,POINT (1 2)\n")
    refused(session, make_org(), path, r"named as GeoPackage but holds text")
    fake_json = tmp_path / "plan.geojson"
    fake_json.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    refused(session, make_org(), fake_json, r"named as GeoJSON but holds a ZIP archive")


def test_an_empty_file(session: Session, make_org, tmp_path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("")
    refused(session, make_org(), path, r"plan\.csv is empty")


def test_a_geojson_without_features(session: Session, make_org, tmp_path) -> None:
    path = tmp_path / "plan.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    refused(session, make_org(), path, r"holds no features")


def test_over_the_size_limit(session: Session, make_org, tmp_path) -> None:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line()], plan_fields(1))
    small = ImportSettings(region_bbox=SETTINGS.region_bbox, max_bytes=1000)
    refused(session, make_org(), path, r"over the import limit.*IMPORT_MAX_BYTES", settings=small)


def test_an_unsupported_extension(session: Session, make_org, tmp_path) -> None:
    path = tmp_path / "plan.dwg"
    path.write_bytes(b"AC1032")
    refused(session, make_org(), path, r"cannot read \.dwg")


def test_shapefile_zip_without_prj(session: Session, make_org, tmp_path) -> None:
    from test_import_files import zipped_shapefile

    with pytest.raises(FileRefused, match=r"no \.prj"):
        import_file(
            session, ACTOR, make_org().id, zipped_shapefile(tmp_path, prj=False), settings=SETTINGS
        )


def test_a_zip_is_refused_as_soon_as_it_unpacks_past_the_limit(
    session: Session, make_org, tmp_path
) -> None:
    """What the members really unpack to is counted as they are unpacked: a small zip of
    a .dbf of 5 MB of zeros is refused under a limit of 4 × 1 MB."""
    import zipfile

    from test_import_files import zipped_shapefile

    archive = zipped_shapefile(tmp_path)
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members["werken.dbf"] = bytes(5_000_000)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    assert archive.stat().st_size < 100_000
    small = ImportSettings(region_bbox=SETTINGS.region_bbox, max_bytes=1_000_000)
    refused(
        session,
        make_org(),
        archive,
        r"werken\.zip unpacks to more than the import limit allows \(4 × IMPORT_MAX_BYTES\)",
        settings=small,
    )


def test_a_geojson_nested_1000_deep_is_a_row_without_geometry(
    session: Session, make_org, tmp_path
) -> None:
    """GDAL reads the file and leaves the geometry it cannot make empty: the row says so."""
    path = tmp_path / "plan.geojson"
    deep = "[" * 1000 + "]" * 1000
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"kenmerk": "A", "titel": "Riool", "vakdiscipline": "riolering", "fase": "gepland", '
        '"startdatum": "2027-03-01", "einddatum": "2027-06-30"}, "geometry": '
        f'{{"type": "LineString", "coordinates": {deep}}}}}]}}'
    )
    assert rejected(session, make_org(), path) == [(1, "geometry", "the row has no geometry")]


def test_outside_the_region_and_swapped(session: Session, make_org, tmp_path) -> None:
    path = write_gis(
        tmp_path / "plan.geojson",
        [Point(5.665, 52.04), Point(52.04, 5.665), Point(-73.98, 40.75)],
        plan_fields(3),
        crs="EPSG:4326",
        driver="GeoJSON",
    )
    problems = rejected(session, make_org(), path)
    assert [(row, f) for row, f, _ in problems] == [(2, "geometry"), (3, "geometry")]
    assert "latitude and longitude look swapped" in problems[0][2]
    assert "outside the region" in problems[1][2] and "lon -73.98" in problems[1][2]


def test_self_intersecting_polygon_is_refused(session: Session, make_org, tmp_path) -> None:
    bowtie = Polygon([(174000, 450000), (174100, 450100), (174100, 450000), (174000, 450100)])
    path = write_gis(tmp_path / "plan.gpkg", [rd_line(0), bowtie], plan_fields(2))
    [(row, field, message)] = rejected(session, make_org(), path)
    assert (row, field) == (2, "geometry")
    assert "not valid: Self-intersection" in message


def test_collection_empty_and_missing_geometries(session: Session, make_org, tmp_path) -> None:
    collection = GeometryCollection([Point(174000, 450000), rd_line()])
    path = write_gis(
        tmp_path / "plan.gpkg",
        [collection, LineString(), None, rd_line()],
        plan_fields(4),
    )
    problems = rejected(session, make_org(), path)
    assert [(row, f) for row, f, _ in problems] == [
        (1, "geometry"),
        (2, "geometry"),
        (3, "geometry"),
    ]
    assert "GeometryCollection cannot be stored" in problems[0][2]
    assert "empty" in problems[1][2]
    assert "no geometry" in problems[2][2]


def test_row_problems_name_row_and_field(session: Session, make_org, tmp_path) -> None:
    fields = plan_fields(
        5,
        kenmerk=["A", "B", "A", "D", "E"],
        titel=["Een", "", "Drie", "Vier", "Vijf"],
        fase=["gepland", "gepland", "gepland", "bijna", "gepland"],
        startdatum=["2027-03-01", "2027-03-01", "2027-03-01", "2027-03-01", "2027-07-01"],
        einddatum=["2027-06-30", "2027-06-30", "2027-06-30", "2027-06-30", "2027-06-30"],
    )
    path = write_gis(tmp_path / "plan.gpkg", [rd_line(i) for i in range(5)], fields)
    problems = {(row, f): m for row, f, m in rejected(session, make_org(), path)}
    assert problems[(1, "external_ref")] == "the external reference 'A' is also on row 3"
    assert problems[(3, "external_ref")] == "the external reference 'A' is also on row 1"
    assert problems[(2, "title")] == "the title is missing"
    assert problems[(4, "phase")].startswith("unknown phase 'bijna'; known: initiative")
    assert problems[(5, "end_date")] == "the end (2027-06-30) is before the start (2027-07-01)"


def test_a_missing_required_column(session: Session, make_org, tmp_path) -> None:
    fields = plan_fields(1)
    del fields["vakdiscipline"]
    path = write_gis(tmp_path / "plan.gpkg", [rd_line()], fields)
    refused(session, make_org(), path, r"no column for discipline.*mapping file")


def test_rows_without_external_reference(session: Session, make_org, tmp_path) -> None:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line()], plan_fields(1, kenmerk=[""]))
    [(row, field, message)] = rejected(session, make_org(), path)
    assert (row, field) == (1, "external_ref")
    assert message.startswith("the external reference is missing; KIP needs it")


def test_a_bad_date(session: Session, make_org, tmp_path) -> None:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line()], plan_fields(1, startdatum=["31-02-2027"]))
    [(row, field, message)] = rejected(session, make_org(), path)
    assert (row, field) == (1, "start_date") and "not an existing date" in message


def test_dry_run_reports_problems_without_raising(session: Session, make_org, tmp_path) -> None:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line()], plan_fields(1, fase=["bijna"]))
    report = import_file(session, ACTOR, make_org().id, path, settings=SETTINGS, dry_run=True)
    assert not report.ok and report.rows[0].action == "error"
    assert count(session) == 0
