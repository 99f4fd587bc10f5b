"""The app factory: configuration, database wiring, blueprints, secret key, languages.

The process serves one CRS (``kip.db.bind_srid``), so every app built here keeps the
test run's SRID, 28992.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from kip import create_app
from kip.config import ConfigError
from kip.db import database

# Nothing listens on port 1: connecting is refused at once.
UNREACHABLE_URL = "postgresql://kip@127.0.0.1:1/kip"


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder of this test's own, and no database URL in the environment."""
    path = tmp_path / "instance"
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(path))
    for name in ("KIP_DATABASE_URL", "DATABASE_URL", "KIP_SRID", "KIP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def build(instance: Path) -> Iterator[Callable[..., Flask]]:
    """``create_app`` that disposes of the engines it made once the test is over."""
    apps: list[Flask] = []

    def make(config: dict[str, Any] | None = None) -> Flask:
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        database(app).dispose()


def test_the_app_is_built_without_touching_the_database(build, database_url: str) -> None:
    app = build({"DATABASE_URL": database_url})

    pool = database(app).engine.pool
    assert pool.checkedin() == 0
    assert pool.checkedout() == 0


def test_an_unreachable_database_only_shows_at_the_health_check(build) -> None:
    settings = {"DATABASE_URL": UNREACHABLE_URL, "DATABASE_CONNECT_TIMEOUT": 1}
    app = build({**settings, "HEALTH_TOKEN": "monitor"})

    assert isinstance(app, Flask)
    assert database(app).engine.url.port == 1
    response = app.test_client().get("/healthz", headers={"Authorization": "Bearer monitor"})
    assert response.status_code == 503
    assert response.get_json()["database"]["reachable"] is False


def test_config_passed_to_the_factory_wins(
    build, instance: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    instance.mkdir()
    (instance / "config.py").write_text(
        "TILE_URL = 'from-instance'\nDATABASE_URL = 'postgresql://nobody@127.0.0.1:1/none'\n"
    )
    monkeypatch.setenv("KIP_TILE_URL", "from-environment")
    monkeypatch.setenv("KIP_MAP_CENTRE", "[51.0, 4.0]")

    app = build({"TILE_URL": "passed", "DATABASE_URL": database_url, "SECRET_KEY": "given"})

    assert app.config["TILE_URL"] == "passed"
    assert app.config["MAP_CENTRE"] == [51.0, 4.0]
    assert app.config["SECRET_KEY"] == "given"
    assert app.config["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert database(app).engine.url.database == make_url(database_url).database
    assert not (instance / "secret_key").exists()


def test_the_database_url_can_come_from_the_environment(
    build, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://platform@127.0.0.1:1/kip")

    app = build()

    assert app.config["DATABASE_URL"] == "postgresql+psycopg://platform@127.0.0.1:1/kip"
    assert database(app).engine.dialect.driver == "psycopg"


def test_a_missing_database_url_is_a_helpful_config_error(instance: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        create_app({"SECRET_KEY": "x"})

    message = str(caught.value)
    assert "no database configured" in message
    assert "KIP_DATABASE_URL" in message
    assert "postgresql://" in message


def test_a_second_crs_in_the_same_process_is_refused(app: Flask, instance: Path) -> None:
    # The session's app bound 28992; one process serves one CRS.
    with pytest.raises(RuntimeError, match="one process serves one CRS"):
        create_app({"DATABASE_URL": UNREACHABLE_URL, "SRID": 31370, "SECRET_KEY": "x"})


def test_blueprints_and_routes_are_registered(app: Flask) -> None:
    assert {"health", "home"} <= set(app.blueprints)
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints["/healthz"] == "health.healthz"
    assert endpoints["/"] == "home.index"
    assert "kip.db" in app.extensions
    assert "babel" in app.extensions


def test_secret_key_is_generated_once_into_the_instance_folder(build, instance: Path) -> None:
    assert not instance.exists()

    first = build({"DATABASE_URL": UNREACHABLE_URL})

    key_file = instance / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"]
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert Path(first.instance_path) == instance

    second = build({"DATABASE_URL": UNREACHABLE_URL})

    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert list(instance.iterdir()) == [key_file]


def test_different_instances_get_different_secret_keys(
    build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build({"DATABASE_URL": UNREACHABLE_URL})
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path / "other"))
    second = build({"DATABASE_URL": UNREACHABLE_URL})

    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


# -- languages (tests/test_i18n.py covers the default, ?lang=en and Accept-Language) --------


def test_an_unknown_language_falls_back_to_dutch(client) -> None:
    response = client.get("/?lang=xx")

    assert '<html lang="nl">' in response.text
    assert client.get_cookie("kip_lang") is None
