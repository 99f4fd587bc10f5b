"""``/api/v1/map/works``: the maps' light GeoJSON — filters, limits, visibility, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from shapely import LineString, Point

from kip.actors import Actor
from kip.services import accounts
from kip.services.mapdata import MapQuery, map_works

URL = "/api/v1/map/works"
# Around RD (174000, 450000), the default of make_work.
BBOX = "5.6,52.0,5.8,52.2"


@pytest.fixture
def works(make_org, make_work):
    org = make_org("Kaart Netbeheer", kind="grid_operator")
    return {
        "public": make_work(
            organisation=org,
            visibility="public",
            title="Openbare kabel",
            contact_name="Piet",
            traffic_impact="lane",
        ),
        "road": make_work(
            organisation=org,
            visibility="public",
            discipline="road",
            title="Nieuw asfalt",
            geometry=Point(174050, 450010),
            start_date=date(2028, 1, 1),
            end_date=date(2028, 2, 1),
        ),
        "partners": make_work(organisation=org, visibility="partners", title="PARTNERS-only"),
        "draft": make_work(organisation=org, visibility="public", phase="design", title="ONTWERP"),
    }


def _titles(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {f["properties"]["title"] for f in response.get_json()["features"]}


def test_the_public_gets_public_firm_works_only(client, works):
    body = client.get(f"{URL}?bbox={BBOX}").get_json()
    assert {f["properties"]["title"] for f in body["features"]} == {
        "Openbare kabel",
        "Nieuw asfalt",
    }
    assert body["truncated"] is False and body["numberReturned"] == 2
    feature = next(f for f in body["features"] if f["properties"]["title"] == "Openbare kabel")
    assert feature["properties"]["contact"] == {"name": "Piet"}
    assert feature["properties"]["traffic"] == "lane"
    assert feature["properties"]["organisation"] == "Kaart Netbeheer"
    assert "PARTNERS" not in client.get(f"{URL}?bbox={BBOX}").get_data(as_text=True)


def test_a_partner_sees_more_unless_asking_for_the_public_view(client, session, works):
    org = works["public"].organisation
    token = accounts.create_token(
        session, Actor.system("t"), organisation=org, scope="read", name="r"
    )
    headers = {"Authorization": f"Bearer {token.secret}"}
    assert "PARTNERS-only" in _titles(client.get(f"{URL}?bbox={BBOX}", headers=headers))
    public = _titles(client.get(f"{URL}?bbox={BBOX}&public=true", headers=headers))
    assert public == {"Openbare kabel", "Nieuw asfalt"}


def test_filters_by_period_bbox_and_discipline(client, works):
    assert _titles(client.get(f"{URL}?bbox={BBOX}&start=2028-01-15&end=2028-01-20")) == {
        "Nieuw asfalt"
    }
    assert _titles(client.get(f"{URL}?bbox={BBOX}&discipline=road")) == {"Nieuw asfalt"}
    assert _titles(client.get(f"{URL}?bbox=4.0,51.0,4.1,51.1")) == set()


def test_points_when_zoomed_out_shapes_when_zoomed_in(client, works):
    out = client.get(f"{URL}?bbox={BBOX}&zoom=12&discipline=sewer").get_json()
    assert out["detail"] == "point"
    assert {f["geometry"]["type"] for f in out["features"]} == {"Point"}
    near = client.get(f"{URL}?bbox={BBOX}&zoom=17&discipline=sewer").get_json()
    assert near["detail"] == "shape"
    assert {f["geometry"]["type"] for f in near["features"]} == {"LineString"}


def test_the_limit_truncates_and_says_so(client, works):
    body = client.get(f"{URL}?bbox={BBOX}&limit=1").get_json()
    assert body["numberReturned"] == 1 and body["truncated"] is True


def test_simplified_geometry_keeps_a_long_line_recognisable(session, make_work):
    wiggle = LineString([(174000 + i, 450000 + (i % 2) * 0.2) for i in range(0, 200)])
    work = make_work(visibility="public", geometry=wiggle, title="Slinger")
    found = map_works(
        session, Actor.public(), MapQuery(bbox=(5.6, 52.0, 5.8, 52.2), zoom=15, public=True)
    )
    (feature,) = [f for f in found.features if f["id"] == work.id]
    assert 2 <= len(feature["geometry"]["coordinates"]) < 20


@pytest.mark.parametrize(
    "query",
    [
        "bbox=5.8,52.0,5.6,52.2",
        "bbox=1,2,3",
        "bbox=5,95,6,96",
        "start=2028-02-01&end=2028-01-01",
        "zoom=30",
        "limit=0",
        "limit=100000",
        "start=not-a-date",
        "public=maybe",
    ],
)
def test_bad_input_is_a_422_problem(client, query):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_documented_in_the_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/map/works"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"bbox", "start", "end", "zoom"}
    assert "422" in operation["responses"]
