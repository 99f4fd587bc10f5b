"""Issue 13, point 8: while the database is down, pages and API answer 503, not 500.

Before the fix every page and endpoint that touched the database answered 500 (and finding
out who is asking — a token, a login — touches it too). Now: 503 with ``Retry-After``, a
problem+json body for the API and a Dutch page for people, saying nothing about where the
database is; and once it is back, KIP answers again without a restart.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import log_in
from flask import Flask
from sqlalchemy.engine import make_url

from kip import create_app
from kip.db import database


class Relay:
    """A TCP relay on 127.0.0.1:``port`` to a real PostgreSQL: the database coming back."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        self.sockets: list[socket.socket] = []
        self.server = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.server.accept()
                far = socket.create_connection(self.target)
            except OSError:
                return  # closed
            self.sockets += [near, far]
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the other side closed

    def close(self) -> None:
        self.server.close()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def down(down_url: str, tmp_path: Path, monkeypatch) -> Iterator[Flask]:
    """KIP whose database is at a port nobody serves. Its secret key is the test app's, so
    a login made there is a login here."""
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {
            "DATABASE_URL": down_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    database(app).dispose()


def _says_nothing_about_the_database(text: str, port: int) -> None:
    for secret in ("127.0.0.1", str(port), "refused", "psycopg", "traceback"):
        assert secret not in text.lower(), secret


def _unavailable_page(response, port: int) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Tijdelijk niet beschikbaar" in page
    assert "KIP kan zijn database op dit moment niet bereiken" in page
    _says_nothing_about_the_database(page, port)


def _unavailable_problem(response, port: int) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "database-unavailable"
    _says_nothing_about_the_database(response.get_data(as_text=True), port)


def test_the_api_answers_503_problem_json(down, unused_port):
    client = down.test_client()
    _unavailable_problem(client.get("/api/v1/works"), unused_port)
    _unavailable_problem(client.get("/api/v1/works/1"), unused_port)


def test_pages_answer_503_in_dutch(down, unused_port):
    client = down.test_client()
    for path in ("/", "/works/1"):
        _unavailable_page(client.get(path), unused_port)


def test_finding_out_who_asks_is_no_500_either(down, unused_port, client, make_user):
    """A token is looked up, and a login's account loaded, in the database."""
    token = {"Authorization": "Bearer kip_" + "x" * 43}
    stranger = down.test_client()
    _unavailable_problem(stranger.get("/api/v1/works", headers=token), unused_port)
    _unavailable_problem(stranger.post("/api/v1/works", json={}, headers=token), unused_port)

    # A planner who logged in while the database was up comes back while it is down.
    log_in(client, make_user("planner").email)
    cookie = client.get_cookie(down.config["SESSION_COOKIE_NAME"]).value
    person = down.test_client()
    person.set_cookie(down.config["SESSION_COOKIE_NAME"], cookie)
    for path in ("/", "/works/1"):
        _unavailable_page(person.get(path), unused_port)
    _unavailable_problem(person.get("/api/v1/works"), unused_port)


def test_kip_answers_again_once_the_database_is_back(down, unused_port, database_url):
    client = down.test_client()
    _unavailable_problem(client.get("/api/v1/works"), unused_port)

    server = make_url(database_url)
    relay = Relay(unused_port, (server.host or "127.0.0.1", server.port or 5432))
    try:
        assert client.get("/api/v1/works").status_code == 200
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200
    finally:
        database(down).dispose()
        relay.close()
