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
