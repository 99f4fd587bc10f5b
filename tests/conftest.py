"""Tests run on a real PostGIS: a throwaway database per test run, built by the migrations.

``KIP_TEST_DATABASE_URL`` names a server (and a maintenance database on it) where the tests
may create databases; ``./scripts/test`` sets it up. Each test that touches data runs in a
transaction that is rolled back, while the code under test may still commit (savepoints).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask
from shapely import LineString
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kip import create_app, migrate
from kip.actors import Actor
from kip.config import normalise_database_url
from kip.db import database

SRID = 28992

# The least a password hash may cost (argon2id: one pass over 8 KiB): every app and session
# of the tests hashes at it, for a test that logs somebody in pays a production hash's
# fraction of a second for nothing. The tests of hashing itself use the defaults
# (tests/test_accounts.py).
CHEAP_PASSWORDS = {"PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_KIB": 8, "PASSWORD_PARALLELISM": 1}

# The browser tests' fixtures (a live server, Chromium, a page), for every test that needs
# them - in tests/browser and in tests/security - from one place, so there is one browser.
pytest_plugins = ["browser.fixtures"]


def _server_url() -> str:
    url = os.environ.get("KIP_TEST_DATABASE_URL") or os.environ.get("KIP_DATABASE_URL")
    if not url:
        pytest.exit(
            "no test database server: set KIP_TEST_DATABASE_URL to a PostgreSQL URL where the "
            "tests may create databases, or run ./scripts/test, which sets one up",
            returncode=2,
        )
    return normalise_database_url(url)


class Throwaway:
    """Create and drop whole databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = make_url(server_url)
        self.admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, prefix: str = "kip_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def throwaway() -> Iterator[Throwaway]:
    pool = Throwaway(_server_url())
    yield pool
    pool.drop_all()


@pytest.fixture(scope="session")
def database_url(throwaway: Throwaway) -> str:
    """A migrated, empty KIP database for this test run."""
    url = throwaway.create()
    engine = create_engine(url)
    migrate.upgrade(engine, SRID)
    engine.dispose()
    return url


@pytest.fixture
def committed_engine(throwaway: Throwaway) -> Iterator[Engine]:
    """A migrated database of this test's own, where sessions really commit (for what two
    transactions do to each other)."""
    url = throwaway.create()
    engine = create_engine(url)
    migrate.upgrade(engine, SRID)
    yield engine
    engine.dispose()
    throwaway.drop(url)


@pytest.fixture
def database_at(throwaway: Throwaway) -> Iterator[Callable[[str], Engine]]:
    """``database_at(revision)``: an engine on a database of this test's own, migrated up
    to ``revision`` (for what a migration does to the rows it finds)."""
    made: list[tuple[str, Engine]] = []

    def make(revision: str) -> Engine:
        url = throwaway.create()
        engine = create_engine(url)
        migrate.upgrade(engine, SRID, revision)
        made.append((url, engine))
        return engine

    yield make
    for url, engine in made:
        engine.dispose()
        throwaway.drop(url)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    os.environ["KIP_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            **CHEAP_PASSWORDS,
        }
    )
    yield app
    database(app).dispose()  # close the pooled connections before the database is dropped


@pytest.fixture(scope="session")
def engine(app: Flask) -> Engine:
    return database(app).engine


@contextmanager
def rolled_back(app: Flask, engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back at the end.

    The app's sessions are bound to it with savepoints, so a request that commits still
    leaves nothing behind. (The ``connection`` fixture, per test; a module that builds one
    world for all its tests uses it at module scope.)
    """
    db = database(app)
    conn = engine.connect()
    outer = conn.begin()
    original = db.sessionmaker
    db.sessionmaker = sessionmaker(
        bind=conn,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=db.session_info,  # what the app's own sessions carry (its range of dates)
    )
    try:
        yield conn
    finally:
        db.sessionmaker = original
        outer.rollback()
        conn.close()


@pytest.fixture
def connection(app: Flask, engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with rolled_back(app, engine) as conn:
        yield conn


def session_on(app: Flask, connection: Connection, **kw: Any) -> Session:
    """A session of the test's own on ``connection`` (savepoints for its commits) that
    carries what the app's sessions carry (its range of dates, its password cost)."""
    return Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        info=database(app).session_info,
        **kw,
    )


@pytest.fixture
def session(app: Flask, connection: Connection) -> Iterator[Session]:
    sess = session_on(app, connection)
    yield sess
    sess.close()


@pytest.fixture
def client(app: Flask, connection: Connection):
    return app.test_client()


@pytest.fixture
def actor() -> Actor:
    return Actor.system("test")


def work_fields(**kw: Any) -> dict[str, Any]:
    """A work's fields: sensible defaults for what a test leaves out, then ``kw``."""
    return {
        "title": "Vervangen riolering",
        "discipline": "sewer",
        "phase": "planned",
        "geometry": LineString([(174000, 450000), (174100, 450000)]),
        "start_date": date(2027, 3, 1),
        "end_date": date(2027, 6, 30),
        **kw,
    }


def org_maker(session: Session) -> Callable[..., Any]:
    """``make_org(name=None, kind="department", **kw)``, creating through the service."""
    from kip.services.organisations import add_organisation

    counter = iter(range(1, 10_000))

    def make(name: str | None = None, kind: str = "department", **kw: Any):
        org_name = name or f"Organisation {next(counter)}"
        return add_organisation(session, Actor.system("test"), org_name, kind, **kw)

    return make


def work_maker(session: Session, make_org: Callable[..., Any]) -> Callable[..., Any]:
    """``make_work(organisation=None, **fields)``: a work created through the service, with
    sensible defaults for what a test leaves out."""
    from kip.services.works import WorkData, create_work

    def make(organisation=None, **kw: Any):
        org = organisation or make_org()
        return create_work(session, Actor.system("test"), org.id, WorkData(**work_fields(**kw)))

    return make


PASSWORD = "correct horse battery"


def user_maker(session: Session, make_org: Callable[..., Any]) -> Callable[..., Any]:
    """``make_user(role="planner", organisation=None, email=None, **kw)``: an account created
    through the service, with the password ``PASSWORD``."""
    from kip.services.accounts import create_user

    counter = iter(range(1, 10_000))

    def make(role: str = "planner", organisation=None, email: str | None = None, **kw: Any):
        org = organisation or make_org()
        return create_user(
            session,
            Actor.system("test"),
            email=email or f"user{next(counter)}-{uuid.uuid4().hex[:6]}@example.org",
            name=kw.pop("name", f"Test {role}"),
            organisation=org,
            role=role,
            password=kw.pop("password", PASSWORD),
        )

    return make


CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def log_in(client: Any, email: str, password: str = PASSWORD) -> str:
    """Log ``client`` in through the login form; returns the session's CSRF token."""
    csrf = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf}
    )
    assert response.status_code == 302, f"{email} could not log in"
    return csrf


@pytest.fixture
def make_org(session: Session):
    return org_maker(session)


@pytest.fixture
def make_work(session: Session, make_org):
    """Create a work through the service, with sensible defaults for what a test leaves out."""
    return work_maker(session, make_org)


@pytest.fixture
def password() -> str:
    """The password every account made by ``make_user`` has."""
    return PASSWORD


@pytest.fixture
def make_user(session: Session, make_org):
    """Create an account (through the service) with the password ``PASSWORD``."""
    return user_maker(session, make_org)
