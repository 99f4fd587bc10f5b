"""JSON nested 1,000 deep is a 4xx with a message, never a 500.

Python's JSON parser gives up on such nesting with a RecursionError. The API answers it as
a bad request in one place (its JSON parsing, :mod:`kip.api.parsing`), for the writes, the
draft check and every other body; the form says the drawn shape cannot be read; the
import refuses a mapping file nested so deep.
"""

from __future__ import annotations

import io
import json

import pytest

from kip.actors import Actor
from kip.services import accounts

DEPTH = 1000
DEEP = "[" * DEPTH + "]" * DEPTH
PROPERTIES = {
    "title": "Vervangen riolering",
    "discipline": "sewer",
    "phase": "planned",
    "start_date": "2027-03-01",
    "end_date": "2027-06-30",
}


def deep_feature() -> str:
    """A work whose coordinates are nested 1,000 deep."""
    return (
        '{"type": "Feature", "geometry": {"type": "LineString", "coordinates": '
        f'{DEEP}}}, "properties": {json.dumps(PROPERTIES)}}}'
    )


def write_token(session, organisation) -> str:
    new = accounts.create_token(
        session, Actor.system("test"), organisation=organisation, scope="write", name="GIS"
    )
    return new.secret


@pytest.fixture
def writer(session, make_org):
    org = make_org("Gemeente Ede")
    headers = {
        "Authorization": f"Bearer {write_token(session, org)}",
        "Content-Type": "application/json",
    }
    return org, headers


def assert_problem(response) -> None:
    assert response.status_code == 400, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    assert "nested too deeply" in response.json["title"]
    assert response.json["errors"] == {"json": "nested too deeply"}


def test_a_deep_work_to_post_is_refused(client, writer) -> None:
    _org, headers = writer
    assert_problem(client.post("/api/v1/works", data=deep_feature(), headers=headers))


def test_a_deep_draft_to_check_is_refused(client, writer) -> None:
    _org, headers = writer
    assert_problem(client.post("/api/v1/works/check", data=deep_feature(), headers=headers))


def test_a_deep_patch_is_refused(client, writer, make_work) -> None:
    org, headers = writer
    work = make_work(organisation=org)
    response = client.patch(
        f"/api/v1/works/{work.id}",
        data=deep_feature(),
        headers={**headers, "If-Match": f'"v{work.version}"'},
    )
    assert_problem(response)


def test_a_deep_dig_ban_is_refused(client, session, make_user) -> None:
    """Every JSON body of the API goes through the same parsing (here: a dig ban's)."""
    coordinator = make_user("coordinator")
    secret = write_token(session, coordinator.organisation)
    body = '{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": ' + DEEP + "}}"
    response = client.post(
        "/api/v1/digbans",
        data=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert_problem(response)


@pytest.mark.parametrize("name", ["mapping.json", "mapping.yaml"])
def test_a_deep_mapping_file_to_the_import_is_refused(api_import, tmp_path, name) -> None:
    plan = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [5.66, 52.04]},
                "properties": {"kenmerk": "A-1"},
            }
        ],
    }
    path = tmp_path / "plan.geojson"
    path.write_text(json.dumps(plan))
    mapping = io.BytesIO(('{"columns": ' + DEEP + "}").encode())
    response = api_import(path, mapping=(mapping, name))
    assert response.status_code == 422, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    assert f"the mapping file {name} is nested too deeply" in response.json["title"]


def test_a_deep_drawing_in_the_work_form_is_refused(client, planner) -> None:
    data = {
        **PROPERTIES,
        "precision": "day",
        "traffic_impact": "none",
        "visibility": "partners",
        "geometry": '{"type": "LineString", "coordinates": ' + DEEP + "}",
        "csrf_token": planner,
    }
    response = client.post("/works/new", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "The drawn shape could not be read" in response.get_data(as_text=True)
