"""A geometry of more vertices than ``GEOMETRY_MAX_VERTICES``, or an import file of more
than ``IMPORT_MAX_VERTICES`` in all, is refused before any costly work, by every way in:
the API (create, change, draft check), the work form and the import. Nothing is written.
An API body too large to hold an allowed geometry is refused before it is parsed.

A million-vertex line was once accepted (201 after 28 s) and then took the map down; the
limits here are set low through the app's configuration, as a deployment would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from kip.actors import Actor
from kip.io.readers import FileRefused
from kip.models import Work
from kip.services import accounts
from kip.services.imports import ImportRejected, ImportSettings, import_file

LIMIT = 50
REGION = (3.2, 50.7, 7.3, 53.6)


def zigzag(n: int, lon: float = 5.66, lat: float = 52.04) -> list[list[float]]:
    """A line of ``n`` vertices in Ede (lon/lat), a few metres apart."""
    x = lon + np.arange(n) * 0.00005
    y = lat + (np.arange(n) % 2) * 0.00003
    return np.column_stack([x, y]).tolist()


def feature(n: int) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": zigzag(n)},
        "properties": {
            "title": "Glasvezel Veldhuizen",
            "discipline": "telecom",
            "phase": "planned",
            "start_date": "2027-03-01",
            "end_date": "2027-06-30",
        },
    }


def works(session) -> int:
    return session.execute(select(func.count()).select_from(Work)).scalar_one()


@pytest.fixture
def limited(app, monkeypatch):
    monkeypatch.setitem(app.config, "GEOMETRY_MAX_VERTICES", LIMIT)


@pytest.fixture
def writer(session, make_org):
    org = make_org("Glasvezel Oost", kind="telecom")
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="write", name="GIS"
    )
    return org, {"Authorization": f"Bearer {new.secret}"}


def assert_too_many(response, count: int) -> None:
    assert response.status_code == 422, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    message = response.json["errors"]["geometry"]
    assert f"has {count} vertices, more than the {LIMIT} KIP takes" in message
    assert "GEOMETRY_MAX_VERTICES" in message


def test_the_api_refuses_a_line_over_the_limit_and_takes_one_at_it(
    client, session, writer, limited
) -> None:
    _org, headers = writer
    before = works(session)
    assert_too_many(client.post("/api/v1/works", json=feature(LIMIT + 1), headers=headers), 51)
    assert works(session) == before
    at_the_limit = client.post("/api/v1/works", json=feature(LIMIT), headers=headers)
    assert at_the_limit.status_code == 201, at_the_limit.json


def test_the_api_refuses_a_change_and_a_draft_over_the_limit(
    client, session, writer, limited, make_work
) -> None:
    org, headers = writer
    work = make_work(organisation=org)
    patch = client.patch(
        f"/api/v1/works/{work.id}",
        json={"geometry": feature(LIMIT + 1)["geometry"]},
        headers={**headers, "If-Match": f'"v{work.version}"'},
    )
    assert_too_many(patch, 51)
    session.refresh(work)
    assert work.version == 1
    assert_too_many(
        client.post("/api/v1/works/check", json=feature(LIMIT + 1), headers=headers), 51
    )


def test_a_body_larger_than_any_honest_one_is_refused_before_it_is_read(
    client, session, writer, limited
) -> None:
    """With 50 vertices allowed, a JSON body may be 1 MB and 100 bytes a vertex: 60,000
    vertices (1.3 MB) are refused by their size, before the JSON is parsed."""
    _org, headers = writer
    before = works(session)
    response = client.post("/api/v1/works", json=feature(60_000), headers=headers)
    assert response.status_code == 413, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    assert "more than the 1.0 MB a request may send" in response.json["title"]
    assert "GEOMETRY_MAX_VERTICES" in response.json["title"]
    assert works(session) == before


def test_a_multi_part_geometry_counts_every_part(client, writer, limited) -> None:
    _org, headers = writer
    sent = feature(0)
    sent["geometry"] = {
        "type": "MultiLineString",
        "coordinates": [zigzag(30), zigzag(30, lat=52.05)],
    }
    assert_too_many(client.post("/api/v1/works", json=sent, headers=headers), 60)


def test_the_work_form_refuses_a_drawing_over_the_limit(client, session, planner, limited) -> None:
    fields = {**feature(0)["properties"], "precision": "day", "traffic_impact": "none"}
    fields |= {"visibility": "partners", "csrf_token": planner}
    before = works(session)
    drawn = {"type": "LineString", "coordinates": zigzag(LIMIT + 1)}
    response = client.post(
        "/works/new",
        data={**fields, "geometry": json.dumps(drawn)},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "more points than KIP takes (at most 50)" in response.get_data(as_text=True)
    assert works(session) == before


def geojson_file(path: Path, lines: list[list[list[float]]]) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {
                "kenmerk": f"GV-{i}",
                "titel": f"Glasvezel {i}",
                "vakdiscipline": "telecom",
                "fase": "gepland",
                "startdatum": "2027-03-01",
                "einddatum": "2027-06-30",
            },
        }
        for i, line in enumerate(lines)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_the_import_refuses_a_row_over_the_limit(session, make_org, tmp_path) -> None:
    settings = ImportSettings(REGION, 10_000_000, max_vertices=LIMIT)
    path = geojson_file(tmp_path / "plan.geojson", [zigzag(10), zigzag(LIMIT + 1)])
    before = works(session)
    with pytest.raises(ImportRejected) as rejected:
        import_file(session, Actor.system("test"), make_org().id, path, settings=settings)
    problems = [
        (r.row, p["field"], p["message"]) for r in rejected.value.report.rows for p in r.problems
    ]
    assert len(problems) == 1
    row, field, message = problems[0]
    assert (row, field) == (2, "geometry")
    assert "has 51 vertices" in message and "GEOMETRY_MAX_VERTICES" in message
    assert works(session) == before


def test_the_import_refuses_a_file_over_its_total(session, make_org, tmp_path) -> None:
    settings = ImportSettings(REGION, 10_000_000, max_vertices=LIMIT, max_file_vertices=100)
    path = geojson_file(tmp_path / "plan.geojson", [zigzag(40), zigzag(40), zigzag(40)])
    before = works(session)
    with pytest.raises(FileRefused, match=r"holds 120 vertices in all.*IMPORT_MAX_VERTICES"):
        import_file(session, Actor.system("test"), make_org().id, path, settings=settings)
    assert works(session) == before


def test_the_import_api_takes_the_limit_from_the_configuration(
    api_import, app, monkeypatch, tmp_path
) -> None:
    monkeypatch.setitem(app.config, "IMPORT_MAX_VERTICES", 100)
    response = api_import(geojson_file(tmp_path / "plan.geojson", [zigzag(60), zigzag(60)]))
    assert response.status_code == 422, response.json
    assert "holds 120 vertices in all" in response.json["title"]
    assert "IMPORT_MAX_VERTICES" in response.json["title"]
