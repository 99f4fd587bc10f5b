"""The database: declarative base, the project SRID, one engine and one unit of work per app.

Views never commit. A request gets one session (:func:`session`); after the view returns,
:func:`_finish_request` commits when the response is a success and rolls back otherwise,
in this one place. Commands do the same through :func:`unit_of_work`.

No statement outlives its request: every transaction on the app's engine begins with a
PostgreSQL ``statement_timeout`` (``STATEMENT_TIMEOUT_MS``); imports, recomputes and
commands run theirs under the longer ``BULK_STATEMENT_TIMEOUT_MS``
(:func:`long_statements`). A statement past it is cancelled by the database and becomes a
:class:`~kip.errors.StatementTimeout` (503).

The models, the engine and the services use this module without an app; only the
functions that find the current request's session (:func:`session`, :func:`database`, the
request's end) import Flask, when they are called.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from geoalchemy2 import Geometry
from psycopg.errors import QueryCanceled
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from . import dates, passwords
from .config import DEFAULTS
from .dates import ENVELOPE, DateRange
from .errors import StatementTimeout
from .passwords import PasswordCost

if TYPE_CHECKING:
    from flask import Flask, Response

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def project_geometry(geometry_type: str = "GEOMETRY", *, spatial_index: bool = True) -> Geometry:
    """A geometry column type in the project's CRS.

    The SRID is a deployment setting (``KIP_SRID``), so the column types start without one
    and :func:`bind_srid` gives them the configured SRID before they are used (it runs when an
    app is created and when migrations run). Geometries always travel with their SRID (EWKB),
    so the database's typmod is what rejects a geometry in another CRS.
    """
    geom = Geometry(geometry_type=geometry_type, srid=-1, spatial_index=spatial_index)
    geom.kip_project_srid = True  # type: ignore[attr-defined]
    return geom


_bound_srid: int | None = None


def bind_srid(srid: int) -> None:
    """Give every project geometry column the deployment's SRID.

    One process serves one deployment: binding a second, different SRID is refused rather
    than silently changing the models under a running app.
    """
    global _bound_srid
    if _bound_srid is not None and _bound_srid != srid:
        raise RuntimeError(
            f"this process already uses SRID {_bound_srid}; one process serves one CRS "
            f"(asked for {srid})"
        )
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if getattr(column.type, "kip_project_srid", False):
                column.type.srid = srid
    _bound_srid = srid


def bound_srid() -> int:
    """The project SRID this process was configured with."""
    if _bound_srid is None:
        raise RuntimeError("no SRID bound yet: create the app (or call bind_srid) first")
    return _bound_srid


# The two statement timeouts, by the name of their setting.
REQUEST_TIMEOUT = "STATEMENT_TIMEOUT_MS"
BULK_TIMEOUT = "BULK_STATEMENT_TIMEOUT_MS"
_TIMEOUTS = "kip_statement_timeouts"  # engine option: {setting: milliseconds}
_TIMEOUT = "kip_statement_timeout"  # connection option and info: the setting in force


class Database:
    """The engine and session factory of one app (``app.extensions['kip.db']``).

    Its sessions carry the deployment's range of dates and the cost of a password hash
    (``session.info``, read by :func:`kip.dates.allowed` and :func:`kip.passwords.cost`), so
    that a service checks dates and hashes passwords by them without knowing the app.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = 5,
        pool_size: int = 5,
        date_range: DateRange = ENVELOPE,
        password_cost: PasswordCost = passwords.DEFAULT,
        statement_timeouts: Mapping[str, int] | None = None,
    ) -> None:
        timeouts = {name: int(DEFAULTS[name]) for name in (REQUEST_TIMEOUT, BULK_TIMEOUT)}
        timeouts.update(statement_timeouts or {})
        self.engine: Engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=pool_size,
            connect_args={"connect_timeout": connect_timeout},
            execution_options={_TIMEOUTS: timeouts},
        )
        self.session_info = {dates.SESSION_KEY: date_range, passwords.SESSION_KEY: password_cost}
        event.listen(self.engine, "begin", _set_statement_timeout)
        event.listen(self.engine, "handle_error", _cancelled_by_timeout)
        self.sessionmaker: sessionmaker[Session] = sessionmaker(
            bind=self.engine, expire_on_commit=False, info=self.session_info
        )

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (registers every table on Base.metadata)

    bind_srid(app.config["SRID"])
    url = app.config.get("DATABASE_URL")
    if not url:
        from .config import ConfigError

        raise ConfigError(
            "no database configured: set KIP_DATABASE_URL (or DATABASE_URL) to a PostgreSQL "
            "URL with PostGIS, e.g. postgresql://kip@127.0.0.1:54329/kip"
        )
    app.extensions["kip.db"] = Database(
        url,
        connect_timeout=int(app.config["DATABASE_CONNECT_TIMEOUT"]),
        pool_size=int(app.config["DATABASE_POOL_SIZE"]),
        date_range=DateRange(app.config["DATE_MIN"], app.config["DATE_MAX"]),
        password_cost=PasswordCost.from_config(app.config),
        statement_timeouts={
            name: int(app.config[name]) for name in (REQUEST_TIMEOUT, BULK_TIMEOUT)
        },
    )
    app.after_request(_finish_request)
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["kip.db"]


def session() -> Session:
    """The session of the current request or command (created on first use)."""
    from flask import g

    if "kip_session" not in g:
        g.kip_session = database().sessionmaker()
    return g.kip_session


def _finish_request(response: Response) -> Response:
    from flask import g

    sess: Session | None = g.pop("kip_session", None)
    if sess is None:
        return response
    try:
        if response.status_code < 400:
            sess.commit()
        else:
            sess.rollback()
    finally:
        sess.close()
    return response


def _close_session(exc: BaseException | None) -> None:
    from flask import g

    sess: Session | None = g.pop("kip_session", None)
    if sess is not None:
        sess.rollback()
        sess.close()


# SQLSTATEs that mean the server is going away or not taking connections (not that a
# statement failed): admin/crash shutdown, starting up, too many connections.
_DOWN_STATES = {"57P01", "57P02", "57P03", "53300"}


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be used right now — down, restarting,
    refusing connections, the connection lost, or no connection free in the pool — rather
    than that a statement was wrong.

    >>> unavailable(sa_exc.TimeoutError("QueuePool limit reached"))
    True
    >>> unavailable(ValueError("no"))
    False
    """
    if isinstance(error, sa_exc.TimeoutError):
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    state = getattr(error.orig, "sqlstate", None)
    return state is None or state.startswith("08") or state in _DOWN_STATES


@contextmanager
def unit_of_work(app: Flask | None = None) -> Iterator[Session]:
    """One transaction for a command: commit when the block succeeds, roll back otherwise.

    A command's statements run under ``BULK_STATEMENT_TIMEOUT_MS``.
    """
    sess = database(app).sessionmaker()
    try:
        long_statements(sess)
        yield sess
        sess.commit()
    except BaseException:
        sess.rollback()
        raise
    finally:
        sess.close()


def _set_statement_timeout(conn: Connection) -> None:
    """At the start of each transaction on KIP's engine: the statement timeout in force
    (the request's, unless :func:`long_statements` chose the bulk one)."""
    options = conn.get_execution_options()
    timeouts = options.get(_TIMEOUTS)
    if timeouts is None:  # a connection of another engine (a test's, a migration's)
        return
    setting = options.get(_TIMEOUT, REQUEST_TIMEOUT)
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeouts[setting])}")
    conn.info[_TIMEOUT] = (setting, int(timeouts[setting]))


def command_engine(app: Flask | None = None) -> Engine:
    """The app's engine for a command that uses it without a session (migrations): its
    transactions run under ``BULK_STATEMENT_TIMEOUT_MS``."""
    return database(app).engine.execution_options(**{_TIMEOUT: BULK_TIMEOUT})


def long_statements(sess: Session) -> None:
    """Let the statements of the session's transaction run up to
    ``BULK_STATEMENT_TIMEOUT_MS``: for imports, recomputes and commands."""
    conn = sess.connection()
    conn.execution_options(**{_TIMEOUT: BULK_TIMEOUT})
    _set_statement_timeout(conn)


def _cancelled_by_timeout(context: ExceptionContext) -> None:
    if isinstance(context.original_exception, QueryCanceled):
        info = context.connection.info if context.connection is not None else {}
        raise statement_timeout(*info.get(_TIMEOUT, (REQUEST_TIMEOUT, None))) from (
            context.sqlalchemy_exception
        )


def timeout_in_force() -> tuple[str, int | None]:
    """The statement timeout of the current request's transaction: for a cancel that
    reached the request past SQLAlchemy (the overlap engine talks to psycopg itself)."""
    from flask import g

    sess: Session | None = g.get("kip_session")
    if sess is None:
        return REQUEST_TIMEOUT, None
    return sess.connection().info.get(_TIMEOUT, (REQUEST_TIMEOUT, None))


def abandon_transaction() -> None:
    """Roll back the current request's transaction (a cancelled statement aborted it)."""
    from flask import g

    sess: Session | None = g.get("kip_session")
    if sess is not None:
        sess.rollback()


def statement_timeout(setting: str, ms: int | None = None) -> StatementTimeout:
    """The error for a statement the database cancelled past the timeout of ``setting``."""
    limit = f"{ms:,} ms, {setting}" if ms is not None else setting
    return StatementTimeout(
        f"the database stopped a statement that ran past its time limit ({limit}); "
        "try again later, or ask for less (a smaller area, fewer works)",
        setting=setting,
    )
