"""One rule for the dates KIP keeps, which the database and the configuration agree with.

The rule lives in :mod:`kip.dates`: the database's CHECK ``period_in_range`` keeps every
stored day within its envelope (1900-01-01 to 2199-12-31), a deployment may narrow the
range with ``DATE_MIN``/``DATE_MAX`` but never widen it, and every way in asks the range the
app's sessions carry. See ``test_dates_in_range.py`` for each way in at the default range.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from shapely import box
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError
from test_api_works import feature
from test_import_files import plan_fields, rd_line, write_gis

from kip import create_app, dates
from kip.actors import Actor
from kip.cli import main
from kip.config import DEFAULTS, ConfigError, load_config
from kip.dates import ENVELOPE, DateRange
from kip.db import database
from kip.errors import ValidationError
from kip.models import Work
from kip.services import accounts

# The boundaries: the first and last day pass both the database and the rule, the day
# before and the day after fail both.
BOUNDARIES = {
    date(1899, 12, 31): False,
    date(1900, 1, 1): True,
    date(2199, 12, 31): True,
    date(2200, 1, 1): False,
}
INSERT = {
    "works": "INSERT INTO works (organisation_id, title, discipline_code, phase_code, geom,"
    " start_date, end_date) VALUES (:org, 'Grenswerk', 'sewer', 'planned',"
    " ST_GeomFromText('POINT(174000 450000)', 28992), :day, :day)",
    "dig_bans": "INSERT INTO dig_bans (organisation_id, title, geom, start_date, end_date)"
    " VALUES (:org, 'Grensverbod',"
    " ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))', 28992), :day, :day)",
}


def _database_keeps(session, table: str, org_id: int, day: date) -> bool:
    try:
        with session.begin_nested():
            session.execute(text(INSERT[table]), {"org": org_id, "day": day})
    except IntegrityError as refused:
        assert "period_in_range" in str(refused.orig), refused
        return False
    return True


@pytest.mark.parametrize("day", list(BOUNDARIES))
def test_the_database_check_and_the_rule_agree(session, make_org, make_work, day):
    org = make_org()
    expected = BOUNDARIES[day]

    by_rule = not ENVELOPE.problems(start_date=day, end_date=day)
    by_database = {table: _database_keeps(session, table, org.id, day) for table in INSERT}
    try:
        with session.begin_nested():
            make_work(org, start_date=day, end_date=day)
        by_service = True
    except ValidationError as refused:
        assert set(refused.details["errors"]) == {"start_date", "end_date"}
        by_service = False

    assert by_rule == by_service == expected
    assert by_database == {"works": expected, "dig_bans": expected}


def test_the_default_range_is_the_database_envelope():
    assert (DEFAULTS["DATE_MIN"], DEFAULTS["DATE_MAX"]) == (ENVELOPE.first, ENVELOPE.last)
    assert DateRange(date(1900, 1, 1), date(2199, 12, 31)) == ENVELOPE


# --- the configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({"KIP_DATE_MAX": "2299-12-31"}, "KIP_DATE_MAX=2299-12-31 is after 2199-12-31"),
        ({"KIP_DATE_MIN": "1850-01-01"}, "KIP_DATE_MIN=1850-01-01 is before 1900-01-01"),
        ({"KIP_DATE_MIN": "2300-01-01"}, "KIP_DATE_MIN=2300-01-01 is after 2199-12-31"),
        (
            {"KIP_DATE_MIN": "2050-01-01", "KIP_DATE_MAX": "2049-12-31"},
            "KIP_DATE_MAX=2049-12-31 is before KIP_DATE_MIN=2050-01-01",
        ),
        ({"KIP_DATE_MAX": "next year"}, "KIP_DATE_MAX must be a day as YYYY-MM-DD"),
        ({"KIP_DATE_MAX": "2100"}, "KIP_DATE_MAX must be a day as YYYY-MM-DD, not 2100"),
    ],
)
def test_a_range_the_database_would_not_keep_is_refused(tmp_path: Path, environ, said):
    with pytest.raises(ConfigError, match=said):
        load_config(tmp_path, environ=environ)


def test_a_narrower_range_is_taken_and_carried_into_the_apps_sessions(
    database_url: str, tmp_path: Path
):
    cfg = load_config(tmp_path, environ={"KIP_DATE_MIN": "2000-01-01"})
    assert (cfg["DATE_MIN"], cfg["DATE_MAX"]) == (date(2000, 1, 1), date(2199, 12, 31))

    narrow = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "t", "DATE_MAX": date(2099, 12, 31)}
    )
    try:
        with database(narrow).sessionmaker() as session:
            assert dates.allowed(session) == DateRange(date(1900, 1, 1), date(2099, 12, 31))
    finally:
        database(narrow).dispose()


# --- a narrower range, on the ways in -------------------------------------------------------

NARROW = DateRange(date(2026, 1, 1), date(2030, 12, 31))


@pytest.fixture
def narrow(app: Flask, connection: Connection, monkeypatch) -> DateRange:
    """The app's sessions carry :data:`NARROW`, as with DATE_MIN=2026-01-01 and
    DATE_MAX=2030-12-31, for this test."""
    monkeypatch.setitem(database(app).session_info, dates.SESSION_KEY, NARROW)
    return NARROW


@pytest.fixture
def kip(app: Flask, connection: Connection):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def test_the_api_keeps_to_a_narrower_range(client, session, make_org, narrow):
    org = make_org()
    token = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="write", name="GIS"
    )
    headers = {"Authorization": f"Bearer {token.secret}"}

    refused = client.post("/api/v1/works", json=feature(end_date="2031-01-01"), headers=headers)
    taken = client.post("/api/v1/works", json=feature(end_date="2030-12-31"), headers=headers)

    assert refused.status_code == 422
    assert refused.json["errors"]["end_date"] == (
        "2031-01-01 is outside the dates KIP keeps (2026-01-01 to 2030-12-31)"
    )
    assert taken.status_code == 201, taken.json


def test_an_import_keeps_to_a_narrower_range(kip, make_org, session, tmp_path, narrow):
    org = make_org("Riolering Ede")
    ends = ["2030-12-31", "2031-01-01", "2030-06-30"]
    path = write_gis(
        tmp_path / "plan.gpkg", [rd_line(i) for i in range(3)], plan_fields(3, einddatum=ends)
    )

    result = kip("import", path, "--org", org.name)

    assert result.exit_code == 1, result.output
    [line] = [ln for ln in result.output.splitlines() if "RIO-002" in ln]
    assert "end_date: 2031-01-01 is outside the dates KIP keeps (2026-01-01 to 2030-12-31)" in line
    count = select(func.count()).where(Work.organisation_id == org.id)
    assert session.execute(count).scalar_one() == 0


def test_the_demo_loader_keeps_to_the_range(kip, session, narrow):
    before = session.execute(select(func.count()).select_from(Work)).scalar_one()

    result = kip("demo", "load")

    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: demo work ")
    assert "_date: " in line and "is outside the dates KIP keeps (2026-01-01 to 2030-12-31)" in line
    assert session.execute(select(func.count()).select_from(Work)).scalar_one() == before


def test_a_dig_ban_proposal_stays_within_the_range(session, make_org, make_work, narrow):
    from kip.engine.digbans import propose_dig_ban

    road = make_work(
        make_org(),
        discipline="road",
        phase="completed",
        geometry=box(174000, 450000, 174100, 450010),
        start_date=date(2029, 3, 1),
        end_date=date(2029, 6, 30),
    )
    last = make_work(
        make_org(),
        discipline="road",
        phase="completed",
        geometry=box(174000, 450100, 174100, 450110),
        start_date=date(2030, 3, 1),
        end_date=NARROW.last,
    )

    proposal = propose_dig_ban(road, {"DIG_BAN_YEARS": 3}, NARROW)

    assert (proposal.start_date, proposal.end_date) == (date(2029, 7, 1), NARROW.last)
    assert propose_dig_ban(last, {"DIG_BAN_YEARS": 3}, NARROW) is None
