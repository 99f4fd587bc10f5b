"""The demo town: what ``kip demo load`` puts in the database, and that it does so repeatably.

Most checks read one loaded demo: a database of its own for this module (made with the test
run's throwaway server), loaded once and committed, so the read-only tests need not load the
demo each. The tests that load again (idempotency, the command line) do so on the usual
rolled-back connection.
"""

from __future__ import annotations

import calendar
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from datetime import date

import pytest
import shapely
from flask import Flask
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from kip import geo, migrate
from kip.actors import Actor
from kip.db import bound_srid, database
from kip.demo import build_plan, load_demo
from kip.demo.town import SOURCE_SRID
from kip.models import DigBan, Organisation, Street, Work, WorkChange
from kip.services.works import WorkData, update_work

WINDOW = (date(2026, 1, 1), date(2032, 12, 31))
GEOMETRY_TYPES = {"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON"}

# Live works only: cancelled and completed works take no part in the overlap engine.
LIVE = "pa.takes_part AND pb.takes_part AND a.deleted_at IS NULL AND b.deleted_at IS NULL"
PAIRS = """
    SELECT count(*) FROM works a
    JOIN works b ON a.id < b.id AND ST_DWithin(a.geom, b.geom, :metres)
    JOIN phases pa ON pa.code = a.phase_code
    JOIN phases pb ON pb.code = b.phase_code
    WHERE {live} AND {condition}
"""


@pytest.fixture(scope="module")
def demo_engine(app: Flask, throwaway) -> Iterator[Engine]:
    """A migrated database of its own, with the demo loaded and committed."""
    url = throwaway.create("kip_demo")
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, bound_srid())
        # Hashing the demo accounts' passwords at the app's (the tests') cost.
        with Session(engine, info=database(app).session_info) as session:
            load_demo(session, Actor.system("demo"))
            session.commit()
        yield engine
    finally:
        engine.dispose()
        throwaway.drop(url)


@pytest.fixture
def demo(demo_engine: Engine) -> Iterator[Session]:
    with Session(demo_engine) as session:
        yield session
        session.rollback()


def _count(session: Session, sql: str, **params) -> int:
    return session.execute(text(sql), params).scalar_one()


def _column(session: Session, sql: str) -> set:
    return set(session.execute(text(sql)).scalars())


# -- what the load puts in the database --------------------------------------------------


def test_every_discipline_phase_geometry_and_visibility_is_present(demo: Session) -> None:
    assert _count(demo, "SELECT count(*) FROM works") >= 600
    assert _column(demo, "SELECT DISTINCT discipline_code FROM works") == _column(
        demo, "SELECT code FROM disciplines"
    )
    assert _column(demo, "SELECT DISTINCT phase_code FROM works") == _column(
        demo, "SELECT code FROM phases"
    )
    assert _column(demo, "SELECT DISTINCT GeometryType(geom) FROM works") == GEOMETRY_TYPES
    assert _column(demo, "SELECT DISTINCT visibility FROM works") == {
        "public",
        "partners",
        "confidential",
    }
    assert _column(demo, "SELECT DISTINCT precision FROM works") == {
        "day",
        "month",
        "quarter",
        "year",
    }
    assert _column(demo, "SELECT DISTINCT traffic_impact FROM works") == {"none", "lane", "closure"}
    assert _column(demo, "SELECT DISTINCT excavation FROM works") == {True, False}


def test_works_have_references_contacts_budgets_and_tags(demo: Session) -> None:
    works = demo.execute(select(Work)).scalars().all()
    refs = [(w.organisation_id, w.external_ref) for w in works]
    assert len(set(refs)) == len(works)
    assert all(re.fullmatch(r"DEMO-[A-Z]{3}-\d{4}", w.external_ref or "") for w in works)
    assert all(w.contact_name and w.contact_email.endswith(".example") for w in works)
    budgets = [w.budget for w in works if w.budget is not None]
    assert 0 < len(budgets) < len(works)
    assert all(b > 0 for b in budgets)
    tags = {t for w in works for t in w.tags}
    assert {"energietransitie", "klimaatadaptatie", "wijkvernieuwing"} <= tags
    assert all(w.version == 1 and w.deleted_at is None for w in works)


def test_periods_lie_in_the_window_and_fit_their_precision(demo: Session) -> None:
    rows = demo.execute(select(Work.precision, Work.start_date, Work.end_date)).all()
    for precision, start, end in rows:
        assert WINDOW[0] <= start <= end <= WINDOW[1]
        last_day = calendar.monthrange(end.year, end.month)[1]
        if precision == "month":
            assert start.day == 1 and end.day == last_day
        elif precision == "quarter":
            assert start.day == 1 and start.month in (1, 4, 7, 10)
            assert end.day == last_day and end.month in (3, 6, 9, 12)
        elif precision == "year":
            assert (start.month, start.day, end.month, end.day) == (1, 1, 12, 31)


def test_organisations_of_every_kind(demo: Session) -> None:
    orgs = demo.execute(select(Organisation)).scalars().all()
    kinds = [o.kind.value for o in orgs]
    assert kinds.count("department") >= 5
    assert {"grid_operator", "water", "telecom", "housing_corporation"} <= set(kinds)
    names = {o.name for o in orgs}
    assert {"Gemeente Ede – Riolering", "Gemeente Ede – Wegen"} <= names
    assert all(o.contact_email for o in orgs)


def test_streets_and_dig_bans(demo: Session) -> None:
    streets = demo.execute(select(Street)).scalars().all()
    assert 150 <= len(streets) <= 300
    assert {s.source for s in streets} == {"demo"}
    assert len({s.name for s in streets}) == len(streets)
    assert _column(demo, "SELECT DISTINCT GeometryType(geom) FROM streets") == {"MULTILINESTRING"}
    bans = demo.execute(select(DigBan)).scalars().all()
    assert 4 <= len(bans) <= 8
    roads = demo.execute(
        select(Organisation).where(Organisation.name == "Gemeente Ede – Wegen")
    ).scalar_one()
    assert {b.organisation_id for b in bans} == {roads.id}
    assert all(b.source_work_id is not None for b in bans)
    assert all(1090 <= b.days <= 1100 for b in bans)  # three years
    assert _column(demo, "SELECT DISTINCT GeometryType(geom) FROM dig_bans") <= {
        "POLYGON",
        "MULTIPOLYGON",
    }


def test_geometries_are_valid_in_the_project_crs_and_in_ede(demo: Session) -> None:
    srid = bound_srid()
    for table in ("works", "streets", "dig_bans"):
        assert _count(demo, f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom)") == 0
        assert _column(demo, f"SELECT DISTINCT ST_SRID(geom) FROM {table}") == {srid}
    lon, lat = demo.execute(
        text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_Centroid(ST_Collect(geom)), "
            "4326) AS c FROM streets) AS centre"
        )
    ).one()
    assert abs(lon - 5.6656) < 0.02 and abs(lat - 52.0406) < 0.02
    # Works lie along the streets: none is further than 30 m from one.
    far = _count(
        demo,
        "SELECT count(*) FROM works w WHERE NOT EXISTS "
        "(SELECT 1 FROM streets s WHERE ST_DWithin(w.geom, s.geom, 30))",
    )
    assert far == 0


# -- coincidences for the overlap engine -------------------------------------------------


def test_many_works_of_different_organisations_meet_in_space_and_time(demo: Session) -> None:
    near = PAIRS.format(
        live=LIVE,
        condition="a.organisation_id <> b.organisation_id AND "
        "GREATEST(a.start_date, b.start_date) - LEAST(a.end_date, b.end_date) <= 730",
    )
    assert _count(demo, near, metres=25) > 300
    dig_once = PAIRS.format(
        live=LIVE,
        condition="a.excavation AND b.excavation AND "
        "GREATEST(a.start_date, b.start_date) - LEAST(a.end_date, b.end_date) <= 730",
    )
    assert _count(demo, dig_once, metres=25) > 200


def test_closures_clash_in_the_same_weeks(demo: Session) -> None:
    closures = PAIRS.format(
        live=LIVE,
        condition="a.organisation_id <> b.organisation_id AND a.period && b.period AND "
        "a.traffic_impact = 'closure' AND b.traffic_impact = 'closure'",
    )
    assert _count(demo, closures, metres=50) >= 15


def test_reconstruction_programmes_gather_partners(demo: Session) -> None:
    """Most street redesigns have two or more other parties digging there within two years."""
    gathered = _count(
        demo,
        """
        SELECT count(*) FROM works r
        WHERE r.discipline_code = 'road' AND 'wijkvernieuwing' = ANY (r.tags) AND (
            SELECT count(DISTINCT o.organisation_id) FROM works o
            WHERE o.organisation_id <> r.organisation_id AND o.excavation
              AND ST_DWithin(o.geom, r.geom, 25)
              AND o.start_date BETWEEN r.start_date - 730 AND r.end_date
        ) >= 2
        """,
    )
    assert gathered >= 30


def test_some_works_dig_inside_a_dig_ban(demo: Session) -> None:
    violations = demo.execute(
        text(
            """
            SELECT count(*), count(DISTINCT d.id) FROM works w
            JOIN dig_bans d ON ST_Intersects(w.geom, d.geom) AND w.period && d.period
            JOIN phases p ON p.code = w.phase_code
            WHERE w.excavation AND p.takes_part AND w.deleted_at IS NULL
            """
        )
    ).one()
    assert violations[0] >= 5
    assert violations[1] >= 3


def test_the_load_stores_the_violations_of_its_dig_bans(demo: Session) -> None:
    """The works are saved before the bans; the load still finds every work digging in one."""
    inside = demo.execute(
        text(
            """
            SELECT w.id, d.id FROM works w
            JOIN dig_bans d ON ST_Intersects(w.geom, d.geom) AND w.period && d.period
            JOIN phases p ON p.code = w.phase_code
            WHERE w.excavation AND p.takes_part AND w.deleted_at IS NULL
            """
        )
    ).all()
    stored = demo.execute(
        text("SELECT work_a_id, dig_ban_id FROM clashes WHERE dig_ban_id IS NOT NULL")
    ).all()
    assert len(inside) >= 5 and {tuple(r) for r in stored} == {tuple(r) for r in inside}


# -- repeatable ----------------------------------------------------------------------------


def test_the_database_holds_exactly_a_fresh_generation(demo: Session) -> None:
    """Every field of every work, street and ban is what a new generation in memory gives."""
    plan = build_plan()
    srid = bound_srid()
    columns = {"discipline": "discipline_code", "phase": "phase_code", "geometry": "geom"}
    names = [f.name for f in fields(WorkData)]

    def wkb(value) -> str:
        """A geometry, shapely's or as the database returns it, as hexadecimal WKB."""
        shape = value if isinstance(value, BaseGeometry) else geo.from_db(value)
        return shapely.to_wkb(shape, byte_order=1, hex=True)

    def projected(shape: BaseGeometry) -> str:
        return wkb(geo.reproject(shape, SOURCE_SRID, srid))

    def row(organisation: str, values: dict) -> dict:
        return {"organisation": organisation, **values, "geometry": wkb(values["geometry"])}

    org_names = {o.key: o.name for o in plan.organisations}
    expected = {w.ref: row(org_names[w.organisation], vars(w.work_data(srid))) for w in plan.works}
    stored = {
        w.external_ref: row(w.organisation.name, {n: getattr(w, columns.get(n, n)) for n in names})
        for w in demo.scalars(select(Work))
    }
    assert stored == expected

    streets = {s.source_ref: (s.name, wkb(s.geom)) for s in demo.scalars(select(Street))}
    assert streets == {s.ref: (s.name, projected(s.geom)) for s in plan.town.streets}
    bans = {
        b.external_ref: (b.title, b.start_date, b.end_date, wkb(b.geom))
        for b in demo.scalars(select(DigBan))
    }
    assert bans == {
        b.ref: (b.title, b.start_date, b.end_date, projected(b.geometry)) for b in plan.dig_bans
    }


def test_the_plan_is_the_same_in_every_process() -> None:
    """No set order, hash seed or clock leaks into the plan: other processes agree."""
    here = build_plan().fingerprint()
    code = "from kip.demo import build_plan; print(build_plan().fingerprint())"
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here
    assert build_plan("another seed").fingerprint() != here


def test_reprojection_keeps_longitude_first() -> None:
    work = build_plan().works[0]
    shape = work.work_data(4326).geometry
    assert shape.geom_type == work.data.geometry.geom_type and shape.is_valid
    lon, lat = shape.centroid.x, shape.centroid.y
    assert 5.62 < lon < 5.71 and 52.01 < lat < 52.07
    assert work.work_data(SOURCE_SRID).geometry.equals(work.data.geometry)


def test_loading_twice_changes_nothing_and_a_third_load_repairs(
    session: Session, actor: Actor
) -> None:
    first = load_demo(session, actor)
    assert first.works.created >= 600 and first.works.updated == first.works.unchanged == 0

    def counts() -> tuple[int, ...]:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Organisation, Street, Work, WorkChange, DigBan)
        )

    before = counts()
    session.expire_all()  # compare against what the database holds, not the session
    second = load_demo(session, actor)
    assert not second.changed
    assert second.works.unchanged == first.works.created
    assert second.streets.unchanged == first.streets.created
    assert second.dig_bans.unchanged == first.dig_bans.created
    assert second.organisations.unchanged == first.organisations.created
    assert counts() == before
    assert "nothing changed" in second.summary()

    # Somebody edits a work, renames a street and shortens a ban; the next load restores them.
    work = session.execute(select(Work).where(Work.external_ref == "DEMO-SEW-0001")).scalar_one()
    data = next(w for w in build_plan().works if w.ref == "DEMO-SEW-0001").work_data(bound_srid())
    title = data.title
    data.title = "Iets anders"
    update_work(session, actor, work, data, expected_version=work.version)
    street = session.execute(
        select(Street).where(Street.source_ref == "DEMO-STR-0001")
    ).scalar_one()
    street.name = "Hernoemd"
    ban = session.execute(select(DigBan).where(DigBan.external_ref == "DEMO-BAN-01")).scalar_one()
    ban.end_date = ban.start_date
    session.flush()
    session.expire_all()
    third = load_demo(session, actor)
    assert (third.works.updated, third.streets.updated, third.dig_bans.updated) == (1, 1, 1)
    assert third.works.created == third.streets.created == third.dig_bans.created == 0
    assert work.title == title and work.version == 3
    assert street.name != "Hernoemd" and ban.days > 1000
    assert counts()[3] == before[3] + 2  # the edit and the repair, both in the history


def test_cli_demo_load(app: Flask, connection: Connection) -> None:
    from kip.cli import main

    runner = app.test_cli_runner()
    result = runner.invoke(main, ["demo", "load"])
    assert result.exit_code == 0, result.output
    created = re.search(r"works\s+(\d+) created", result.output)
    assert created and int(created.group(1)) >= 600
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        assert session.execute(select(func.count()).select_from(Work)).scalar_one() >= 600
    again = runner.invoke(main, ["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert re.search(r"works\s+0 created,\s+0 updated", again.output)
