"""Confidential and partner works never reach the public: not in pages, GeoJSON, exports,
errors or search results — not even their titles."""

from __future__ import annotations

import json

import pytest

from kip.actors import Actor
from kip.services.exports import export_works
from kip.services.search import WorkFilter

SECRET = "GEHEIM-kabeltrace-4711"
PARTNER = "PARTNERS-only-0815"
DRAFT = "ONTWERP-nog-niet-0042"
PUBLIC = "OPENBAAR-riolering-1234"


@pytest.fixture
def works(make_org, make_work):
    org = make_org("Netwerk Vallei", kind="grid_operator")
    return {
        SECRET: make_work(
            organisation=org,
            visibility="confidential",
            title=SECRET,
            description=SECRET,
            external_ref=SECRET,
        ),
        PARTNER: make_work(organisation=org, visibility="partners", title=PARTNER),
        DRAFT: make_work(organisation=org, visibility="public", phase="design", title=DRAFT),
        PUBLIC: make_work(organisation=org, visibility="public", phase="planned", title=PUBLIC),
    }


def public_responses(client, works) -> dict[str, str]:
    """Everything an anonymous visitor can ask for about these works."""
    seen = {}
    urls = [
        "/",
        "/?lang=en",
        "/api/v1/works",
        "/api/v1/works?limit=1000",
        f"/api/v1/works?q={SECRET}",
        f"/api/v1/works?q={PARTNER}",
        "/api/v1/openapi.json",
    ]
    for title, work in works.items():
        urls += [
            f"/works/{work.id}",
            f"/api/v1/works/{work.id}",
            f"/api/v1/works/{work.id}/history",
            f"/api/v1/works/{work.id}?lang=en",
        ]
        del title
    for url in urls:
        response = client.get(url)
        body = response.get_data(as_text=True)
        if "q=" in url:  # the links echo the visitor's own search words: not a leak
            payload = response.json
            payload.pop("links")
            body = json.dumps(payload, ensure_ascii=False)
        seen[url] = body
        response.close()
    return seen


def test_the_public_sees_only_public_firm_works(client, works):
    seen = public_responses(client, works)
    everything = "\n".join(seen.values())
    assert PUBLIC in everything  # the check can find a title when it is there
    for hidden in (SECRET, PARTNER, DRAFT):
        leaks = [url for url, body in seen.items() if hidden in body]
        assert not leaks, f"{hidden} shown to the public at {leaks}"


def test_hidden_works_look_exactly_like_missing_ones(client, works):
    hidden = client.get(f"/api/v1/works/{works[SECRET].id}")
    missing = client.get("/api/v1/works/999999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json["title"].replace(str(works[SECRET].id), "N") == missing.json[
        "title"
    ].replace("999999999", "N")


def test_search_counts_do_not_reveal_hidden_works(client, works):
    assert client.get(f"/api/v1/works?q={SECRET}").json["numberMatched"] == 0
    assert client.get("/api/v1/works?q=kabeltrace").json["numberMatched"] == 0


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "xlsx"])
def test_public_exports_hold_public_works_only(session, works, fmt):
    result = export_works(session, Actor.public(), fmt, WorkFilter())
    assert result.count == 1
    if fmt in ("geojson", "csv"):
        text = result.data.decode() if isinstance(result.data, bytes) else result.data
        assert PUBLIC in text
        for hidden in (SECRET, PARTNER, DRAFT):
            assert hidden not in text


def test_partners_see_partner_works_but_not_other_organisations_secrets(session, works, make_org):
    from kip.models import Role

    other = make_org("Waterbedrijf", kind="water")
    planner = Actor(label="user:w", organisation_id=other.id, role=Role.PLANNER)
    result = export_works(session, planner, "geojson", WorkFilter())
    text = result.data.decode() if isinstance(result.data, bytes) else result.data
    assert PARTNER in text and DRAFT in text and PUBLIC in text
    assert SECRET not in text


def test_the_public_never_sees_clashes(client, works, make_org, make_work):
    make_work(organisation=make_org("Gemeente"), title="Eigen riool", excavation=True)
    for url in ("/api/v1/clashes", "/api/v1/clashes?limit=1000", "/api/v1/combinations"):
        response = client.get(url)
        assert response.status_code == 401, url
        body = response.get_data(as_text=True)
        assert SECRET not in body and PARTNER not in body
    page = client.get("/clashes")
    assert page.status_code == 302 and SECRET not in page.get_data(as_text=True)


def test_a_planners_clash_list_never_holds_another_organisations_secret(
    app, session, works, make_org, make_work, make_user, password
):
    import re

    from kip.services.clashes import list_clashes

    city = make_org("Gemeente")
    make_work(organisation=city, title="Eigen riool", excavation=True)  # beside all four
    planner = make_user("planner", organisation=city)
    session.flush()
    actor = Actor.for_user(planner.id, city.id, planner.role)
    page = list_clashes(session, actor, limit=1000)
    assert page.total > 0
    for view in page.items:
        for side in (view.work_a, view.work_b):
            assert side is None or side.title != SECRET
        assert SECRET not in str(view.explanation)

    client = app.test_client()
    csrf = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', client.get("/login").text)
    client.post(
        "/login", data={"email": planner.email, "password": password, "csrf_token": csrf.group(1)}
    )
    urls = ["/api/v1/clashes?limit=1000", "/api/v1/combinations", "/clashes", "/clashes?lang=en"]
    api = client.get("/api/v1/clashes?limit=1000").json
    urls += [f"/api/v1/clashes/{f['id']}" for f in api["features"]]
    urls += [f"/clashes/{f['id']}" for f in api["features"]]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.get_data(as_text=True), url
