"""What the security cases share: a database that is down, a client logged in to the pages,
and an import sent through the API."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import log_in
from sqlalchemy.engine import make_url

from kip.actors import Actor
from kip.services import accounts


@pytest.fixture
def unused_port() -> int:
    """A port on 127.0.0.1 where nothing listens: a database there is a database that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def down_url(database_url: str, unused_port: int) -> str:
    """The test database's URL (its name and user) moved to :func:`unused_port`."""
    url = make_url(database_url).set(host="127.0.0.1", port=unused_port)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def planner(client, make_user, password) -> str:
    """``client`` logged in as a planner: the session's CSRF token."""
    return log_in(client, make_user("planner").email, password)


@pytest.fixture
def api_import(client, session, make_org) -> Callable[..., object]:
    """``api_import(path)``: a dry-run import of the file at ``path`` through the API, by
    an organisation's write token."""
    org = make_org("Gemeente Ede")
    token = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="write", name="GIS"
    )

    def send(path: Path, **form: object):
        return client.post(
            "/api/v1/imports",
            data={"file": (io.BytesIO(path.read_bytes()), path.name), "dry_run": "true", **form},
            headers={"Authorization": f"Bearer {token.secret}"},
            content_type="multipart/form-data",
        )

    return send
