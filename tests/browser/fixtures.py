"""Browser tests: Playwright (Python) driving Debian's Chromium against a live KIP server.

The server runs in a thread on a database of its own (committed, so the browser's requests
see what the test wrote), built by the migrations and dropped at the end of the run. Nothing
is downloaded: Chromium is the system's (``/usr/bin/chromium``, installed by
``./scripts/test``). Requests to the tile host are refused here, as they would be offline;
the pages must work without tiles. When a browser test fails, a screenshot of its page goes
to ``test-artifacts/``.

Fixtures for browser tests: ``live_server`` (``.url``, ``.app``, ``.engine``,
``.make_org()``, ``.make_user()``, ``.make_work()``), ``browser``, ``page`` (a fresh
context; ``page.kip_requests`` lists every URL it asked for), ``login(page, user)`` and
``foreign_requests(page)``. This module is a plugin that ``tests/conftest.py`` loads for the
whole suite, so a browser test elsewhere (``tests/security/``) shares the one browser and
server: Playwright's sync API cannot run twice in one process.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import CHEAP_PASSWORDS, work_fields
from flask import Flask
from sqlalchemy import Engine, create_engine
from werkzeug.serving import BaseWSGIServer, make_server

from kip import create_app, migrate
from kip.actors import Actor
from kip.db import database, unit_of_work

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SRID = 28992


@dataclass
class LiveServer:
    url: str
    app: Flask
    engine: Engine

    @property
    def tile_host(self) -> str:
        return urlsplit(self.app.config["TILE_URL"]).netloc

    def make_org(self, name: str | None = None, kind: str = "department") -> Any:
        from kip.services.organisations import add_organisation

        with unit_of_work(self.app) as session:
            org = add_organisation(
                session, Actor.system("test"), name or f"Org {uuid.uuid4().hex[:8]}", kind
            )
            session.flush()
        return org

    def make_user(self, role: str = "planner", organisation: Any = None) -> Any:
        from kip.services.accounts import create_user

        org = organisation or self.make_org()
        with unit_of_work(self.app) as session:
            user = create_user(
                session,
                Actor.system("test"),
                email=f"{role}-{uuid.uuid4().hex[:8]}@example.org",
                name=f"Test {role}",
                organisation=org,
                role=role,
                password=PASSWORD,
            )
            session.flush()
            user.organisation  # noqa: B018  (loaded now: the session closes; objects stay usable)
        return user

    def make_work(self, organisation: Any, **kw: Any) -> Any:
        from kip.services.works import WorkData, create_work

        fields = WorkData(**work_fields(**kw))
        with unit_of_work(self.app) as session:
            work = create_work(session, Actor.system("test"), organisation.id, fields)
            session.flush()
        return work


@pytest.fixture(scope="session")
def live_server(throwaway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = throwaway.create("kip_browser")
    engine = create_engine(url)
    migrate.upgrade(engine, SRID)
    engine.dispose()
    os.environ.setdefault("KIP_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "x", "RATELIMIT_ENABLED": False, **CHEAP_PASSWORDS}
    )
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, database(app).engine)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        database(app).dispose()
        throwaway.drop(url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (./scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"kip_report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies); tile requests are refused."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tile_host = re.escape(live_server.tile_host)
    context.route(re.compile(rf"^https?://([^/]*\.)?{tile_host}/"), lambda route: route.abort())
    page = context.new_page()
    page.kip_requests = []
    page.on("request", lambda r: page.kip_requests.append(r.url))
    yield page
    failed = any(
        getattr(request.node, f"kip_report_{when}", None) is not None
        and getattr(request.node, f"kip_report_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def login(live_server: LiveServer) -> Callable[[Any, Any], None]:
    def log_in(page: Any, user: Any) -> None:
        page.goto(f"{live_server.url}/login")
        page.fill("#email", user.email)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("form.narrow button[type=submit]")
        assert page.url == f"{live_server.url}/", "login failed"

    return log_in


@pytest.fixture
def foreign_requests(live_server: LiveServer) -> Callable[[Any], list[str]]:
    """The URLs a page asked for on a host other than the server's and the tile host."""
    own = urlsplit(live_server.url).netloc

    def foreign(page: Any) -> list[str]:
        out = []
        for url in page.kip_requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            host = parts.netloc
            if host != own and not (
                host == live_server.tile_host or host.endswith("." + live_server.tile_host)
            ):
                out.append(url)
        return out

    return foreign
