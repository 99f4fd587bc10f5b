"""Every route × every kind of caller → the expected status, generated from the URL map.

A route that has no rule here fails :func:`test_every_route_has_a_rule`: a new page or
endpoint is not done until somebody has decided who may use it. Strangers (no login, an
expired or revoked token) are refused a write before anything else: a bad body, a missing
or stale If-Match or form version get them the same 401 (a page: the login page) as a good
request (:func:`test_strangers_are_refused_before_anything_else`).

The organisations, people, tokens and records are built once for the module (:func:`world`)
and every request runs in a savepoint that is rolled back, so no case sees another's writes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from conftest import log_in, org_maker, rolled_back, session_on, user_maker, work_maker
from flask import Flask
from shapely import LineString
from sqlalchemy import Connection, Engine, select

from kip.actors import Actor
from kip.services import accounts

ROLES = (
    "anonymous",
    "planner",  # of the organisation that owns the subject work
    "other_planner",  # of another organisation
    "coordinator",  # of the municipality (a third organisation)
    "administrator",
    "read_token",  # of the owning organisation
    "write_token",
    "expired_token",
    "revoked_token",
)
BAD_TOKENS = {"expired_token": 401, "revoked_token": 401}
STRANGERS = ("anonymous", *BAD_TOKENS)


def everyone(status: int, *, bad_tokens: int | None = None) -> dict[str, int]:
    result = dict.fromkeys(ROLES, status)
    if bad_tokens is not None:
        result.update(dict.fromkeys(BAD_TOKENS, bad_tokens))
    return result


def roles(default: int, bad_tokens: int | None = None, **overrides: int) -> dict[str, int]:
    result = everyone(default, bad_tokens=bad_tokens)
    result.update(overrides)
    return result


NO_SESSION = ("anonymous", "read_token", "write_token", "expired_token", "revoked_token")
# A page refuses a bad token like a missing login: it sends you to the login page (302).
PAGE_LOGIN = 302
# The forms for people who are not logged in: logging in and out, a password reset.
OPEN_TO_STRANGERS = {"auth.login", "auth.logout", "auth.request_reset", "auth.reset"}


def form_post(expected: dict[str, int]) -> dict[str, int]:
    """A form POST: a stranger is sent to log in before anything else; a valid token has no
    login session, so no CSRF token: 400."""
    return {
        **expected,
        **dict.fromkeys(STRANGERS, PAGE_LOGIN),
        "read_token": 400,
        "write_token": 400,
    }


def open_form_post(expected: dict[str, int]) -> dict[str, int]:
    """A POST of a form open to strangers: without a login session there is no CSRF token,
    so 400 comes first."""
    return {**expected, **dict.fromkeys(NO_SESSION, 400)}


SESSION_ONLY = {"read_token": 302, "write_token": 302}
ADMIN_PAGE = roles(403, bad_tokens=PAGE_LOGIN, anonymous=PAGE_LOGIN, administrator=200)
COORDINATOR_PAGE = roles(403, bad_tokens=PAGE_LOGIN, anonymous=PAGE_LOGIN, coordinator=200)

FEATURE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [5.6656, 52.0406]},
    "properties": {
        "title": "Nieuwe kabel",
        "discipline": "electricity",
        "phase": "design",
        "start_date": "2027-01-01",
        "end_date": "2027-02-01",
    },
}


DIG_BAN = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[5.665, 52.040], [5.666, 52.040], [5.666, 52.041], [5.665, 52.040]]],
    },
    "properties": {"title": "Graafverbod", "start_date": "2027-01-01", "end_date": "2029-12-31"},
}


UPLOAD = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    b'{"type": "Point", "coordinates": [5.66, 52.04]}, "properties": {"kenmerk": "M-1", '
    b'"titel": "Kabel", "vakdiscipline": "elektriciteit", "fase": "ontwerp", '
    b'"startdatum": "2027-01-01", "einddatum": "2027-02-01"}}]}'
)


@dataclass(frozen=True)
class Case:
    path: str  # with {work}, {deleted}, {token} placeholders
    expected: dict[str, int]
    json: dict | None = None
    form: dict | None = None
    if_match: bool = False
    upload: bytes | None = None  # sent as the multipart field "file"
    version_field: str | None = None  # a form's field that says which version it edits


# (endpoint, method) -> what each caller gets.
MATRIX: dict[tuple[str, str], Case] = {
    ("static", "GET"): Case("/static/kip.css", everyone(200)),
    ("health.healthz", "GET"): Case("/healthz", everyone(200)),
    ("home.index", "GET"): Case("/", everyone(200)),
    ("home.plan", "GET"): Case("/plan", roles(200, bad_tokens=302, anonymous=302)),
    ("api_map.MapWorks", "GET"): Case(
        "/api/v1/map/works?bbox=5.6,52.0,5.7,52.1", roles(200, bad_tokens=401)
    ),
    ("auth.login", "GET"): Case("/login", everyone(200)),
    ("auth.login", "POST"): Case(
        "/login", open_form_post(everyone(200)), form={"email": "", "password": ""}
    ),
    ("auth.logout", "POST"): Case("/logout", open_form_post(everyone(302)), form={}),
    ("auth.account", "GET"): Case(
        "/account", roles(200, bad_tokens=302, anonymous=302, **SESSION_ONLY)
    ),
    ("auth.account", "POST"): Case("/account", form_post(everyone(200)), form={}),
    ("auth.request_reset", "GET"): Case("/password-reset", everyone(200)),
    ("auth.request_reset", "POST"): Case(
        "/password-reset", open_form_post(everyone(200)), form={"email": ""}
    ),
    ("auth.reset", "GET"): Case("/password-reset/not-a-token", everyone(400)),
    ("auth.reset", "POST"): Case("/password-reset/not-a-token", everyone(400), form={}),
    ("admin.index", "GET"): Case("/admin/", {**ADMIN_PAGE, "administrator": 302}),
    ("admin.users", "GET"): Case("/admin/users", ADMIN_PAGE),
    ("admin.users", "POST"): Case("/admin/users", form_post(ADMIN_PAGE), form={}),
    ("admin.tokens", "GET"): Case("/admin/tokens", ADMIN_PAGE),
    ("admin.tokens", "POST"): Case("/admin/tokens", form_post(ADMIN_PAGE), form={}),
    ("admin.organisations", "GET"): Case("/admin/organisations", ADMIN_PAGE),
    ("admin.organisations", "POST"): Case("/admin/organisations", form_post(ADMIN_PAGE), form={}),
    ("admin.revoke_token", "POST"): Case(
        "/admin/tokens/{token}/revoke", form_post({**ADMIN_PAGE, "administrator": 302}), form={}
    ),
    ("works.show", "GET"): Case("/works/{work}", roles(200, bad_tokens=302, anonymous=404)),
    ("works.restore", "POST"): Case(
        "/works/{deleted}/restore",
        form_post(roles(403, coordinator=302)),
        form={},
    ),
    ("works.new", "GET"): Case(
        "/works/new",
        roles(200, bad_tokens=PAGE_LOGIN, anonymous=PAGE_LOGIN, administrator=403, read_token=403),
    ),
    ("works.new", "POST"): Case("/works/new", form_post(roles(422, administrator=403)), form={}),
    ("works.edit", "GET"): Case(
        "/works/{work}/edit",
        roles(403, bad_tokens=PAGE_LOGIN, anonymous=PAGE_LOGIN, planner=200, write_token=200),
    ),
    ("works.edit", "POST"): Case(
        "/works/{work}/edit", form_post(roles(403, planner=422)), form={}, version_field="version"
    ),
    ("transfer.import_page", "GET"): Case(
        "/works/import", roles(200, bad_tokens=PAGE_LOGIN, anonymous=PAGE_LOGIN)
    ),
    ("transfer.import_page", "POST"): Case("/works/import", form_post(everyone(200)), form={}),
    ("transfer.export_file", "GET"): Case("/works/export", roles(200, bad_tokens=PAGE_LOGIN)),
    ("api_works.Works", "GET"): Case("/api/v1/works", roles(200, bad_tokens=401)),
    ("api_works.Works", "POST"): Case(
        "/api/v1/works",
        roles(201, bad_tokens=401, anonymous=401, administrator=403, read_token=403),
        json=FEATURE,
    ),
    ("api_works.Work", "GET"): Case(
        "/api/v1/works/{work}", roles(200, bad_tokens=401, anonymous=404)
    ),
    ("api_works.Work", "PATCH"): Case(
        "/api/v1/works/{work}",
        roles(403, bad_tokens=401, anonymous=401, planner=200, write_token=200),
        json={"properties": {"title": "Nieuwe titel"}},
        if_match=True,
    ),
    ("api_works.Work", "DELETE"): Case(
        "/api/v1/works/{work}",
        roles(403, bad_tokens=401, anonymous=401, planner=204, write_token=204),
        if_match=True,
    ),
    ("api_works.History", "GET"): Case(
        "/api/v1/works/{work}/history", roles(200, bad_tokens=401, anonymous=401)
    ),
    ("api_transfer.Imports", "POST"): Case(
        "/api/v1/imports",
        roles(200, bad_tokens=401, anonymous=401, administrator=403, read_token=403),
        upload=UPLOAD,
    ),
    ("api_transfer.Exports", "GET"): Case("/api/v1/exports", roles(200, bad_tokens=401)),
    # Clashes are for partners (a planner sees those of works they may see); reviews and
    # dig bans are the coordinator's.
    ("clashes.index", "GET"): Case("/clashes", roles(200, bad_tokens=302, anonymous=302)),
    ("clashes.show", "GET"): Case("/clashes/{clash}", roles(200, bad_tokens=302, anonymous=302)),
    ("clashes.review", "POST"): Case(
        "/clashes/{clash}/review",
        form_post(roles(403, coordinator=302)),
        form={"status": "accepted", "note": ""},
    ),
    ("digbans.index", "GET"): Case("/digbans", roles(200, bad_tokens=302, anonymous=302)),
    ("digbans.accept_proposal", "POST"): Case(
        "/digbans/proposals/{work}/accept", form_post(roles(403, coordinator=404)), form={}
    ),
    ("digbans.new", "GET"): Case("/digbans/new", COORDINATOR_PAGE),
    ("digbans.new", "POST"): Case(
        "/digbans/new", form_post(roles(403, coordinator=422)), form={"title": ""}
    ),
    ("digbans.edit", "GET"): Case("/digbans/{ban}/edit", COORDINATOR_PAGE),
    ("digbans.edit", "POST"): Case(
        "/digbans/{ban}/edit",
        form_post(roles(403, coordinator=422)),
        form={"title": ""},
        version_field="version",
    ),
    ("digbans.end", "POST"): Case(
        "/digbans/{ban}/end",
        form_post(roles(403, coordinator=302)),
        form={"end-version": "1"},
        version_field="end-version",
    ),
    ("api_clashes.Clashes", "GET"): Case(
        "/api/v1/clashes", roles(200, bad_tokens=401, anonymous=401)
    ),
    ("api_clashes.ClashResource", "GET"): Case(
        "/api/v1/clashes/{clash}", roles(200, bad_tokens=401, anonymous=401)
    ),
    ("api_clashes.ClashResource", "PATCH"): Case(
        "/api/v1/clashes/{clash}",
        roles(403, bad_tokens=401, anonymous=401, coordinator=200),
        json={"status": "accepted"},
    ),
    ("api_clashes.Combinations", "GET"): Case(
        "/api/v1/combinations", roles(200, bad_tokens=401, anonymous=401)
    ),
    ("api_clashes.Check", "POST"): Case(
        "/api/v1/works/check", roles(200, bad_tokens=401, anonymous=401), json=FEATURE
    ),
    ("api_digbans.DigBans", "GET"): Case(
        "/api/v1/digbans", roles(200, bad_tokens=401, anonymous=401)
    ),
    ("api_digbans.DigBans", "POST"): Case(
        "/api/v1/digbans",
        roles(403, bad_tokens=401, anonymous=401, coordinator=201),
        json=DIG_BAN,
    ),
    ("api_digbans.DigBanResource", "GET"): Case(
        "/api/v1/digbans/{ban}", roles(200, bad_tokens=401, anonymous=401)
    ),
    ("api_digbans.Proposals", "GET"): Case(
        "/api/v1/digbans/proposals", roles(403, bad_tokens=401, anonymous=401, coordinator=200)
    ),
    ("api_digbans.Proposal", "POST"): Case(
        "/api/v1/digbans/proposals/{work}",
        roles(403, bad_tokens=401, anonymous=401, coordinator=404),  # no proposal for it
    ),
    ("api_digbans.DigBanResource", "PATCH"): Case(
        "/api/v1/digbans/{ban}",
        roles(403, bad_tokens=401, anonymous=401, coordinator=200),
        json={"properties": {"title": "Nieuw asfalt"}},
        if_match=True,
    ),
    ("api-docs.openapi_json", "GET"): Case("/api/v1/openapi.json", everyone(200)),
    ("api_docs", "GET"): Case("/api/v1/docs", everyone(200)),
}


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((rule.endpoint, method))
    return found


def test_every_route_has_a_rule(app):
    missing = _routes(app) - set(MATRIX)
    assert not missing, f"decide who may use these routes and add them to MATRIX: {missing}"
    stale = set(MATRIX) - _routes(app)
    assert not stale, f"these routes no longer exist: {stale}"


def test_only_the_forms_for_strangers_take_their_writes(app):
    marked = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "open_to_strangers", False)
    }
    assert marked == OPEN_TO_STRANGERS


@dataclass
class World:
    """What every case acts on, built once: callers (their cookies and headers) and ids."""

    connection: Connection
    app: Flask
    cookies: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    csrf: dict[str, str | None] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    version: int = 1  # of the subject work and of the dig ban

    def request(self, role: str, method: str, path: str, **kwargs):
        """One request by ``role`` in a savepoint of its own, rolled back afterwards; each
        request gets a fresh client with the role's login cookie, so logging out or changing
        a password in one case leaves the next one as it was."""
        client = self.app.test_client()
        if self.cookies[role] is not None:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookies[role])
        headers = {**self.headers[role], **kwargs.pop("headers", {})}
        savepoint = self.connection.begin_nested()
        try:
            response = client.open(
                path.format(**self.ids), method=method, headers=headers, **kwargs
            )
            response.get_data()
            response.close()
            return response
        finally:
            savepoint.rollback()


@pytest.fixture(scope="module")
def world(app: Flask, engine: Engine) -> Iterator[World]:
    with rolled_back(app, engine) as connection:
        session = session_on(app, connection, expire_on_commit=False)
        make_org = org_maker(session)
        make_user, make_work = user_maker(session, make_org), work_maker(session, make_org)
        own = make_org("Gemeente Ede – Riolering")
        other = make_org("Netwerk Vallei", kind="grid_operator")
        municipality = make_org("Gemeente Ede – Coördinatie")
        people = {
            "planner": make_user("planner", organisation=own),
            "other_planner": make_user("planner", organisation=other),
            "coordinator": make_user("coordinator", organisation=municipality),
            "administrator": make_user("administrator", organisation=municipality),
        }
        system = Actor.system("test")

        def token(scope: str) -> accounts.NewToken:
            return accounts.create_token(session, system, organisation=own, scope=scope, name=scope)

        read, write, expired, revoked = (
            token("read"),
            token("write"),
            token("write"),
            token("write"),
        )
        expired.token.expires_at = accounts.now() - timedelta(minutes=1)
        accounts.revoke_token(session, system, revoked.token.id)
        subject = make_work(
            organisation=own,
            visibility="partners",
            geometry=LineString([(174000, 450000), (174050, 450000)]),
            start_date=date(2027, 5, 1),
            end_date=date(2027, 6, 1),
        )
        deleted = make_work(organisation=own, visibility="partners", title="Weg")
        from kip.services.works import delete_work

        delete_work(session, system, deleted, deleted.version)
        # Another organisation's work beside the subject at the same time: a clash to look at.
        beside = make_work(
            organisation=other,
            visibility="partners",
            title="Kabel ernaast",
            geometry=LineString([(174000, 450010), (174050, 450010)]),
            start_date=date(2027, 5, 15),
            end_date=date(2027, 6, 15),
        )
        session.flush()
        from kip.models import Clash
        from kip.services.digbans import DigBanData, create_dig_ban

        clash_id = session.execute(
            select(Clash.id).where(Clash.work_b_id == beside.id).limit(1)
        ).scalar_one()
        ban = create_dig_ban(
            session,
            system,
            DigBanData(
                organisation_id=municipality.id,
                title="Graafverbod Dorpsstraat",
                start_date=date(2030, 1, 1),
                end_date=date(2032, 12, 31),
                area=LineString([(175000, 451000), (175050, 451000)]).buffer(5),
            ),
        )
        session.flush()
        assert subject.version == ban.version == 1
        world = World(
            connection,
            app,
            ids={
                "work": subject.id,
                "deleted": deleted.id,
                "token": read.token.id,
                "clash": clash_id,
                "ban": ban.id,
            },
        )
        session.commit()
        session.close()

        secrets = {"read_token": read, "write_token": write, "expired_token": expired}
        secrets["revoked_token"] = revoked
        for role in ROLES:
            world.cookies[role], world.headers[role], world.csrf[role] = None, {}, None
            if role in people:
                client = app.test_client()
                csrf = log_in(client, people[role].email)
                world.cookies[role] = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
                world.headers[role] = {"X-CSRFToken": csrf}
                world.csrf[role] = csrf
            elif role.endswith("token"):
                world.headers[role] = {"Authorization": f"Bearer {secrets[role].secret}"}
        yield world


def _request_args(case: Case, world: World, role: str, variant: str = "plain") -> dict:
    """The keyword arguments of ``case``'s request by ``role``: as the matrix says it
    (``plain``), or spoilt in the way ``variant`` names (see :data:`VARIANTS`)."""
    headers: dict[str, str] = {}
    kwargs: dict = {"headers": headers}
    if case.if_match:
        headers["If-Match"] = f'"v{world.version}"'
    if case.json is not None:
        kwargs["json"] = case.json
    if case.form is not None:
        csrf = world.csrf[role]
        kwargs["data"] = {**case.form, **({"csrf_token": csrf} if csrf else {})}
        if case.version_field:
            kwargs["data"][case.version_field] = str(world.version)
    if case.upload is not None:
        kwargs["data"] = {"file": (io.BytesIO(case.upload), "plan.geojson")}
        kwargs["content_type"] = "multipart/form-data"

    if variant == "bad body":
        if case.json is not None:
            kwargs["json"] = ["not", "an", "object"]
        elif case.upload is not None:
            kwargs["data"] = {"file": (io.BytesIO(b"\x00 not a plan"), "plan.geojson")}
        else:
            kwargs["data"].update(JUNK_FORM)
    elif variant == "malformed JSON":
        del kwargs["json"]
        kwargs["data"], kwargs["content_type"] = b'{"type": ', "application/json"
    elif variant == "no If-Match":
        del headers["If-Match"]
    elif variant == "stale If-Match":
        headers["If-Match"] = f'"v{world.version + 7}"'
    elif variant == "no version":
        del kwargs["data"][case.version_field]
    elif variant == "stale version":
        kwargs["data"][case.version_field] = str(world.version + 7)
    return kwargs


JUNK_FORM = {
    "title": "x" * 5000,
    "start_date": "someday",
    "end_date": "31-02-2027",
    "status": "maybe",
    "email": "not an address",
    "file": "not a file",
}


def _variants(case: Case) -> list[str]:
    found = []
    if case.json is not None or case.form is not None or case.upload is not None:
        found.append("bad body")
    if case.json is not None:
        found.append("malformed JSON")
    if case.if_match:
        found += ["no If-Match", "stale If-Match"]
    if case.version_field:
        found += ["no version", "stale version"]
    return found


WRITES = sorted(
    route for route in MATRIX if route[1] != "GET" and route[0] not in OPEN_TO_STRANGERS
)
VARIANTS = [(route, variant) for route in WRITES for variant in _variants(MATRIX[route])]


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[1]} {r[0]}")
def test_who_may_use_the_route(route, world):
    case = MATRIX[route]
    _endpoint, method = route
    got = {
        role: world.request(role, method, case.path, **_request_args(case, world, role)).status_code
        for role in ROLES
    }
    assert got == case.expected


def _seen(response) -> tuple:
    """All a caller learns from a refusal."""
    return response.status_code, response.headers.get("Location"), response.get_data()


@pytest.mark.parametrize(
    ("route", "variant"), VARIANTS, ids=lambda v: v if isinstance(v, str) else f"{v[1]} {v[0]}"
)
def test_strangers_are_refused_before_anything_else(route, variant, world):
    """A bad body, a missing or stale If-Match (or form version) change nothing for a caller
    who is not logged in or whose token is expired or revoked: the same 401 (a page sends
    them to the login page) as for a good request, with nothing about the record in it."""
    case = MATRIX[route]
    _endpoint, method = route
    for role in STRANGERS:
        plain = world.request(role, method, case.path, **_request_args(case, world, role))
        spoilt = world.request(role, method, case.path, **_request_args(case, world, role, variant))
        assert _seen(spoilt) == _seen(plain), role
        if case.path.startswith("/api/"):
            assert spoilt.status_code == 401, role
            assert spoilt.mimetype == "application/problem+json"
            assert set(spoilt.get_json()) == {"type", "title", "status", "code"}
            assert b"version" not in spoilt.get_data()
        else:
            assert spoilt.status_code == PAGE_LOGIN, role
            assert spoilt.headers["Location"].startswith("/login?next="), role
