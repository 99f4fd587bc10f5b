"""Configuration: defaults, instance/config.py, KIP_* variables, database URL and SRID rules.

``load_config`` is pure: every test hands it its own instance folder and environment, so
nothing here depends on (or changes) the process's environment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kip.config import DEFAULTS, ConfigError, load_config, normalise_database_url, secret_key


def write_instance_config(instance: Path, source: str) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text(source)


def test_defaults_without_instance_file_or_environment(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, environ={})

    assert cfg == DEFAULTS
    assert cfg["SRID"] == 28992
    assert cfg["DATABASE_URL"] is None
    assert cfg["BABEL_DEFAULT_LOCALE"] == "nl"
    assert cfg["LANGUAGES"] == ["nl", "en"]


def test_defaults_are_not_shared_between_calls(tmp_path: Path) -> None:
    first = load_config(tmp_path, environ={})
    first["TILE_URL"] = "changed"

    assert load_config(tmp_path, environ={})["TILE_URL"] == DEFAULTS["TILE_URL"] != "changed"


def test_instance_config_file_overrides_defaults(tmp_path: Path) -> None:
    write_instance_config(
        tmp_path,
        "SRID = 31370\n"
        "TILE_URL = 'https://tiles.example/{z}/{x}/{y}.png'\n"
        "DATABASE_URL = 'postgresql://kip@db/kip'\n"
        "helper = 'lower-case names are not settings'\n",
    )

    cfg = load_config(tmp_path, environ={})

    assert cfg["SRID"] == 31370
    assert cfg["TILE_URL"] == "https://tiles.example/{z}/{x}/{y}.png"
    assert cfg["DATABASE_URL"] == "postgresql+psycopg://kip@db/kip"
    assert "helper" not in cfg
    assert cfg["MAP_CENTRE"] == DEFAULTS["MAP_CENTRE"]


def test_environment_overrides_instance_file(tmp_path: Path) -> None:
    write_instance_config(tmp_path, "TILE_URL = 'from-instance'\nDATABASE_POOL_SIZE = 3\n")

    cfg = load_config(tmp_path, environ={"KIP_TILE_URL": "from-environment"})

    assert cfg["TILE_URL"] == "from-environment"
    assert cfg["DATABASE_POOL_SIZE"] == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", 10),
        ("2.5", 2.5),
        ("true", True),
        ("false", False),
        ("[4.0, 51.0, 6.0, 53.0]", [4.0, 51.0, 6.0, 53.0]),
        ('"quoted"', "quoted"),
        ("https://tiles.example/{z}/{x}/{y}.png", "https://tiles.example/{z}/{x}/{y}.png"),
        ("plain words", "plain words"),
    ],
)
def test_environment_values_are_parsed_as_json_when_they_can_be(
    tmp_path: Path, raw: str, expected: object
) -> None:
    cfg = load_config(tmp_path, environ={"KIP_SOME_SETTING": raw})

    assert cfg["SOME_SETTING"] == expected
    assert type(cfg["SOME_SETTING"]) is type(expected)


def test_only_kip_prefixed_variables_are_read(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        environ={"TILE_URL": "unprefixed", "HOME": "/root", "KIP_INSTANCE_PATH": "/elsewhere"},
    )

    assert cfg["TILE_URL"] == DEFAULTS["TILE_URL"]
    assert "HOME" not in cfg
    assert "INSTANCE_PATH" not in cfg


def test_database_url_falls_back_to_unprefixed_variable(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, environ={"DATABASE_URL": "postgres://u:pw@host:5433/plan"})

    assert cfg["DATABASE_URL"] == "postgresql+psycopg://u:pw@host:5433/plan"


def test_kip_database_url_takes_precedence_over_database_url(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        environ={
            "DATABASE_URL": "postgresql://platform@host/other",
            "KIP_DATABASE_URL": "postgresql://kip@host/kip",
        },
    )

    assert cfg["DATABASE_URL"] == "postgresql+psycopg://kip@host/kip"


def test_database_url_from_environment_beats_instance_file(tmp_path: Path) -> None:
    write_instance_config(tmp_path, "DATABASE_URL = 'postgresql://instance@host/kip'\n")

    cfg = load_config(tmp_path, environ={"DATABASE_URL": "postgresql://env@host/kip"})

    assert cfg["DATABASE_URL"] == "postgresql+psycopg://env@host/kip"


def test_overrides_win_over_every_other_source(tmp_path: Path) -> None:
    write_instance_config(tmp_path, "TILE_URL = 'instance'\n")

    cfg = load_config(
        tmp_path,
        {"TILE_URL": "override", "DATABASE_URL": "postgresql://o@h/kip"},
        environ={"KIP_TILE_URL": "environment", "KIP_DATABASE_URL": "postgresql://e@h/kip"},
    )

    assert cfg["TILE_URL"] == "override"
    assert cfg["DATABASE_URL"] == "postgresql+psycopg://o@h/kip"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h:5432/kip", "postgresql+psycopg://u@h:5432/kip"),
        ("postgresql://u@h/kip", "postgresql+psycopg://u@h/kip"),
        ("postgresql+psycopg2://u@h/kip", "postgresql+psycopg://u@h/kip"),
        ("postgresql+psycopg://u@h/kip", "postgresql+psycopg://u@h/kip"),
        (
            "postgresql://u:p%40ss@h/kip?sslmode=require",
            "postgresql+psycopg://u:p%40ss@h/kip?sslmode=require",
        ),
    ],
)
def test_postgres_urls_are_normalised_to_psycopg3(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


# Configuration only: these URLs are refused before anything connects to them (KIP runs,
# and its tests run, on PostgreSQL with PostGIS alone).
@pytest.mark.parametrize(
    "url", ["sqlite:///kip.db", "mysql://u@h/kip", "mssql+pyodbc://u@h/kip", "oracle://u@h/kip"]
)
def test_a_non_postgresql_url_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="PostgreSQL with PostGIS"):
        load_config(tmp_path, environ={"KIP_DATABASE_URL": url})


def test_a_database_url_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a URL"):
        load_config(tmp_path, {"DATABASE_URL": "kip-database"}, environ={})


@pytest.mark.parametrize(("raw", "srid"), [("31370", 31370), ("28992", 28992), ("27700", 27700)])
def test_metric_projected_srids_are_accepted(tmp_path: Path, raw: str, srid: int) -> None:
    assert load_config(tmp_path, environ={"KIP_SRID": raw})["SRID"] == srid


def test_srid_given_as_text_in_instance_file_becomes_an_integer(tmp_path: Path) -> None:
    write_instance_config(tmp_path, "SRID = '31370'\n")

    assert load_config(tmp_path, environ={})["SRID"] == 31370


def test_a_geographic_srid_is_refused_with_an_explanation(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ={"KIP_SRID": "4326"})

    message = str(caught.value)
    assert "KIP_SRID=4326" in message
    assert "not a metric projected CRS" in message
    assert "28992" in message and "31370" in message


def test_a_projected_srid_in_feet_is_refused(tmp_path: Path) -> None:
    # EPSG:2263, New York Long Island in US survey feet: projected, but not in metres.
    with pytest.raises(ConfigError, match="not a metric projected CRS"):
        load_config(tmp_path, {"SRID": 2263}, environ={})


@pytest.mark.parametrize("raw", ["garbage", "EPSG:28992", "", "[28992]"])
def test_an_srid_that_is_not_a_number_is_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="must be an EPSG code"):
        load_config(tmp_path, environ={"KIP_SRID": raw})


def test_an_unknown_epsg_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a known EPSG code"):
        load_config(tmp_path, environ={"KIP_SRID": "999999"})


def test_secret_key_is_generated_once_and_then_read(tmp_path: Path) -> None:
    instance = tmp_path / "not" / "yet" / "there"

    first = secret_key(instance)
    second = secret_key(instance)

    assert len(first) >= 32
    assert first == second
    assert (instance / "secret_key").read_text().strip() == first
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600


def test_an_existing_secret_key_is_kept(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("chosen-by-the-operator\n")

    assert secret_key(tmp_path) == "chosen-by-the-operator"
