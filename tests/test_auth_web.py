"""Logging in and out, passwords, reset mails, admin pages, tokens and headers, over HTTP."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from kip import create_app
from kip.actors import Actor
from kip.services import accounts

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf(client, url: str) -> str:
    page = client.get(url)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, email: str, password: str, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf(client, "/login")}
    return client.post("/login", data=data, **extra)


def test_login_and_logout(client, make_user, password):
    user = make_user(name="Ada Planner")
    response = login(client, user.email, password)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Ada Planner" in home
    token = CSRF.search(home).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert "Ada Planner" not in client.get("/").get_data(as_text=True)


def test_failed_logins_say_the_same_whatever_was_wrong(client, make_user, password):
    user = make_user()
    wrong_password = login(client, user.email, "not the password").get_data(as_text=True)
    unknown = login(client, "nobody@example.org", password).get_data(as_text=True)
    message = "E-mailadres of wachtwoord klopt niet."
    assert message in wrong_password and message in unknown
    assert user.email not in unknown


def test_login_without_csrf_token_is_refused(client, make_user, password):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302  # still not logged in


def test_login_never_redirects_to_another_host(client, make_user, password):
    user = make_user()
    data = {"email": user.email, "password": password, "csrf_token": csrf(client, "/login")}
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/"
    login(client, user.email, password)
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    data["csrf_token"] = csrf(client, "/login")
    assert client.post("/login?next=/account", data=data).headers["Location"] == "/account"


def test_pages_that_need_a_login_send_you_to_it(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_changing_the_password_ends_other_sessions(app: Flask, client, make_user, password):
    user = make_user()
    other = app.test_client()
    login(other, user.email, password)
    login(client, user.email, password)
    data = {
        "csrf_token": csrf(client, "/account"),
        "current_password": password,
        "new_password": "a much better one",
        "repeat": "a much better one",
    }
    assert client.post("/account", data=data).status_code == 302
    assert client.get("/account").status_code == 200  # this session goes on
    assert other.get("/account").status_code == 302  # the other one has ended


def test_a_wrong_current_password_is_said_next_to_the_field(client, make_user, password):
    user = make_user()
    login(client, user.email, password)
    data = {
        "csrf_token": csrf(client, "/account"),
        "current_password": "wrong wrong wrong",
        "new_password": "a much better one",
        "repeat": "a much better one",
    }
    html = client.post("/account", data=data).get_data(as_text=True)
    assert 'id="current_password-error"' in html
    assert "Het huidige wachtwoord klopt niet." in html


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_password_reset_by_mail(app: Flask, client, make_user, smtp, monkeypatch):
    port, inbox = smtp
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    user = make_user()

    data = {"email": user.email, "csrf_token": csrf(client, "/password-reset")}
    known = client.post("/password-reset", data=data, follow_redirects=True)
    data = {"email": "nobody@example.org", "csrf_token": csrf(client, "/password-reset")}
    unknown = client.post("/password-reset", data=data, follow_redirects=True)
    assert len(inbox.messages) == 1  # only the real account gets mail...
    notice = "Als er een account bij dat adres hoort"
    assert notice in known.get_data(as_text=True)  # ...but both see the same answer
    assert notice in unknown.get_data(as_text=True)

    mail = inbox.messages[0]
    assert mail["To"] == user.email
    link = re.search(
        r"http://localhost(/password-reset/\S+)", mail.get_payload(decode=True).decode()
    )
    assert link, mail.get_payload()
    path = link.group(1)
    data = {
        "csrf_token": csrf(client, path),
        "new_password": "fresh password 1",
        "repeat": "fresh password 1",
    }
    assert client.post(path, data=data).status_code == 302
    assert accounts.authenticate(_session(app), user.email, "fresh password 1") is not None
    assert client.get(path).status_code == 400  # the link is used up


def _session(app: Flask):
    from kip.db import database

    return database(app).sessionmaker()


def test_administrator_pages_are_for_administrators(client, make_user, password):
    assert client.get("/admin/users").status_code == 302  # to the login
    planner = make_user("planner")
    login(client, planner.email, password)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/tokens").status_code == 403


def test_an_administrator_creates_a_user_and_a_token(client, make_user, make_org, password):
    admin = make_user("administrator")
    partner = make_org("Netbeheerder Vallei", kind="grid_operator")
    login(client, admin.email, password)
    data = {
        "csrf_token": csrf(client, "/admin/users"),
        "email": "planner@vallei.example",
        "name": "Piet Planner",
        "organisation": partner.id,
        "role": "planner",
        "password": "a good first password",
    }
    assert client.post("/admin/users", data=data).status_code == 302
    assert "planner@vallei.example" in client.get("/admin/users").get_data(as_text=True)

    data = {
        "csrf_token": csrf(client, "/admin/tokens"),
        "organisation": partner.id,
        "scope": "write",
        "name": "GIS koppeling",
        "days": 30,
    }
    page = client.post("/admin/tokens", data=data).get_data(as_text=True)
    secret = re.search(r'<code id="new-token">(kip_[^<]+)</code>', page).group(1)
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert secret not in listing  # shown once
    assert secret[:12] in listing


def test_bearer_tokens_act_for_their_organisation(client, session, make_org, make_work):
    org = make_org()
    work = make_work(organisation=org, visibility="partners")
    assert client.get(f"/works/{work.id}").status_code == 404  # not public
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="read", name="t"
    )
    headers = {"Authorization": f"Bearer {new.secret}"}
    assert client.get(f"/works/{work.id}", headers=headers).status_code == 200
    accounts.revoke_token(session, Actor.system("test"), new.token.id)
    session.flush()
    response = client.get(f"/works/{work.id}", headers=headers)
    assert response.status_code == 302  # an HTML page sends a refused token to the login
    response = client.get(f"/works/{work.id}", headers={**headers, "Accept": "application/json"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["code"] == "unauthorized"


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here
    cookie = client.get("/?lang=en").headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie


@pytest.fixture
def fresh_app(database_url, tmp_path, monkeypatch):
    """Another app on the test database, with settings of its own; disposed afterwards."""
    monkeypatch.setenv("KIP_INSTANCE_PATH", str(tmp_path))
    made = []

    def make(**config) -> Flask:
        made.append(create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", **config}))
        return made[-1]

    yield make
    from kip.db import database

    for app in made:
        database(app).dispose()


def test_https_deployments_get_hsts_and_secure_cookies(fresh_app):
    app = fresh_app(HTTPS=True)
    client = app.test_client()
    response = client.get("/login", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert "Secure" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]


def test_login_is_rate_limited(fresh_app):
    app = fresh_app(RATELIMIT_LOGIN="3 per minute", WTF_CSRF_ENABLED=False)
    client = app.test_client()
    codes = [
        client.post("/login", data={"email": "a@example.org", "password": "x"}).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_request_size_is_limited(fresh_app):
    app = fresh_app(MAX_CONTENT_LENGTH=1000, WTF_CSRF_ENABLED=False)
    response = app.test_client().post("/login", data={"email": "a" * 5000, "password": "x"})
    assert response.status_code == 413
