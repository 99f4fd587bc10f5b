"""The schema's own rules: the database refuses bad works and dig bans by itself.

The services validate first; these tests go around them (raw SQL, or the ORM without the
service) to prove that the database would still refuse the row. Every test runs in the
rolled-back ``connection``; each refused statement runs in a savepoint of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely import LineString, Point
from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from kip.models import DigBan, Organisation, OrganisationKind, Work

SRID = 28992
LINE = "SRID=28992;LINESTRING(174000 450000, 174100 450000)"
SQUARE = (
    "SRID=28992;POLYGON((174000 450000, 174100 450000, 174100 450100, 174000 450100, "
    "174000 450000))"
)
# Two triangles touching at one point: a self-intersecting ring.
BOWTIE = (
    "SRID=28992;POLYGON((174000 450000, 174100 450100, 174100 450000, 174000 450100, "
    "174000 450000))"
)
IN_WGS84 = "SRID=4326;POINT(5.6656 52.0406)"


@contextmanager
def refused(
    conn: Connection, constraint: str | None = None, error: type[DBAPIError] = IntegrityError
) -> Iterator[pytest.ExceptionInfo]:
    """Expect the database to refuse what the block does, naming ``constraint`` if given."""
    with pytest.raises(error) as caught, conn.begin_nested():
        yield caught
    if constraint is not None:
        assert caught.value.orig.diag.constraint_name == constraint


def add_org(conn: Connection, name: str = "Gemeente Ede, riolering") -> int:
    return conn.execute(
        text("INSERT INTO organisations (name, kind) VALUES (:name, 'department') RETURNING id"),
        {"name": name},
    ).scalar_one()


def insert_work(conn: Connection, organisation_id: int, **values: Any) -> int:
    row = {
        "organisation_id": organisation_id,
        "title": "Vervangen riolering Stationsweg",
        "discipline_code": "sewer",
        "phase_code": "planned",
        "geom": LINE,
        "start_date": date(2027, 3, 1),
        "end_date": date(2027, 6, 30),
        "external_ref": None,
        "budget": None,
        **values,
    }
    columns = ", ".join(row)
    params = ", ".join("ST_GeomFromEWKT(:geom)" if c == "geom" else f":{c}" for c in row)
    return conn.execute(
        text(f"INSERT INTO works ({columns}) VALUES ({params}) RETURNING id"), row
    ).scalar_one()


def insert_dig_ban(conn: Connection, organisation_id: int, **values: Any) -> int:
    row = {
        "organisation_id": organisation_id,
        "title": "Nieuw asfalt Stationsweg",
        "geom": SQUARE,
        "start_date": date(2027, 7, 1),
        "end_date": date(2030, 6, 30),
        "external_ref": None,
        **values,
    }
    columns = ", ".join(row)
    params = ", ".join("ST_GeomFromEWKT(:geom)" if c == "geom" else f":{c}" for c in row)
    return conn.execute(
        text(f"INSERT INTO dig_bans ({columns}) VALUES ({params}) RETURNING id"), row
    ).scalar_one()


@pytest.fixture
def org_id(connection: Connection) -> int:
    return add_org(connection)


# -- works: the period --------------------------------------------------------------------


def test_a_valid_work_is_accepted(connection: Connection, org_id: int) -> None:
    work_id = insert_work(connection, org_id, budget=125000)

    row = connection.execute(
        text("SELECT version, visibility, ST_SRID(geom) AS srid FROM works WHERE id = :id"),
        {"id": work_id},
    ).one()
    assert row.version == 1
    assert row.visibility == "partners"
    assert row.srid == SRID


def test_end_before_start_is_refused_by_the_database(connection: Connection, org_id: int) -> None:
    with refused(connection, "ck_works_period_ordered"):
        insert_work(connection, org_id, start_date=date(2027, 6, 1), end_date=date(2027, 5, 31))


def test_end_before_start_is_refused_through_the_orm_too(session: Session) -> None:
    org = Organisation(name="Stedin", kind=OrganisationKind.GRID_OPERATOR)
    session.add(org)
    session.flush()
    work = Work(
        organisation_id=org.id,
        title="Verzwaren middenspanning",
        discipline_code="electricity",
        phase_code="design",
        geom=from_shape(LineString([(0, 0), (10, 0)]), srid=SRID),
        start_date=date(2028, 1, 10),
        end_date=date(2028, 1, 9),
    )
    session.add(work)

    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        session.flush()

    assert caught.value.orig.diag.constraint_name == "ck_works_period_ordered"


def test_a_one_day_work_is_allowed(connection: Connection, org_id: int) -> None:
    day = date(2027, 4, 1)
    work_id = insert_work(connection, org_id, start_date=day, end_date=day)

    assert connection.execute(
        text("SELECT period @> CAST(:day AS date) FROM works WHERE id = :id"),
        {"day": day, "id": work_id},
    ).scalar()


def test_period_is_the_inclusive_range_of_the_dates(connection: Connection, org_id: int) -> None:
    start, end = date(2027, 3, 1), date(2027, 6, 30)
    work_id = insert_work(connection, org_id, start_date=start, end_date=end)

    row = connection.execute(
        text(
            "SELECT lower(period) AS lo, upper(period) AS hi, "
            "lower_inc(period) AS lo_inc, upper_inc(period) AS hi_inc, "
            "period @> CAST(:end AS date) AS has_end, "
            "period @> CAST(:after AS date) AS has_after "
            "FROM works WHERE id = :id"
        ),
        {"id": work_id, "end": end, "after": end + timedelta(days=1)},
    ).one()
    assert row.lo == start
    assert row.hi == end + timedelta(days=1)  # canonical form [start, end + 1)
    assert (row.lo_inc, row.hi_inc) == (True, False)
    assert row.has_end is True
    assert row.has_after is False


def test_period_follows_the_dates_when_they_change(connection: Connection, org_id: int) -> None:
    work_id = insert_work(connection, org_id)

    connection.execute(
        text("UPDATE works SET end_date = '2027-12-31' WHERE id = :id"), {"id": work_id}
    )

    upper = connection.execute(
        text("SELECT upper(period) FROM works WHERE id = :id"), {"id": work_id}
    ).scalar()
    assert upper == date(2028, 1, 1)


def test_period_cannot_be_written(connection: Connection, org_id: int) -> None:
    work_id = insert_work(connection, org_id)

    with refused(connection, error=ProgrammingError) as caught:
        connection.execute(
            text("UPDATE works SET period = daterange('2020-01-01', '2020-02-01') WHERE id = :id"),
            {"id": work_id},
        )

    assert "generated column" in str(caught.value.orig)


def test_period_loads_as_a_range_in_the_orm(session: Session, make_work) -> None:
    work = make_work(start_date=date(2027, 3, 1), end_date=date(2027, 3, 31))
    session.refresh(work)

    assert work.period == Range(date(2027, 3, 1), date(2027, 4, 1), bounds="[)")
    assert work.days == 31


# -- works: the geometry ------------------------------------------------------------------


def test_a_geometry_in_another_crs_is_refused(connection: Connection, org_id: int) -> None:
    with refused(connection, error=DataError) as caught:
        insert_work(connection, org_id, geom=IN_WGS84)

    assert "SRID (4326) does not match column SRID (28992)" in str(caught.value.orig)


def test_a_geometry_in_another_crs_is_refused_through_the_orm_too(session: Session) -> None:
    org = Organisation(name="Vitens", kind=OrganisationKind.WATER)
    session.add(org)
    session.flush()
    session.add(
        Work(
            organisation_id=org.id,
            title="Vervangen waterleiding",
            discipline_code="water",
            phase_code="planned",
            geom=from_shape(Point(5.6656, 52.0406), srid=4326),
            start_date=date(2027, 1, 1),
            end_date=date(2027, 2, 1),
        )
    )

    with pytest.raises(DataError, match=r"SRID \(4326\) does not match"), session.begin_nested():
        session.flush()


@pytest.mark.parametrize(
    ("geom", "constraint"),
    [
        ("SRID=28992;POINT EMPTY", "ck_works_geom_not_empty"),
        ("SRID=28992;LINESTRING EMPTY", "ck_works_geom_not_empty"),
        (BOWTIE, "ck_works_geom_valid"),
        (
            "SRID=28992;GEOMETRYCOLLECTION(POINT(174000 450000), "
            "LINESTRING(174000 450000, 174100 450000))",
            "ck_works_geom_type",
        ),
    ],
    ids=["empty-point", "empty-line", "self-intersecting-polygon", "geometrycollection"],
)
def test_unusable_geometries_are_refused(
    connection: Connection, org_id: int, geom: str, constraint: str
) -> None:
    with refused(connection, constraint):
        insert_work(connection, org_id, geom=geom)


@pytest.mark.parametrize(
    "geom",
    [
        "SRID=28992;POINT(174000 450000)",
        LINE,
        SQUARE,
        "SRID=28992;MULTIPOINT((174000 450000), (174010 450000))",
        "SRID=28992;MULTILINESTRING((174000 450000, 174100 450000), (0 0, 10 0))",
        "SRID=28992;MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
    ],
)
def test_points_lines_and_polygons_are_accepted(
    connection: Connection, org_id: int, geom: str
) -> None:
    work_id = insert_work(connection, org_id, geom=geom)

    stored = connection.execute(
        text("SELECT ST_AsEWKT(geom) FROM works WHERE id = :id"), {"id": work_id}
    ).scalar()
    assert stored.startswith("SRID=28992;" + geom.split(";")[1].split("(")[0])


# -- works: references, lists, amounts ----------------------------------------------------


def test_a_duplicate_external_reference_is_refused(connection: Connection, org_id: int) -> None:
    insert_work(connection, org_id, external_ref="RIO-2027-014")

    with refused(connection, "uq_works_organisation_id_external_ref"):
        insert_work(connection, org_id, external_ref="RIO-2027-014", title="Tweede keer")


def test_works_without_external_reference_do_not_clash(connection: Connection, org_id: int) -> None:
    insert_work(connection, org_id, external_ref=None)
    insert_work(connection, org_id, external_ref=None)

    count = connection.execute(
        text("SELECT count(*) FROM works WHERE organisation_id = :o AND external_ref IS NULL"),
        {"o": org_id},
    ).scalar()
    assert count == 2


def test_the_same_external_reference_in_two_organisations_is_fine(
    connection: Connection, org_id: int
) -> None:
    other = add_org(connection, "Liander")
    insert_work(connection, org_id, external_ref="2027-001")
    insert_work(connection, other, external_ref="2027-001")

    count = connection.execute(
        text("SELECT count(DISTINCT organisation_id) FROM works WHERE external_ref = '2027-001'")
    ).scalar()
    assert count == 2


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("discipline_code", "hydrogen", "fk_works_discipline_code_disciplines"),
        ("phase_code", "dreaming", "fk_works_phase_code_phases"),
    ],
)
def test_unknown_reference_codes_are_refused(
    connection: Connection, org_id: int, column: str, value: str, constraint: str
) -> None:
    with refused(connection, constraint):
        insert_work(connection, org_id, **{column: value})


def test_an_unknown_organisation_is_refused(connection: Connection) -> None:
    with refused(connection, "fk_works_organisation_id_organisations"):
        insert_work(connection, -1)


def test_a_negative_budget_is_refused(connection: Connection, org_id: int) -> None:
    with refused(connection, "ck_works_budget_not_negative"):
        insert_work(connection, org_id, budget=-0.01)


def test_zero_budget_is_allowed(connection: Connection, org_id: int) -> None:
    work_id = insert_work(connection, org_id, budget=0)

    assert connection.execute(
        text("SELECT budget = 0 FROM works WHERE id = :id"), {"id": work_id}
    ).scalar()


@pytest.mark.parametrize("title", ["", "   "])
def test_a_blank_title_is_refused(connection: Connection, org_id: int, title: str) -> None:
    with refused(connection, "ck_works_title_not_blank"):
        insert_work(connection, org_id, title=title)


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("traffic_impact", "total", "ck_works_traffic_impact"),
        ("visibility", "everyone", "ck_works_visibility"),
        ("precision", "week", "ck_works_precision"),
        ("version", 0, "ck_works_version_positive"),
    ],
)
def test_values_outside_their_lists_are_refused(
    connection: Connection, org_id: int, column: str, value: object, constraint: str
) -> None:
    with refused(connection, constraint):
        insert_work(connection, org_id, **{column: value})


def test_an_organisation_with_works_cannot_be_deleted(connection: Connection, org_id: int) -> None:
    insert_work(connection, org_id)

    with refused(connection, "fk_works_organisation_id_organisations"):
        connection.execute(text("DELETE FROM organisations WHERE id = :id"), {"id": org_id})


# -- organisations --------------------------------------------------------------------------


def test_organisation_names_are_unique(connection: Connection, org_id: int) -> None:
    with refused(connection, "uq_organisations_name"):
        add_org(connection)


def test_organisation_kind_must_be_known(connection: Connection) -> None:
    with refused(connection, "ck_organisations_organisation_kind"):
        connection.execute(text("INSERT INTO organisations (name, kind) VALUES ('X', 'club')"))


def test_organisation_name_cannot_be_blank(connection: Connection) -> None:
    with refused(connection, "ck_organisations_name_not_blank"):
        connection.execute(text("INSERT INTO organisations (name, kind) VALUES (' ', 'other')"))


# -- dig bans -------------------------------------------------------------------------------


def test_a_valid_dig_ban_is_accepted_with_its_period(connection: Connection, org_id: int) -> None:
    ban_id = insert_dig_ban(connection, org_id)

    row = connection.execute(
        text("SELECT lower(period) AS lo, upper(period) AS hi FROM dig_bans WHERE id = :id"),
        {"id": ban_id},
    ).one()
    assert (row.lo, row.hi) == (date(2027, 7, 1), date(2030, 7, 1))


def test_dig_ban_end_before_start_is_refused(connection: Connection, org_id: int) -> None:
    with refused(connection, "ck_dig_bans_period_ordered"):
        insert_dig_ban(connection, org_id, start_date=date(2030, 1, 1), end_date=date(2029, 1, 1))


def test_dig_ban_in_another_crs_is_refused(connection: Connection, org_id: int) -> None:
    wgs84_square = "SRID=4326;POLYGON((5.66 52.04, 5.67 52.04, 5.67 52.05, 5.66 52.04))"

    with refused(connection, error=DataError, constraint=None) as caught:
        insert_dig_ban(connection, org_id, geom=wgs84_square)

    assert "SRID (4326) does not match column SRID (28992)" in str(caught.value.orig)


@pytest.mark.parametrize(
    ("geom", "constraint"),
    [
        (LINE, "ck_dig_bans_geom_type"),
        ("SRID=28992;POINT(174000 450000)", "ck_dig_bans_geom_type"),
        ("SRID=28992;POLYGON EMPTY", "ck_dig_bans_geom_not_empty"),
        (BOWTIE, "ck_dig_bans_geom_valid"),
    ],
    ids=["line", "point", "empty-polygon", "self-intersecting-polygon"],
)
def test_dig_ban_must_be_a_valid_area(
    connection: Connection, org_id: int, geom: str, constraint: str
) -> None:
    with refused(connection, constraint):
        insert_dig_ban(connection, org_id, geom=geom)


def test_dig_ban_external_reference_is_unique_per_organisation(
    connection: Connection, org_id: int
) -> None:
    other = add_org(connection, "Provincie Gelderland")
    insert_dig_ban(connection, org_id, external_ref="GV-1")
    insert_dig_ban(connection, other, external_ref="GV-1")
    insert_dig_ban(connection, org_id)
    insert_dig_ban(connection, org_id)

    with refused(connection, "uq_dig_bans_organisation_id_external_ref"):
        insert_dig_ban(connection, org_id, external_ref="GV-1")


def test_dig_ban_title_cannot_be_blank(connection: Connection, org_id: int) -> None:
    with refused(connection, "ck_dig_bans_title_not_blank"):
        insert_dig_ban(connection, org_id, title="  ")


def test_dig_ban_outlives_the_work_it_came_from(connection: Connection, org_id: int) -> None:
    work_id = insert_work(connection, org_id, discipline_code="road", phase_code="completed")
    ban_id = insert_dig_ban(connection, org_id, source_work_id=work_id)

    connection.execute(text("DELETE FROM works WHERE id = :id"), {"id": work_id})

    source = connection.execute(
        text("SELECT source_work_id FROM dig_bans WHERE id = :id"), {"id": ban_id}
    ).one()
    assert source == (None,)


def test_dig_ban_geometry_round_trips_through_the_orm(session: Session, connection, org_id) -> None:
    ban_id = insert_dig_ban(connection, org_id)

    ban = session.get(DigBan, ban_id)

    assert ban is not None
    assert ban.geom.srid == SRID
    assert to_shape(ban.geom).area == pytest.approx(100 * 100)
    assert ban.period == Range(date(2027, 7, 1), date(2030, 7, 1), bounds="[)")


# -- indexes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "index", "column"),
    [
        ("works", "ix_works_geom_period", "geom, period"),
        ("dig_bans", "idx_dig_bans_geom", "geom"),
        ("dig_bans", "ix_dig_bans_period", "period"),
        ("streets", "idx_streets_geom", "geom"),
    ],
)
def test_geometries_and_periods_have_gist_indexes(
    connection: Connection, table: str, index: str, column: str
) -> None:
    definition = connection.execute(
        text(
            "SELECT indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = :t AND indexname = :i"
        ),
        {"t": table, "i": index},
    ).scalar()

    assert definition is not None, f"{index} is missing"
    assert f"USING gist ({column})" in definition


def test_the_period_index_serves_overlap_queries(connection: Connection, org_id: int) -> None:
    for month in range(1, 13):
        insert_work(
            connection,
            org_id,
            start_date=date(2027, month, 1),
            end_date=date(2027, month, 1) + timedelta(days=20),
        )
    connection.execute(text("SET LOCAL enable_seqscan = off"))

    plan = "\n".join(
        connection.execute(
            text(
                "EXPLAIN SELECT id FROM works "
                "WHERE period && daterange('2027-05-01', '2027-05-10', '[]')"
            )
        ).scalars()
    )

    # Served by an index on the period (alone, or the engine's combined geometry + period one).
    assert "Index" in plan and "period &&" in plan
    assert "Seq Scan" not in plan
