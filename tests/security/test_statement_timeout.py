"""No statement outlives its request: every transaction runs under a ``statement_timeout``.

An app on a database of its own (committed, so that another connection can hold a lock
the app's requests wait for) is configured with a request timeout of 100 ms and a bulk
one of 10 s. The slow statements are real: triggers that call ``pg_sleep`` when the
``slow_down`` table says so, and a lock held by another transaction. A statement past
its timeout is cancelled by PostgreSQL; the request answers 503 (problem+json for the API,
an error page for the pages) and writes nothing; an import or a recompute runs the same
slow statement to its end under the bulk timeout; a command past the bulk timeout says so
in one line naming the setting.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import date

import pytest
from click.testing import Result
from conftest import CHEAP_PASSWORDS, log_in
from flask import Flask
from shapely import LineString
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from kip import create_app, migrate
from kip.actors import Actor
from kip.cli import main
from kip.db import database
from kip.models import Clash, Work
from kip.services import accounts
from kip.services.organisations import add_organisation
from kip.services.works import WorkData, create_work

SRID = 28992
PASSWORD = "correct horse battery"
REQUEST_MS, BULK_MS = 100, 10_000
SLEEP_S = 1  # past the request's timeout, well within the bulk one

SLOW_DOWN = """
CREATE TABLE slow_down (table_name text PRIMARY KEY, seconds float NOT NULL);
CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(seconds) FROM slow_down WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
CREATE TRIGGER slow_down AFTER INSERT ON works FOR EACH STATEMENT EXECUTE FUNCTION slow_down();
CREATE TRIGGER slow_down AFTER INSERT OR UPDATE ON clashes
    FOR EACH STATEMENT EXECUTE FUNCTION slow_down();
"""


def slow_app(url: str, **timeouts: int) -> Flask:
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "STATEMENT_TIMEOUT_MS": REQUEST_MS,
            "BULK_STATEMENT_TIMEOUT_MS": BULK_MS,
            **CHEAP_PASSWORDS,
            **timeouts,
        }
    )


@pytest.fixture(scope="module")
def world(throwaway, app) -> Iterator[dict]:
    """A migrated database with the slow-down triggers, an organisation with a planner and
    a write token, and the app on it (``app`` is asked for so that the instance path is
    the tests')."""
    url = throwaway.create()
    plain = create_engine(url)
    migrate.upgrade(plain, SRID)
    with plain.begin() as conn:
        conn.exec_driver_sql(SLOW_DOWN)
    apps = [slow_app(url)]
    with Session(plain, info=database(apps[0]).session_info) as setup:
        org = add_organisation(setup, Actor.system("test"), "Gemeente Ede", "department")
        user = accounts.create_user(
            setup,
            Actor.system("test"),
            email="planner@ede.example",
            name="Planner",
            organisation=org,
            role="planner",
            password=PASSWORD,
        )
        token = accounts.create_token(
            setup, Actor.system("test"), organisation=org, scope="write", name="GIS"
        )
        setup.commit()
        world = {"org_id": org.id, "email": user.email, "token": token.secret}
    yield {"url": url, "engine": plain, "app": apps[0], "apps": apps, **world}
    for each in apps:
        database(each).dispose()
    plain.dispose()
    throwaway.drop(url)


@pytest.fixture
def slow(world) -> Iterator[callable]:
    """``slow("works")``: inserts into works take SLEEP_S (or ``seconds``) from now on."""
    engine: Engine = world["engine"]

    def slow_down(table: str, seconds: float = SLEEP_S) -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO slow_down VALUES (:t, :s)"
                    " ON CONFLICT (table_name) DO UPDATE SET seconds = EXCLUDED.seconds"
                ),
                {"t": table, "s": seconds},
            )

    yield slow_down
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM slow_down"))


def count(world, model) -> int:
    with Session(world["engine"]) as check:
        return check.execute(select(func.count()).select_from(model)).scalar_one()


def work_feature(title: str = "Vervangen riolering") -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[5.6656, 52.0406], [5.667, 52.041]]},
        "properties": {
            "title": title,
            "discipline": "sewer",
            "phase": "planned",
            "start_date": "2027-03-01",
            "end_date": "2027-06-30",
            "excavation": True,
        },
    }


def bearer(world) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['token']}"}


def assert_stopped(response, setting: str = "STATEMENT_TIMEOUT_MS") -> None:
    assert response.status_code == 503, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "statement-timeout"
    assert response.json["setting"] == setting
    assert "ran past its time limit" in response.json["title"]


def test_a_slow_write_is_stopped_and_answered_503(world, slow) -> None:
    before = count(world, Work)
    slow("works")
    response = (
        world["app"].test_client().post("/api/v1/works", json=work_feature(), headers=bearer(world))
    )
    assert_stopped(response)
    assert f"{REQUEST_MS} ms" in response.json["title"]
    assert count(world, Work) == before


def test_a_read_waiting_for_a_lock_is_stopped(world) -> None:
    """Another transaction holds the works table for a few seconds; the read is cancelled
    rather than left waiting (without a timeout it would wait, then answer 200)."""
    locked, done = threading.Event(), threading.Event()

    def hold() -> None:
        with world["engine"].connect() as other:
            other.exec_driver_sql("LOCK TABLE works IN ACCESS EXCLUSIVE MODE")
            locked.set()
            done.wait(timeout=5)
            other.rollback()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        response = world["app"].test_client().get("/api/v1/works")
    finally:
        done.set()
        holder.join()
    assert_stopped(response)


def gas_line(world) -> None:
    """A committed gas work beside the sewer of :func:`rd_feature`: together, a clash."""
    with Session(world["engine"]) as setup:
        create_work(
            setup,
            Actor.system("test"),
            world["org_id"],
            WorkData(
                title="Vervangen gasleiding",
                discipline="gas",
                phase="planned",
                geometry=LineString([(174100, 450300), (174150, 450300)]),
                start_date=date(2027, 3, 1),
                end_date=date(2027, 6, 30),
                excavation=True,
            ),
        )
        setup.commit()


def rd_feature() -> dict:
    line = {"type": "LineString", "coordinates": [[174110, 450305], [174160, 450305]]}
    return {**work_feature(), "geometry": line}


def test_a_slow_statement_of_the_overlap_engine_is_stopped(world, slow) -> None:
    """The engine talks to psycopg itself (past SQLAlchemy): its cancel is a 503 too."""
    gas_line(world)
    before = count(world, Work)
    slow("clashes")
    response = (
        world["app"]
        .test_client()
        .post("/api/v1/works?crs=EPSG:28992", json=rd_feature(), headers=bearer(world))
    )
    assert_stopped(response)
    assert count(world, Work) == before


def test_a_slow_page_is_an_error_page(world, slow) -> None:
    client = world["app"].test_client()
    token = log_in(client, world["email"], PASSWORD)
    fields = {**work_feature()["properties"], "precision": "day", "traffic_impact": "none"}
    fields |= {"visibility": "partners", "excavation": "y"}
    fields["geometry"] = json.dumps(work_feature()["geometry"])
    fields["csrf_token"] = token
    before = count(world, Work)
    slow("works")
    response = client.post("/works/new", data=fields, headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "KIP is busy" in page and "Nothing was saved" in page
    assert count(world, Work) == before


def import_file(prefix: str, *titles: str) -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [5.66 + i * 0.001, 52.04]},
            "properties": {
                "kenmerk": f"{prefix}-{i}",
                "titel": title,
                "vakdiscipline": "riolering",
                "fase": "gepland",
                "startdatum": "2027-03-01",
                "einddatum": "2027-06-30",
            },
        }
        for i, title in enumerate(titles)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_an_import_runs_the_slow_statement_a_request_may_not(world, slow) -> None:
    slow("works")
    client = world["app"].test_client()
    assert_stopped(client.post("/api/v1/works", json=work_feature(), headers=bearer(world)))
    before = count(world, Work)
    response = client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(import_file("API", "Riool A", "Riool B")), "plan.geojson")}
        | {"dry_run": "false"},
        headers=bearer(world),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert response.json["applied"] and response.json["counts"]["create"] == 2
    assert count(world, Work) == before + 2


def kip(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, list(args))


def test_a_recompute_runs_the_slow_statement_a_request_may_not(world, slow) -> None:
    gas_line(world)
    slow("clashes")
    client = world["app"].test_client()
    url = "/api/v1/works?crs=EPSG:28992"
    assert_stopped(client.post(url, json=rd_feature(), headers=bearer(world)))
    slow("clashes", 0)
    saved = client.post(url, json=rd_feature(), headers=bearer(world))
    assert saved.status_code == 201, saved.json
    with world["engine"].begin() as conn:  # as if the engine had missed the work's clashes
        conn.execute(text("TRUNCATE clashes CASCADE"))
    slow("clashes")
    result = kip(world["app"], "clashes", "recompute")
    assert result.exit_code == 0, result.output
    assert count(world, Clash) > 0


def test_a_command_past_the_bulk_timeout_says_so_in_one_line(world, slow, tmp_path) -> None:
    quick = slow_app(world["url"], BULK_STATEMENT_TIMEOUT_MS=300)
    world["apps"].append(quick)
    slow("works")
    path = tmp_path / "plan.geojson"
    path.write_bytes(import_file("CLI", "Riool C"))
    before = count(world, Work)
    result = kip(quick, "import", str(path), "--org", str(world["org_id"]))
    assert result.exit_code == 1, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("Error: ")]
    assert "ran past its time limit (300 ms, BULK_STATEMENT_TIMEOUT_MS)" in line
    assert "Traceback" not in result.output
    assert count(world, Work) == before
