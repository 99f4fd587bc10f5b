"""Bulk import on the real PostGIS: every format, idempotency, all or nothing, history."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely import Point
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from test_import_files import lonlat_point, plan_fields, rd_line, write_gis, zipped_shapefile

from kip.actors import Actor
from kip.db import bound_srid
from kip.errors import StaleVersion
from kip.geo import from_db
from kip.models import Role, Work, WorkChange
from kip.services import import_staging
from kip.services.imports import ImportRejected, ImportReport, ImportSettings, import_file
from kip.services.organisations import add_organisation
from kip.services.works import data_of, get_work, history, update_work

SETTINGS = ImportSettings(region_bbox=(3.2, 50.7, 7.3, 53.6), max_bytes=10_000_000)
ACTOR = Actor.system("import")


def run(session: Session, org: Any, path: Path | bytes, **kw: Any) -> ImportReport:
    return import_file(session, ACTOR, org.id, path, settings=SETTINGS, **kw)


def works_of(session: Session, org: Any) -> list[Work]:
    return list(
        session.execute(
            select(Work).where(Work.organisation_id == org.id).order_by(Work.external_ref)
        ).scalars()
    )


def gpkg(tmp_path: Path, n: int = 3, name: str = "plan.gpkg", **fields: Any) -> Path:
    return write_gis(tmp_path / name, [rd_line(i) for i in range(n)], plan_fields(n, **fields))


def test_geopackage_creates_works_with_history(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    report = run(session, org, gpkg(tmp_path))

    assert report.applied and report.counts()["create"] == 3
    works = works_of(session, org)
    assert [w.external_ref for w in works] == ["RIO-001", "RIO-002", "RIO-003"]
    first = works[0]
    assert (first.discipline_code, first.phase_code) == ("sewer", "planned")
    assert (first.start_date, first.end_date) == (date(2027, 3, 1), date(2027, 6, 30))
    assert from_db(first.geom).equals(rd_line(0))
    assert first.geom.srid == bound_srid()
    [change] = history(session, first)
    assert (change.action.value, change.version, change.actor) == ("create", 1, "system:import")
    assert change.changes["title"] == [None, "Vervangen riool 1"]
    assert change.changes["discipline_code"] == [None, "sewer"]
    assert change.changes["geom"][1].startswith("LINESTRING")
    assert sorted(report.changed_work_ids) == sorted(w.id for w in works)


def test_reimport_is_idempotent_and_updates_by_reference(
    session: Session, make_org, tmp_path
) -> None:
    org = make_org()
    run(session, org, gpkg(tmp_path))
    created = [history(session, w)[0].changes for w in works_of(session, org)]
    again = run(session, org, gpkg(tmp_path))
    assert again.counts()["unchanged"] == 3 and again.changed_work_ids == []

    newer = gpkg(
        tmp_path,
        name="newer.gpkg",
        titel=["Vervangen riool 1", "Riool en kolken", "Vervangen riool 3"],
        einddatum=["2027-06-30", "2027-09-30", "2027-06-30"],
    )
    report = run(session, org, newer)

    assert report.counts() | {"missing": 0} == {
        "create": 0,
        "update": 1,
        "restore": 0,
        "unchanged": 2,
        "error": 0,
        "missing": 0,
    }
    [updated] = [r for r in report.rows if r.action == "update"]
    assert (updated.row, sorted(updated.changed)) == (2, ["end_date", "title"])
    works = works_of(session, org)
    assert len(works) == 3
    assert (works[1].title, works[1].version) == ("Riool en kolken", 2)
    [change] = session.execute(
        select(WorkChange).where(WorkChange.work_id == works[1].id, WorkChange.version == 2)
    ).scalars()
    assert change.action.value == "update"
    assert change.changes == {
        "title": ["Vervangen riool 2", "Riool en kolken"],
        "end_date": ["2027-06-30", "2027-09-30"],
    }
    # the creation still shows what the first file gave
    assert [history(session, w)[0].changes for w in works] == created
    assert created[1]["title"] == [None, "Vervangen riool 2"]
    assert created[1]["end_date"] == [None, "2027-06-30"]


def test_a_geometry_moved_by_less_than_a_millimetre_is_neither_written_nor_recorded(
    session: Session, make_org, tmp_path
) -> None:
    """Within the tolerance a geometry is the same: a row updated for its title keeps its
    stored geometry exactly, so the history (which records no geometry change) still
    shows the geometry the work was created with."""
    org = make_org()
    run(session, org, gpkg(tmp_path, n=1))
    [work] = works_of(session, org)
    stored = from_db(work.geom)
    nudged = shapely.transform(rd_line(0), lambda xy: xy + 0.0004)
    newer = write_gis(
        tmp_path / "newer.gpkg", [nudged], plan_fields(1, titel=["Vervangen riool, fase 2"])
    )

    report = run(session, org, newer)

    assert [(r.action, r.changed) for r in report.rows] == [("update", ["title"])]
    session.expire_all()
    [work] = works_of(session, org)
    assert work.title == "Vervangen riool, fase 2"
    assert from_db(work.geom).equals_exact(stored, 0)
    assert history(session, work)[0].changes["geom"] == [None, stored.wkt]


def test_dry_run_writes_nothing(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    report = run(session, org, gpkg(tmp_path), dry_run=True)
    assert report.counts()["create"] == 3 and not report.applied
    assert works_of(session, org) == []
    assert session.execute(text("SELECT to_regclass('pg_temp.kip_import_stage')")).scalar() is None


def test_one_bad_row_means_nothing_is_written(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    path = gpkg(tmp_path, vakdiscipline=["riolering", "kernfusie", "riolering"])

    with pytest.raises(ImportRejected) as caught:
        run(session, org, path)

    assert works_of(session, org) == []
    assert gc.isenabled()  # paused while the rows were checked, switched on again
    report = caught.value.report
    [bad] = [r for r in report.rows if r.problems]
    assert (bad.row, bad.problems[0]["field"]) == (2, "discipline")
    assert "unknown discipline 'kernfusie'" in bad.problems[0]["message"]
    assert "row 2, discipline" in caught.value.message
    assert caught.value.status == 422 and caught.value.details["report"]["counts"]["error"] == 1


def test_cancel_missing(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    run(session, org, gpkg(tmp_path, n=3))
    shorter = gpkg(tmp_path, n=2, name="shorter.gpkg")

    reported = run(session, org, shorter)
    assert [m["external_ref"] for m in reported.missing] == ["RIO-003"]
    assert works_of(session, org)[2].phase_code == "planned"

    cancelled = run(session, org, shorter, cancel_missing=True)
    third = works_of(session, org)[2]
    assert (third.phase_code, third.version) == ("cancelled", 2)
    assert third.id in cancelled.changed_work_ids
    [change] = session.execute(
        select(WorkChange).where(WorkChange.work_id == third.id, WorkChange.version == 2)
    ).scalars()
    assert change.changes == {"phase_code": ["planned", "cancelled"]}
    assert history(session, third)[0].changes["phase_code"] == [None, "planned"]
    # a cancelled work is no longer "missing"
    assert run(session, org, shorter, dry_run=True).missing == []


def test_a_deleted_work_comes_back(session: Session, make_org, tmp_path) -> None:
    from kip.services.works import delete_work

    org = make_org()
    run(session, org, gpkg(tmp_path, n=1))
    [work] = works_of(session, org)
    delete_work(session, ACTOR, work, work.version)
    report = run(session, org, gpkg(tmp_path, n=1, name="again.gpkg"))
    assert report.rows[0].action == "restore"
    session.refresh(work)
    assert work.deleted_at is None and work.version == 3


def test_zipped_shapefile(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    report = run(session, org, zipped_shapefile(tmp_path))
    assert report.counts()["create"] == 3
    assert works_of(session, org)[0].discipline_code == "sewer"


def test_zipped_shapefile_without_prj_with_crs(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    report = run(session, org, zipped_shapefile(tmp_path, prj=False), crs="28992")
    assert report.counts()["create"] == 3
    assert report.crs == "EPSG:28992 (option)"


def test_kml_in_wgs84_is_reprojected(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("ignore: [titel]\n")  # the placemark's name is the title
    path = write_gis(
        tmp_path / "plan.kml",
        [lonlat_point(0)],
        {"Name": ["Glasvezel Ede"], **plan_fields(1, vakdiscipline=["glasvezel"])},
        crs="EPSG:4326",
        driver="KML",
    )
    report = run(session, org, path, mapping=mapping)
    assert report.counts()["create"] == 1, report.to_dict()
    [work] = works_of(session, org)
    assert (work.title, work.discipline_code) == ("Glasvezel Ede", "telecom")
    x, y = from_db(work.geom).coords[0]
    assert 173_000 < x < 175_000 and 449_000 < y < 451_000  # Ede in RD New


def test_csv_with_rd_xy_columns(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    path = tmp_path / "plan.csv"
    path.write_text(
        "kenmerk,titel,discipline,status,begin,eind,x,y,graaf,hinder,zichtbaarheid\n"
        "L-1,Lichtmast,openbare verlichting,ontwerp,2027-Q2,,174000,450000,ja,geen,openbaar\n"
    )
    report = run(session, org, path)
    assert report.counts()["create"] == 1, report.to_dict()
    [work] = works_of(session, org)
    assert (work.discipline_code, work.phase_code, work.precision.value) == (
        "lighting",
        "design",
        "quarter",
    )
    assert (work.start_date, work.end_date) == (date(2027, 4, 1), date(2027, 6, 30))
    assert work.excavation is True and work.visibility.value == "public"
    assert from_db(work.geom).equals(Point(174000, 450000))
    assert any("look like EPSG:28992" in w for w in report.warnings)


def test_csv_with_lon_lat_and_cp1252(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    path = tmp_path / "plan.csv"
    path.write_bytes(
        "kenmerk;titel;vakdiscipline;fase;startdatum;einddatum;lon;lat\n"
        "G-1;Gasleiding Café;gas;gepland;01-03-2027;2027-03;5,665;52,04\n".encode("cp1252")
    )
    report = run(session, org, path)
    assert report.counts()["create"] == 1, report.to_dict()
    [work] = works_of(session, org)
    assert work.title == "Gasleiding Café"
    assert (work.end_date, work.precision.value) == (date(2027, 3, 31), "month")
    assert any("cp1252" in w for w in report.warnings)


def test_geojson_upload_as_bytes_with_a_mapping(session: Session, make_org, tmp_path) -> None:
    org = make_org()
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n  external_ref: PROJNR\n  title: OMSCHR\n  discipline: SOORT\n"
        "values:\n  discipline:\n    K-LS: electricity\ndefaults:\n  phase: definitief\n"
        "  start_date: '2028'\n"
    )
    body = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"PROJNR": 77, "OMSCHR": "Kabel LS", "SOORT": "K-LS"}, '
        '"geometry": {"type": "Point", "coordinates": [5.665, 52.04]}}]}'
    )
    report = run(session, org, body.encode(), filename="upload.geojson", mapping=mapping)
    assert report.counts()["create"] == 1, report.to_dict()
    [work] = works_of(session, org)
    assert (work.external_ref, work.discipline_code, work.phase_code) == (
        "77",
        "electricity",
        "final",
    )
    assert (work.start_date, work.end_date, work.precision.value) == (
        date(2028, 1, 1),
        date(2028, 12, 31),
        "year",
    )


def test_imported_history_is_what_the_form_records(
    session: Session, make_org, make_work, tmp_path
) -> None:
    """A work created by a bulk import has the same creation history, field by field, as
    the same work created through the form or the API (one format for every way in)."""
    org = make_org()
    path = write_gis(
        tmp_path / "full.geojson",
        [rd_line(0)],
        {
            "kenmerk": ["RIO-001"],
            "titel": ["Vervangen riool 1"],
            "omschrijving": ["Riool en kolken, fase 2"],
            "vakdiscipline": ["riolering"],
            "fase": ["gepland"],
            "startdatum": ["2027-03-01"],
            "einddatum": ["2027-06-30"],
            "graafwerk": ["ja"],
            "budget": ["125000.50"],
            "contactpersoon": ["Anna de Vries"],
        },
    )
    report = run(session, org, path)
    [imported] = works_of(session, org)
    assert report.counts()["create"] == 1
    formed = make_work(
        title="Vervangen riool 1",
        description="Riool en kolken, fase 2",
        geometry=from_db(imported.geom),
        external_ref="RIO-001",
        excavation=True,
        budget=imported.budget,
        contact_name="Anna de Vries",
    )

    def created(work: Work) -> dict[str, Any]:
        [creation] = history(session, work)
        return creation.changes

    assert imported.budget is not None and imported.excavation
    assert created(imported) == created(formed)
    assert created(imported)["geom"] == [None, from_db(imported.geom).wkt]


def test_a_moved_work_has_its_geometry_change_in_the_history_as_the_form_writes_it(
    session: Session, make_org, tmp_path
) -> None:
    org = make_org()
    run(session, org, gpkg(tmp_path, n=2))
    before = {w.external_ref: from_db(w.geom) for w in works_of(session, org)}
    moved = write_gis(
        tmp_path / "moved.gpkg", [rd_line(0), rd_line(5)], plan_fields(2), driver="GPKG"
    )
    report = run(session, org, moved)

    [row] = [r for r in report.rows if r.action == "update"]
    assert (row.external_ref, row.changed) == ("RIO-002", ["geometry"])
    work = next(w for w in works_of(session, org) if w.external_ref == "RIO-002")
    [change] = session.execute(
        select(WorkChange).where(WorkChange.work_id == work.id, WorkChange.version == 2)
    ).scalars()
    assert change.changes == {"geom": [before["RIO-002"].wkt, from_db(work.geom).wkt]}
    assert from_db(work.geom).equals(rd_line(5))


def test_a_work_changed_by_someone_else_during_an_import_stops_it(
    committed_engine, tmp_path, monkeypatch
) -> None:
    """Two people, one work: a planner edits it in the form while a re-import of the plan
    is between reading it and writing it. The import answers StaleVersion and writes
    nothing at all; the planner's edit stands."""
    with Session(committed_engine) as setup:
        org = add_organisation(setup, Actor.system("test"), "Netbeheer Ede", "department")
        run(setup, org, gpkg(tmp_path, n=2))
        setup.commit()
        org_id = org.id
    planner = Actor(label="user:9", organisation_id=org_id, role=Role.PLANNER)
    newer = gpkg(tmp_path, n=2, name="newer.gpkg", titel=["Riool 1", "Riool 2"])

    really_apply = import_staging.apply_staged

    def someone_edits_first(session, *args, **kw):
        with Session(committed_engine) as form:
            [first] = form.execute(
                select(Work).where(Work.organisation_id == org_id, Work.external_ref == "RIO-001")
            ).scalars()
            update_work(form, planner, first, replace(data_of(first), phase="final"), 1)
            form.commit()
        return really_apply(session, *args, **kw)

    monkeypatch.setattr(import_staging, "apply_staged", someone_edits_first)
    with Session(committed_engine) as importer, pytest.raises(StaleVersion) as caught:
        import_file(importer, ACTOR, org_id, newer, settings=SETTINGS)
    assert caught.value.status == 409 and "changed by somebody else" in caught.value.message

    with Session(committed_engine) as check:
        works = works_of(check, org)
        assert [(w.title, w.phase_code, w.version) for w in works] == [
            ("Vervangen riool 1", "final", 2),
            ("Vervangen riool 2", "planned", 1),
        ]
        assert [e.actor for e in history(check, works[0])] == ["system:import", "user:9"]
        assert get_work(check, works[1].id).title == "Vervangen riool 2"
