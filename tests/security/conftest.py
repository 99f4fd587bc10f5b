"""Fixtures for the security cases: a database that is down."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.engine import make_url


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
