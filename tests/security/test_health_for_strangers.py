"""Issue 13, point 8: ``/healthz`` tells strangers only whether KIP is up.

Before the fix, with the database down, an anonymous ``/healthz`` answered with the
database's address, port and the driver's message (and, when up, its PostGIS version,
schema revision and CRS). Now everyone gets ``{"status": ...}`` with 200 or 503 (what
Docker's and a load balancer's health checks need); the details are for a logged-in
coordinator or administrator and for a monitor that sends ``HEALTH_TOKEN`` as a bearer
token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import log_in
from flask import Flask

from kip import create_app
from kip.db import database

MONITOR_SECRET = "a-long-monitoring-secret"


@pytest.fixture
def app_on(tmp_path: Path, monkeypatch) -> Iterator[Callable[[str], Flask]]:
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path))
    made: list[Flask] = []

    def make(url: str) -> Flask:
        settings = {"SECRET_KEY": "test", "TESTING": True, "RATELIMIT_ENABLED": False}
        made.append(create_app({**settings, "DATABASE_URL": url, "HEALTH_TOKEN": MONITOR_SECRET}))
        return made[-1]

    yield make
    for app in made:
        database(app).dispose()


@pytest.fixture
def down(app_on, down_url: str) -> Flask:
    """KIP whose database is at a port nobody serves."""
    return app_on(down_url)


def _says_nothing_about_the_database(text: str, port: int) -> None:
    for secret in ("127.0.0.1", str(port), "refused", "connection", "psycopg", "database"):
        assert secret not in text.lower(), secret


def test_an_anonymous_caller_learns_only_that_the_database_is_down(down, unused_port):
    response = down.test_client().get("/healthz")

    assert response.status_code == 503  # what Docker's health check and load balancers read
    assert response.get_json() == {"status": "unavailable"}
    _says_nothing_about_the_database(response.get_data(as_text=True), unused_port)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong-secret"},
        {"Authorization": "Bearer kip_notarealtokenatall"},  # an API token is no monitor
        {"Authorization": f"Basic {MONITOR_SECRET}"},
        {"Authorization": f"Bearer {MONITOR_SECRET[:-1]}"},
    ],
    ids=["wrong secret", "api token", "other scheme", "almost"],
)
def test_a_wrong_monitoring_token_learns_only_up_or_down(down, unused_port, headers):
    response = down.test_client().get("/healthz", headers=headers)

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    _says_nothing_about_the_database(response.get_data(as_text=True), unused_port)


def test_the_token_in_the_query_string_shows_nothing(down, unused_port):
    """Only the header counts: a query string ends up in access logs."""
    response = down.test_client().get(f"/healthz?token={MONITOR_SECRET}")

    assert response.get_json() == {"status": "unavailable"}


def test_only_the_monitoring_token_shows_what_is_wrong(down, unused_port):
    client = down.test_client()
    assert "database" not in client.get("/healthz").get_json()

    response = client.get("/healthz", headers={"Authorization": f"Bearer {MONITOR_SECRET}"})

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is False
    assert str(unused_port) in body["database"]["problem"]


def test_an_anonymous_caller_learns_only_that_kip_is_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "no-store" in response.headers["Cache-Control"]


def test_coordinators_and_administrators_see_the_details_planners_do_not(app, make_user):
    seen = {}
    for role in ("planner", "coordinator", "administrator"):
        client = app.test_client()
        log_in(client, make_user(role).email)
        seen[role] = client.get("/healthz").get_json()

    assert seen["planner"] == {"status": "ok"}
    assert seen["coordinator"]["database"]["reachable"] is True
    assert seen["administrator"]["database"] == seen["coordinator"]["database"]


def test_the_monitoring_token_shows_the_details_when_kip_is_up(app_on, database_url):
    client = app_on(database_url).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}

    response = client.get("/healthz", headers={"Authorization": f"Bearer {MONITOR_SECRET}"})

    assert response.status_code == 200
    assert response.get_json()["database"]["reachable"] is True
