"""Configuration: defaults, then ``instance/config.py``, then ``KIP_*`` environment variables.

Every setting has a default here; a deployment overrides it in ``instance/config.py`` (a
Python file of upper-case names) or with an environment variable of the same name prefixed
with ``KIP_`` (``KIP_SRID=31370``). Values in the environment are parsed as JSON when they
can be (numbers, booleans, lists), else taken as strings.
"""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .dates import ENVELOPE

DEFAULTS: dict[str, Any] = {
    # PostgreSQL + PostGIS, as an SQLAlchemy URL. Falls back to $DATABASE_URL.
    "DATABASE_URL": None,
    # The project's metric CRS: every geometry is stored in it and every distance is
    # measured in it. RD New for the Netherlands; 31370 (Belgian Lambert 72) for Flanders.
    "SRID": 28992,
    # Base map; works are drawn on top and still show when tiles cannot load.
    "TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "TILE_ATTRIBUTION": "&copy; OpenStreetMap contributors",
    # The area the deployment covers (EPSG:4326: min lon, min lat, max lon, max lat).
    "REGION_BBOX": [3.2, 50.7, 7.3, 53.6],
    # The centre of the maps when nothing else says where to look (lat, lon).
    "MAP_CENTRE": [52.04, 5.665],
    "BABEL_DEFAULT_LOCALE": "nl",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
    "LANGUAGES": ["nl", "en"],
    # Seconds to wait for the database when connecting (the health check must answer fast).
    "DATABASE_CONNECT_TIMEOUT": 5,
    "DATABASE_POOL_SIZE": 5,
    # Combination proposals: unit figures for what digging once instead of twice saves.
    "COMBINATION_TRENCH_EUR_PER_M": 250.0,
    "COMBINATION_REPAVE_WIDTH_M": 3.0,
    "COMBINATION_REPAVE_EUR_PER_M2": 45.0,
    # A dig ban proposed when a road/pavement work is completed: its area is the work's
    # geometry grown by this many metres, its period this many years from the day after.
    "DIG_BAN_BUFFER_M": 1.0,
    "DIG_BAN_YEARS": 3,
    "DIG_BAN_DISCIPLINES": ["road"],
    # The title and reason a proposed ban gets (stored with the ban, in the deployment's
    # language; ``{streets}``: the streets its area covers most, ``{years}``: DIG_BAN_YEARS;
    # DIG_BAN_TITLE where no street is known). They never name the work: docs/security.md.
    "DIG_BAN_TITLE_STREETS": "Graafverbod {streets}",
    "DIG_BAN_TITLE": "Graafverbod na nieuwe verharding",
    "DIG_BAN_REASON": "Nieuwe verharding: {years} jaar niet openbreken, behalve bij calamiteiten.",
    # The first and last day a work or a dig ban may have (YYYY-MM-DD). They may narrow the
    # range the database keeps (1900-01-01 to 2199-12-31, its CHECK constraint), not widen it.
    "DATE_MIN": ENVELOPE.first,
    "DATE_MAX": ENVELOPE.last,
    # Largest file a bulk import of works accepts, in bytes (a zip: its own size; what it
    # unpacks to may be four times as much, counted as it is unpacked).
    "IMPORT_MAX_BYTES": 100 * 1024 * 1024,
    # Most vertices (coordinate pairs) one geometry may have, by every way in (API, form,
    # import); a write through the API or the form holds one geometry, so this is also the
    # most one such request may send. What real plans need: the demo town's largest work
    # has 165 (a 10 km multi-line), a long trench digitised every metre or two has a few
    # thousand, a district's streets as one multi-line some ten thousand. A million took
    # the map down (PostGIS simplifies a geometry in one uninterruptible call).
    "GEOMETRY_MAX_VERTICES": 20_000,
    # Most vertices one import file may hold in all (100,000 works of 50 vertices each).
    "IMPORT_MAX_VERTICES": 5_000_000,
    # Longest a database statement may run, in milliseconds (PostgreSQL statement_timeout,
    # set on every transaction): for requests; a statement past it is cancelled and the
    # request answers 503. Imports, recomputes and `kip` commands take the bulk one.
    "STATEMENT_TIMEOUT_MS": 5_000,
    "BULK_STATEMENT_TIMEOUT_MS": 10 * 60 * 1000,
    # Serve over HTTPS (directly or behind a proxy that says so): secure cookies and HSTS.
    "HTTPS": False,
    # Proxies in front of KIP whose X-Forwarded-* headers are trusted (0: none).
    "TRUSTED_PROXIES": 0,
    # Largest request body in bytes (file uploads included).
    "MAX_CONTENT_LENGTH": 110 * 1024 * 1024,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # What hashing a password costs (argon2id): passes over the memory, the memory in KiB,
    # and lanes. argon2-cffi's defaults (RFC 9106's low-memory profile): a fraction of a
    # second a login. A changed cost applies to new passwords and to each account's next
    # login (its hash is made again); the tests lower it (kip.passwords).
    "PASSWORD_TIME_COST": 3,
    "PASSWORD_MEMORY_KIB": 64 * 1024,
    "PASSWORD_PARALLELISM": 4,
    # Where rate limits are counted. memory:// counts in each worker process on its own, so
    # with N workers a caller gets up to N times every limit; redis://host:6379 counts once
    # for all of them (scripts/start uses redis://127.0.0.1:6379 when a Redis answers there).
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_LOGIN": "10 per minute;100 per day",
    "RATELIMIT_PASSWORD_RESET": "5 per hour",
    "RATELIMIT_API": "600 per minute",
    # A secret for monitoring: /healthz shows the database's details to a request that sends
    # it as "Authorization: Bearer <token>" (everyone else learns only up or down). None: off.
    "HEALTH_TOKEN": None,
    # Outgoing mail (password reset links). Without MAIL_SERVER the link is logged instead.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "KIP <kip@localhost>",
}

# Settings that may also be given without the KIP_ prefix, as common platforms set them.
UNPREFIXED_FALLBACKS = {"DATABASE_URL": "DATABASE_URL"}


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and what to do."""


def load_config(
    instance_path: Path, overrides: dict[str, Any] | None = None, environ: dict | None = None
) -> dict[str, Any]:
    """Return the effective configuration, without touching a Flask app.

    Order (later wins): :data:`DEFAULTS`, ``instance/config.py``, the environment,
    ``overrides`` (what a test or an embedding program passes to ``create_app``). The
    instance file is read by Flask's own ``Config.from_pyfile``.

    >>> cfg = load_config(Path("/nonexistent"), environ={"KIP_SRID": "31370"})
    >>> cfg["SRID"]
    31370
    >>> load_config(Path("/nonexistent"), environ={"DATABASE_URL": "postgresql://h/db"})[
    ...     "DATABASE_URL"]
    'postgresql+psycopg://h/db'
    """
    import json

    from flask import Config  # here, not above: the engine and readers read DEFAULTS only

    environ = os.environ if environ is None else environ
    cfg = Config(instance_path, DEFAULTS)
    cfg.from_pyfile("config.py", silent=True)  # its upper-case names; none when it is absent

    # The environment, as Config.from_prefixed_env reads it (values parsed as JSON when they
    # can be, else kept as text) - but from ``environ``, so that a test or a migration can
    # pass its own, and without that method's nesting of names at "__".
    for key, name in UNPREFIXED_FALLBACKS.items():
        if environ.get(name) and not environ.get("KIP_" + key):
            cfg[key] = environ[name]
    for name, raw in environ.items():
        if not name.startswith("KIP_") or name == "KIP_INSTANCE_PATH":
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        cfg[name.removeprefix("KIP_")] = value

    cfg.update(overrides or {})
    cfg["SRID"] = _as_srid(cfg["SRID"])
    cfg["DATE_MIN"], cfg["DATE_MAX"] = _date_range(cfg["DATE_MIN"], cfg["DATE_MAX"])
    if cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = normalise_database_url(str(cfg["DATABASE_URL"]))
    return dict(cfg)


def _as_srid(value: Any) -> int:
    try:
        srid = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"KIP_SRID must be an EPSG code such as 28992, not {value!r}") from None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_epsg(srid)
    except CRSError:
        raise ConfigError(f"KIP_SRID={srid} is not a known EPSG code") from None
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise ConfigError(
            f"KIP_SRID={srid} ({crs.name}) is not a metric projected CRS; distances are "
            "measured in it, so choose one in metres (28992 for the Netherlands, 31370 "
            "for Flanders)"
        )
    return srid


def _date_range(first: Any, last: Any) -> tuple[date, date]:
    """The deployment's first and last day, within what the database keeps.

    >>> _date_range("1950-01-01", date(2100, 12, 31))
    (datetime.date(1950, 1, 1), datetime.date(2100, 12, 31))
    >>> _date_range("1900-01-01", "2299-12-31")
    Traceback (most recent call last):
    ...
    kip.config.ConfigError: KIP_DATE_MAX=2299-12-31 is after 2199-12-31, the last day the database keeps (its CHECK constraint period_in_range); KIP_DATE_MAX may narrow that range, not widen it
    """  # noqa: E501
    days = []
    for name, value in (("DATE_MIN", first), ("DATE_MAX", last)):
        if isinstance(value, datetime):
            value = value.date()
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"KIP_{name} must be a day as YYYY-MM-DD, not {value!r}") from None
        if day not in ENVELOPE:
            side, bound, which = (
                ("before", ENVELOPE.first, "first")
                if day < ENVELOPE.first
                else ("after", ENVELOPE.last, "last")
            )
            raise ConfigError(
                f"KIP_{name}={day.isoformat()} is {side} {bound.isoformat()}, the {which} day "
                f"the database keeps (its CHECK constraint period_in_range); KIP_{name} may "
                "narrow that range, not widen it"
            )
        days.append(day)
    if days[1] < days[0]:
        raise ConfigError(
            f"KIP_DATE_MAX={days[1].isoformat()} is before KIP_DATE_MIN={days[0].isoformat()}"
        )
    return days[0], days[1]


def normalise_database_url(url: str) -> str:
    """Make a PostgreSQL URL use psycopg 3, whatever driver (or none) it names.

    >>> normalise_database_url("postgres://u@h:5432/kip")
    'postgresql+psycopg://u@h:5432/kip'
    >>> normalise_database_url("postgresql+psycopg://u@h/kip")
    'postgresql+psycopg://u@h/kip'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"the database URL {url!r} is not a URL (postgresql://...)")
    if scheme.split("+")[0] not in ("postgres", "postgresql"):
        raise ConfigError(f"KIP needs PostgreSQL with PostGIS, not {scheme!r}")
    return f"postgresql+psycopg://{rest}"


def secret_key(instance_path: Path) -> str:
    """Read the secret key from ``instance/secret_key``, generating it the first time."""
    path = instance_path / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
