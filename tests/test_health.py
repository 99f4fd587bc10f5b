"""``GET /healthz``: 200 when KIP can serve, 503 with the reason when it cannot.

The reason is for those who may see it (here: a monitor with ``HEALTH_TOKEN``, or a logged-in
coordinator); what strangers see is tested in ``tests/security/test_health_for_strangers.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import log_in
from flask import Flask
from sqlalchemy import create_engine, text

from kip import create_app, migrate
from kip.db import database
from kip.services.health import database_health

SRID = 28992
MONITOR = {"Authorization": "Bearer monitor-secret"}


@pytest.fixture
def app_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Build an app on a given database URL; its engine is disposed after the test."""
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path / "instance"))
    apps: list[Flask] = []

    def make(url: str, **config) -> Flask:
        settings = {"DATABASE_URL": url, "SECRET_KEY": "test", "HEALTH_TOKEN": "monitor-secret"}
        app = create_app({**settings, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        database(app).dispose()


@pytest.fixture
def empty_database(throwaway) -> Iterator[str]:
    """A fresh database on the test server: reachable, but nothing installed or migrated."""
    url = throwaway.create()
    yield url
    throwaway.drop(url)


def _run_sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_healthy_when_the_database_is_up_and_migrated(client, make_user) -> None:
    log_in(client, make_user("coordinator").email)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    db = body["database"]
    assert db["reachable"] is True
    assert db["postgis"].split(".")[0].isdigit()
    assert db["revision"] == migrate.head_revision()
    assert db["expected_revision"] == migrate.head_revision()
    assert db["srid"] == SRID
    assert "problem" not in db


def test_unavailable_when_the_database_cannot_be_reached(app_on) -> None:
    app = app_on("postgresql://kip@127.0.0.1:1/kip", DATABASE_CONNECT_TIMEOUT=1)

    response = app.test_client().get("/healthz", headers=MONITOR)

    assert response.status_code == 503
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "unavailable"
    db = body["database"]
    assert db["reachable"] is False
    assert db["problem"].startswith("database unreachable: ")
    assert "\n" not in db["problem"]
    assert db["expected_revision"] == migrate.head_revision()
    assert "revision" not in db
    assert "postgis" not in db


def test_unavailable_when_postgis_is_not_installed(app_on, empty_database: str) -> None:
    response = app_on(empty_database).test_client().get("/healthz", headers=MONITOR)

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is True
    assert "PostGIS is not installed" in body["database"]["problem"]
    assert "kip db upgrade" in body["database"]["problem"]


def test_unavailable_when_the_schema_is_not_migrated(app_on, empty_database: str) -> None:
    _run_sql(empty_database, "CREATE EXTENSION postgis")

    response = app_on(empty_database).test_client().get("/healthz", headers=MONITOR)

    assert response.status_code == 503
    db = response.get_json()["database"]
    assert db["reachable"] is True
    assert db["postgis"]
    assert "revision" not in db
    assert db["problem"] == (
        f"schema at revision none, code expects {migrate.head_revision()}: run `kip db upgrade`"
    )


def test_unavailable_when_geometries_are_stored_in_another_crs(app_on, empty_database: str) -> None:
    engine = create_engine(empty_database)
    try:
        migrate.upgrade(engine, SRID)
    finally:
        engine.dispose()
    _run_sql(
        empty_database,
        "ALTER TABLE works ALTER COLUMN geom TYPE geometry(Geometry, 31370) "
        "USING ST_SetSRID(geom, 31370)",
    )

    response = app_on(empty_database).test_client().get("/healthz", headers=MONITOR)

    assert response.status_code == 503
    db = response.get_json()["database"]
    assert db["revision"] == migrate.head_revision()
    assert db["srid"] == 31370
    assert db["problem"] == "geometries are stored in EPSG:31370 but KIP_SRID is 28992"


def test_unavailable_when_the_schema_is_broken(app_on, empty_database: str) -> None:
    # Marked as migrated, but the works table is missing: reachable, yet not usable.
    _run_sql(
        empty_database,
        "CREATE EXTENSION postgis",
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
        f"INSERT INTO alembic_version VALUES ('{migrate.head_revision()}')",
    )

    response = app_on(empty_database).test_client().get("/healthz", headers=MONITOR)

    assert response.status_code == 503
    db = response.get_json()["database"]
    assert db["reachable"] is True
    assert db["problem"].startswith("database error: ")
    assert "\n" not in db["problem"]


def test_database_health_is_usable_without_a_request(engine) -> None:
    state = database_health(engine)

    assert state.ok is True
    assert state.reachable is True
    assert state.srid == SRID
    assert "ok" not in state.as_dict()
    assert state.as_dict()["revision"] == migrate.head_revision()
