"""The works API: GeoJSON in and out, filters and paging, optimistic locking, clear errors."""

from __future__ import annotations

from datetime import date

import pytest
from shapely import LineString
from sqlalchemy import text

from kip.actors import Actor
from kip.services import accounts

EDE = [5.6656, 52.0406]


@pytest.fixture
def org(make_org):
    return make_org("Gemeente Ede", kind="department")


@pytest.fixture
def writer(session, org):
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="write", name="GIS"
    )
    return {"Authorization": f"Bearer {new.secret}"}


@pytest.fixture
def reader(session, org):
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="read", name="viewer"
    )
    return {"Authorization": f"Bearer {new.secret}"}


def feature(**properties) -> dict:
    props = {
        "title": "Vervangen riolering Stationsweg",
        "discipline": "sewer",
        "phase": "planned",
        "start_date": "2027-03-01",
        "end_date": "2027-06-30",
        "excavation": True,
        "visibility": "public",
    }
    props.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [EDE, [5.6670, 52.0410]]},
        "properties": props,
    }


def test_create_then_read_back(client, writer, session):
    response = client.post("/api/v1/works", json=feature(), headers=writer)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"] == f"/api/v1/works/{body['id']}"
    assert response.headers["ETag"] == '"v1"'
    assert body["properties"]["organisation"]["name"] == "Gemeente Ede"
    lon, lat = body["geometry"]["coordinates"][0]
    assert lon == pytest.approx(EDE[0], abs=1e-6) and lat == pytest.approx(EDE[1], abs=1e-6)
    srid = session.execute(
        text("SELECT ST_SRID(geom) FROM works WHERE id = :id"), {"id": body["id"]}
    ).scalar()
    assert srid == 28992
    again = client.get(response.headers["Location"])  # public work: no token needed
    assert (
        again.status_code == 200
        and again.json["properties"]["title"] == body["properties"]["title"]
    )


def test_geometry_in_another_crs(client, writer, session):
    sent = feature()
    sent["geometry"] = {"type": "Point", "coordinates": [174100.0, 450290.0]}
    response = client.post("/api/v1/works?crs=EPSG:28992", json=sent, headers=writer)
    assert response.status_code == 201, response.json
    x, y = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM works WHERE id = :id"), {"id": response.json["id"]}
    ).one()
    assert (x, y) == pytest.approx((174100.0, 450290.0), abs=1e-3)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"geometry": {"type": "Point", "coordinates": [52.04, 5.66]}}, "geometry", "swapped"),
        ({"geometry": {"type": "Point", "coordinates": [-70.0, 40.0]}}, "geometry", "outside"),
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[5.66, 52.04], [5.67, 52.05], [5.67, 52.04], [5.66, 52.05], [5.66, 52.04]]
                    ],
                }
            },
            "geometry",
            "not valid",
        ),
        ({"geometry": {"type": "Point", "coordinates": "five"}}, "geometry", "coordinates"),
        ({"properties": {"end_date": "2027-01-01"}}, "end_date", "before the start"),
        ({"properties": {"discipline": "plumbing"}}, "discipline", "unknown discipline"),
        ({"properties": {"phase": "dreaming"}}, "phase", "unknown phase"),
    ],
)
def test_bad_works_are_refused_with_the_field_named(client, writer, change, field, words):
    sent = feature()
    if "geometry" in change:
        sent["geometry"] = change["geometry"]
    sent["properties"].update(change.get("properties", {}))
    response = client.post("/api/v1/works", json=sent, headers=writer)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert words in str(response.json), response.json


def test_schema_errors_name_the_field(client, writer):
    sent = feature()
    del sent["properties"]["title"]
    sent["properties"]["colour"] = "red"
    response = client.post("/api/v1/works", json=sent, headers=writer)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]["properties"]
    assert "title" in errors and "colour" in errors


def test_malformed_json_is_a_400_not_a_500(client, writer):
    response = client.post(
        "/api/v1/works", data="{not json", headers={**writer, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_writing_needs_a_write_token_or_login(client, reader):
    assert client.post("/api/v1/works", json=feature()).status_code == 401
    assert client.post("/api/v1/works", json=feature(), headers=reader).status_code == 403


def test_patch_and_delete_need_the_version_read(client, writer):
    created = client.post("/api/v1/works", json=feature(), headers=writer)
    url = created.headers["Location"]
    change = {"properties": {"phase": "final"}}
    missing = client.patch(url, json=change, headers=writer)
    assert missing.status_code == 428
    stale = client.patch(url, json=change, headers={**writer, "If-Match": '"v7"'})
    assert stale.status_code == 412 and stale.json["current_version"] == 1
    ok = client.patch(url, json=change, headers={**writer, "If-Match": '"v1"'})
    assert ok.status_code == 200, ok.json
    assert ok.json["properties"]["phase"] == "final" and ok.headers["ETag"] == '"v2"'
    lost_update = client.patch(
        url, json={"properties": {"title": "Iets anders"}}, headers={**writer, "If-Match": '"v1"'}
    )
    assert lost_update.status_code == 412
    assert client.delete(url, headers={**writer, "If-Match": '"v1"'}).status_code == 412
    assert client.delete(url, headers={**writer, "If-Match": '"v2"'}).status_code == 204
    assert client.get(url).status_code == 404


def test_history_oldest_first(client, writer):
    url = client.post("/api/v1/works", json=feature(), headers=writer).headers["Location"]
    client.patch(
        url, json={"properties": {"title": "Nieuwe titel"}}, headers={**writer, "If-Match": '"v1"'}
    )
    history = client.get(url + "/history", headers=writer)
    assert [h["action"] for h in history.json] == ["create", "update"]
    assert history.json[1]["changes"]["title"] == [
        "Vervangen riolering Stationsweg",
        "Nieuwe titel",
    ]
    assert history.json[0]["actor"].startswith("token:")
    assert client.get(url + "/history").status_code == 401


def test_list_filters_and_pages(client, make_work, org, make_org):
    other = make_org("Waterbedrijf", kind="water")
    for month in range(1, 6):
        make_work(
            organisation=org,
            visibility="public",
            title=f"Werk {month}",
            start_date=date(2027, month, 1),
            end_date=date(2027, month, 20),
        )
    make_work(
        organisation=other,
        visibility="public",
        discipline="water",
        title="Waterleiding",
        start_date=date(2028, 1, 1),
        end_date=date(2028, 2, 1),
        geometry=LineString([(190000, 460000), (190100, 460000)]),
    )
    make_work(organisation=org, visibility="confidential", title="Geheim")

    everything = client.get("/api/v1/works").json
    titles = {f["properties"]["title"] for f in everything["features"]}
    assert "Geheim" not in titles and "Waterleiding" in titles
    assert everything["numberMatched"] == 6

    page = client.get("/api/v1/works?limit=2&offset=2").json
    assert page["numberReturned"] == 2 and page["numberMatched"] == 6
    rels = {link["rel"] for link in page["links"]}
    assert {"self", "next", "prev"} <= rels

    def titles_for(query: str) -> set[str]:
        return {
            f["properties"]["title"] for f in client.get(f"/api/v1/works?{query}").json["features"]
        }

    assert titles_for("discipline=water") == {"Waterleiding"}
    assert titles_for(f"organisation={other.id}") == {"Waterleiding"}
    assert titles_for("start=2027-02-10&end=2027-03-05") == {"Werk 2", "Werk 3"}
    assert titles_for("q=waterleid") == {"Waterleiding"}
    assert titles_for("bbox=4.8,52.3,4.9,52.4") == set()  # Amsterdam: nothing there
    # the demo geometry of make_work lies at RD (174000, 450000):
    assert "Werk 1" in titles_for("bbox=5.6,52.0,5.7,52.1")


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=5.7,52,5.6,52.1",
        "bbox=a,b,c,d",
        "limit=0",
        "limit=5000",
        "start=2027-13-01",
        "start=2027-05-01&end=2027-04-01",
        "offset=-1",
    ],
)
def test_bad_queries_are_422(client, query):
    response = client.get(f"/api/v1/works?{query}")
    assert response.status_code == 422, (query, response.json)
    assert response.mimetype == "application/problem+json"


def test_the_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/works", "/api/v1/works/{work_id}", "/api/v1/works/{work_id}/history"} <= set(
        spec["paths"]
    )
    assert "bearerToken" in spec["components"]["securitySchemes"]
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert "vendor/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()


def test_a_session_write_needs_the_csrf_token(client, make_user, password, org):
    import re

    user = make_user("planner", organisation=org)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    without = client.post("/api/v1/works", json=feature())
    assert without.status_code == 400
    with_token = client.post("/api/v1/works", json=feature(), headers={"X-CSRFToken": token})
    assert with_token.status_code == 201, with_token.json
