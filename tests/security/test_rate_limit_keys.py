"""Issue 13, point 7: rate limits cannot be turned against a partner.

Before the fix the API's bucket was the token's first 12 characters, taken before the token
was checked: anyone who saw a token's prefix (the token list shows it) used up that
partner's limit with junk. Now a live token counts against itself and anything else
against the caller's address. And the limits were counted per worker process (memory
storage), so gunicorn's workers multiplied them: the start script now counts them in Redis
when one answers, and Redis (through flask-limiter's extra) is a declared dependency.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from conftest import org_maker, rolled_back
from flask import Flask
from packaging.requirements import Requirement
from sqlalchemy.orm import Session

from kip import ROOT, create_app
from kip.actors import Actor
from kip.db import database
from kip.services import accounts

LIMIT = 3
REDIS_URL = "redis://127.0.0.1:6379"
PARTNER_ADDRESS, ATTACKER_ADDRESS, OTHER_ADDRESS = "192.0.2.10", "203.0.113.7", "198.51.100.20"


@pytest.fixture
def limited_app(database_url: str, tmp_path: Path, monkeypatch) -> Iterator[Callable[..., Flask]]:
    """Apps on the test database whose API allows :data:`LIMIT` requests per hour (an hour,
    so that no window ends during a test); disposed afterwards."""
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path))
    made: list[Flask] = []

    def make(**config) -> Flask:
        settings = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_API": f"{LIMIT} per hour",
        }
        made.append(create_app({**settings, **config}))
        return made[-1]

    yield make
    for app in made:
        database(app).dispose()


def _from(app: Flask, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def partner(limited_app) -> Iterator[tuple[Flask, accounts.NewToken, accounts.NewToken]]:
    """A rate-limited app, and a partner's live token and revoked token in its database."""
    app = limited_app()
    with rolled_back(app, database(app).engine) as connection:
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        organisation = org_maker(session)("Netwerk Vallei", kind="grid_operator")
        system = Actor.system("test")

        def token(name: str) -> accounts.NewToken:
            return accounts.create_token(
                session, system, organisation=organisation, scope="read", name=name
            )

        live, old = token("GIS"), token("oud")
        accounts.revoke_token(session, system, old.token.id)
        session.commit()
        yield app, live, old


def test_junk_with_a_partners_prefix_uses_up_only_the_senders_own_limit(partner):
    app, token, _old = partner
    prefix = token.token.prefix  # what the administrator's token list shows
    assert token.secret.startswith(prefix)

    attacker = _from(app, ATTACKER_ADDRESS)
    junk = [
        attacker.get("/api/v1/works", headers=_bearer(prefix + secrets.token_urlsafe(32)))
        for _ in range(LIMIT + 2)
    ]
    assert [r.status_code for r in junk] == [401] * LIMIT + [429, 429]
    assert attacker.get("/api/v1/works").status_code == 429  # the address is used up

    # The partner's own limit is whole, wherever it calls from (the attacker's address too):
    # a live token counts against itself.
    calls = [
        _from(app, address).get("/api/v1/works", headers=_bearer(token.secret))
        for address in (OTHER_ADDRESS, ATTACKER_ADDRESS, PARTNER_ADDRESS, OTHER_ADDRESS)
    ]
    assert [r.status_code for r in calls] == [200] * LIMIT + [429]


def test_a_revoked_token_counts_against_the_address_not_the_token(partner):
    app, live, old = partner
    assert old.token.prefix == old.secret[:12]

    sender = _from(app, ATTACKER_ADDRESS)
    codes = [
        sender.get("/api/v1/works", headers=_bearer(old.secret)).status_code
        for _ in range(LIMIT + 1)
    ]
    assert codes == [401] * LIMIT + [429]
    assert sender.get("/api/v1/works").status_code == 429  # the address's limit is used up
    assert sender.get("/api/v1/works", headers=_bearer(live.secret)).status_code == 200


@pytest.fixture
def redis_server() -> Iterator[redis.Redis]:
    """The machine's Redis (the test is skipped, saying so, when none answers)."""
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        server.ping()
    except redis.exceptions.ConnectionError as error:
        server.close()
        pytest.skip(f"no Redis answers at {REDIS_URL} ({error}); start one to run this test")
    yield server
    server.close()


@pytest.fixture
def redis_prefix(redis_server: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own in that Redis, its keys deleted afterwards."""
    prefix = f"kip-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in redis_server.scan_iter(match=f"*{prefix}*"):
        redis_server.delete(key)


def test_a_fresh_install_counts_once_for_all_workers_in_redis(limited_app, redis_prefix):
    # A fresh install has the Redis client (flask-limiter's extra)...
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    assert any(
        r.name == "redis" or (r.name == "flask-limiter" and "redis" in r.extras)
        for r in requirements
    )
    # ... and with the storage in Redis, two workers count against one limit.
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    one, two = limited_app(**shared), limited_app(**shared)  # two gunicorn workers

    calls = [_from(app, OTHER_ADDRESS).get("/api/v1/works") for app in (one, two, one, two, one)]

    assert [r.status_code for r in calls] == [200] * LIMIT + [429, 429]
    assert int(calls[2].headers["X-RateLimit-Remaining"]) == 0


def _storage_chosen_by_start(instance: Path, url: str, **environ: str) -> str:
    """What scripts/lib.sh's ensure_ratelimit_storage (called by scripts/start) leaves in
    KIP_RATELIMIT_STORAGE_URI."""
    script = (
        'source scripts/lib.sh; ensure_ratelimit_storage "$1"; '
        'printf %s "${KIP_RATELIMIT_STORAGE_URI:-}"'
    )
    env = {"PATH": "/usr/bin:/bin", "KIP_INSTANCE_PATH": str(instance), **environ}
    done = subprocess.run(
        ["bash", "-c", script, "_", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def test_the_start_script_counts_in_redis_when_one_answers(tmp_path, redis_server):
    assert "\nensure_ratelimit_storage\n" in (ROOT / "scripts" / "start").read_text()
    assert _storage_chosen_by_start(tmp_path, REDIS_URL) == REDIS_URL


def test_the_start_script_leaves_a_chosen_storage_alone(tmp_path, redis_server):
    chosen = _storage_chosen_by_start(tmp_path, REDIS_URL, KIP_RATELIMIT_STORAGE_URI="memory://")
    assert chosen == "memory://"
    (tmp_path / "config.py").write_text('RATELIMIT_STORAGE_URI = "redis://cache:6379"\n')
    assert _storage_chosen_by_start(tmp_path, REDIS_URL) == ""  # config.py's choice stands


def test_the_start_script_keeps_memory_storage_without_redis(tmp_path):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        unused = probe.getsockname()[1]
    assert _storage_chosen_by_start(tmp_path, f"redis://127.0.0.1:{unused}") == ""
