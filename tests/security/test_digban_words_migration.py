"""Migration 0009: a ban KIP derived from a road work before stops naming the work.

A database at revision 0008 holds a ban proposed after a confidential road work with the
words KIP then generated ("Graafverbod na <title>", "new surface laid by work <id>"), and a
ban whose words a coordinator typed. After the upgrade the first names no work, has a new
version and an audit event saying why; the second is as it was.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from kip import migrate
from kip.config import DEFAULTS

SRID = 28992
SECRET = "GEHEIM asfalt Kanaalweg"
LINE = "ST_GeomFromText('LINESTRING(174000 450000, 174100 450000)', 28992)"
AREA = "ST_Buffer(" + LINE + ", 2)"


@pytest.fixture
def at_0008(database_at) -> Engine:
    """A database of its own, migrated up to revision 0008."""
    return database_at("0008")


def test_generated_words_are_replaced_on_record(at_0008: Engine) -> None:
    with at_0008.begin() as conn:
        org = conn.execute(
            text(
                "INSERT INTO organisations (name, kind) VALUES ('Netwerk', 'grid_operator')"
                " RETURNING id"
            )
        ).scalar_one()
        work = conn.execute(
            text(
                "INSERT INTO works (organisation_id, title, discipline_code, phase_code, geom,"
                f" start_date, end_date, visibility) VALUES (:org, :title, 'road', 'completed',"
                f" {LINE}, '2027-03-01', '2027-04-17', 'confidential') RETURNING id"
            ),
            {"org": org, "title": SECRET},
        ).scalar_one()
        ban = text(
            "INSERT INTO dig_bans (organisation_id, source_work_id, title, reason, geom,"
            f" start_date, end_date) VALUES (:org, :work, :title, :reason, {AREA},"
            " '2027-04-18', '2030-04-17') RETURNING id"
        )
        derived = conn.execute(
            ban,
            {
                "org": org,
                "work": work,
                "title": "Graafverbod na " + SECRET,
                "reason": f"new surface laid by work {work}",
            },
        ).scalar_one()
        typed = conn.execute(
            ban,
            {
                "org": org,
                "work": work,
                "title": "Graafverbod Kanaalweg",
                "reason": "Afgesproken in het overleg van 3 mei",
            },
        ).scalar_one()
        far = conn.execute(
            text(
                "INSERT INTO dig_bans (organisation_id, source_work_id, title, reason, geom,"
                " start_date, end_date) VALUES (:org, :work, :title, :reason,"
                " ST_Buffer(ST_GeomFromText('POINT(190000 460000)', 28992), 5),"
                " '2027-04-18', '2030-04-17') RETURNING id"
            ),
            {
                "org": org,
                "work": work,
                "title": "Graafverbod na " + SECRET,
                "reason": f"new surface laid by work {work}",
            },
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO streets (name, source, source_ref, geom) VALUES"
                " ('Kerkstraat', 'test', '1', ST_Multi(ST_GeomFromText("
                "'LINESTRING(173990 450000, 174120 450000)', 28992))),"
                " ('Molenweg', 'test', '2', ST_Multi(ST_GeomFromText("
                "'LINESTRING(174100 449990, 174100 450010)', 28992)))"
            )
        )

    migrate.upgrade(at_0008, SRID)

    with at_0008.connect() as conn:
        rows = {
            r.id: r for r in conn.execute(text("SELECT id, title, reason, version FROM dig_bans"))
        }
        audits = conn.execute(
            text("SELECT object_id, actor, details FROM audit_events WHERE object_type = 'dig_ban'")
        ).all()
    assert rows[derived].title == "Graafverbod Kerkstraat, Molenweg"  # where, not which work
    assert rows[far].title == DEFAULTS["DIG_BAN_TITLE"]  # no street known there
    assert rows[derived].reason == DEFAULTS["DIG_BAN_REASON"].format(
        years=DEFAULTS["DIG_BAN_YEARS"]
    )
    assert rows[derived].version == 2
    assert (rows[typed].title, rows[typed].reason, rows[typed].version) == (
        "Graafverbod Kanaalweg",
        "Afgesproken in het overleg van 3 mei",
        1,
    )
    assert {object_id for object_id, _, _ in audits} == {derived, far}
    for _, actor, details in audits:
        assert actor.startswith("system:migration") and "named the work" in details["why"]
