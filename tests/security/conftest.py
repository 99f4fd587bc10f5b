"""What the security tests share: logging a client in to the pages, and an import sent
through the API."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from kip.actors import Actor
from kip.services import accounts

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    return CSRF.search(client.get(url).get_data(as_text=True)).group(1)


@pytest.fixture
def log_in() -> Callable[..., str]:
    def log_in(client, email: str, password: str) -> str:
        """Log ``client`` in; return the CSRF token of the new-work form."""
        data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
        assert client.post("/login", data=data).status_code == 302
        return csrf_token(client, "/works/new")

    return log_in


@pytest.fixture
def planner(client, make_user, password, log_in) -> str:
    """``client`` logged in as a planner: the CSRF token of the new-work form."""
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
