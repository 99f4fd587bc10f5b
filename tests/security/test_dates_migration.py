"""Migration 0008 brings rows already outside the range of dates back into it, on record.

A database at revision 0007 holds what an importer once let through: a work that ends on
9999-12-31, one that starts on 0001-01-01, a dig ban that ends on 9999-12-31. After the
upgrade every read of them answers, each date outside the range is the nearest day of it,
and nothing changed silently: each work has a new version and a history entry with the
old and the new date, each changed row an audit event saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from kip import create_app, migrate
from kip.actors import Actor
from kip.db import database
from kip.models import Organisation
from kip.services import accounts

SRID = 28992
LINE = "ST_GeomFromText('LINESTRING(174000 450000, 174100 450000)', 28992)"
AREA = "ST_GeomFromText('POLYGON((174000 450000, 174100 450000, 174100 450020, 174000 450020, 174000 450000))', 28992)"  # noqa: E501


@pytest.fixture
def at_0007(database_at) -> Engine:
    """A database of its own, migrated up to revision 0007."""
    return database_at("0007")


def _plant(engine: Engine) -> dict[str, int]:
    """Rows written past the app, as a faulty importer did, each with its creation."""
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        organisation = (
            "INSERT INTO organisations (name, kind) VALUES ('Gemeente Ede', 'department')"
        )
        ids["org"] = conn.execute(text(organisation + " RETURNING id")).scalar_one()
        for name, start, end in (
            ("far", date(2027, 3, 1), date(9999, 12, 31)),
            ("early", date(1, 1, 1), date(2027, 6, 30)),
            ("fine", date(2027, 3, 1), date(2027, 6, 30)),
        ):
            ids[name] = conn.execute(
                text(
                    "INSERT INTO works (organisation_id, title, discipline_code, phase_code,"
                    f" geom, start_date, end_date, visibility) VALUES (:org, :title, 'sewer',"
                    f" 'planned', {LINE}, :start, :end, 'public') RETURNING id"
                ),
                {"org": ids["org"], "title": f"Riool {name}", "start": start, "end": end},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO work_changes (work_id, organisation_id, version, action, actor,"
                    " changes) VALUES (:id, :org, 1, 'create', 'system:import', '{}')"
                ),
                {"id": ids[name], "org": ids["org"]},
            )
        ids["ban"] = conn.execute(
            text(
                "INSERT INTO dig_bans (organisation_id, title, geom, start_date, end_date)"
                f" VALUES (:org, 'Nieuw asfalt', {AREA}, '2027-07-01', '9999-12-31')"
                " RETURNING id"
            ),
            {"org": ids["org"]},
        ).scalar_one()
    return ids


@pytest.fixture
def upgraded(at_0007: Engine) -> Iterator[tuple[Flask, dict[str, int]]]:
    """The planted rows, upgraded to the head revision, and an app on that database."""
    ids = _plant(at_0007)
    migrate.upgrade(at_0007, SRID)
    app = create_app(
        {
            "DATABASE_URL": at_0007.url.render_as_string(hide_password=False),
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app, ids
    database(app).dispose()


def _token(app: Flask, organisation_id: int) -> dict[str, str]:
    with database(app).sessionmaker() as session:
        org = session.get(Organisation, organisation_id)
        new = accounts.create_token(
            session, Actor.system("test"), organisation=org, scope="write", name="GIS"
        )
        session.commit()
    return {"Authorization": f"Bearer {new.secret}"}


def test_every_read_answers_after_the_upgrade(upgraded):
    app, ids = upgraded
    client = app.test_client()
    token = _token(app, ids["org"])

    listed = client.get("/api/v1/works")
    pages = [client.get(f"/works/{ids[name]}").status_code for name in ("far", "early", "fine")]
    ban = client.get(f"/api/v1/digbans/{ids['ban']}", headers=token)
    deleted = client.delete(f"/api/v1/works/{ids['far']}", headers={**token, "If-Match": '"v2"'})

    assert listed.status_code == 200, listed.get_data(as_text=True)
    periods = {
        f["id"]: tuple(f["properties"][k] for k in ("start_date", "end_date", "version"))
        for f in listed.json["features"]
    }
    assert periods == {
        ids["far"]: ("2027-03-01", "2199-12-31", 2),
        ids["early"]: ("1900-01-01", "2027-06-30", 2),
        ids["fine"]: ("2027-03-01", "2027-06-30", 1),
    }
    assert pages == [200, 200, 200]
    assert ban.status_code == 200
    props = ban.json["properties"]
    assert (props["start_date"], props["end_date"], props["version"]) == (
        "2027-07-01",
        "2199-12-31",
        2,
    )
    assert deleted.status_code == 204


def test_the_history_says_what_changed_and_why(upgraded):
    app, ids = upgraded
    client = app.test_client()
    token = _token(app, ids["org"])

    history = {
        name: client.get(f"/api/v1/works/{ids[name]}/history", headers=token).json
        for name in ("far", "early", "fine")
    }
    page = client.get(f"/works/{ids['far']}", headers=token)

    created, moved = history["far"]
    assert created["changes"]["end_date"] == [None, "9999-12-31"]  # as it was created
    assert (moved["version"], moved["action"]) == (2, "update")
    assert moved["actor"].startswith("system:migration 0008 (a date outside 1900-01-01 to")
    assert moved["changes"] == {"end_date": ["9999-12-31", "2199-12-31"]}
    assert history["early"][1]["changes"] == {"start_date": ["0001-01-01", "1900-01-01"]}
    assert [entry["action"] for entry in history["fine"]] == ["create"]
    assert page.status_code == 200
    with database(app).engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT action, object_id, details FROM audit_events"
                " WHERE action LIKE '%dates_clamped' ORDER BY action, object_id"
            )
        ).all()
    assert [(action, object_id) for action, object_id, _ in events] == [
        ("dig_ban.dates_clamped", ids["ban"]),
        ("work.dates_clamped", ids["far"]),
        ("work.dates_clamped", ids["early"]),
    ]
    ban_details = events[0][2]
    assert ban_details["end_date"] == ["9999-12-31", "2199-12-31"]
    assert "set to the nearest day KIP keeps" in ban_details["reason"]


def test_after_the_upgrade_the_database_refuses_such_a_date(upgraded):
    app, ids = upgraded
    with database(app).engine.connect() as conn, pytest.raises(IntegrityError) as refused:
        conn.execute(
            text("UPDATE works SET end_date = '9999-12-31' WHERE id = :id"), {"id": ids["fine"]}
        )
    assert "ck_works_period_in_range" in str(refused.value)
