"""Files through the API: import (dry run, then for real) and export with filters."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from kip.actors import Actor
from kip.models import Work
from kip.services import accounts


@pytest.fixture
def org(make_org):
    return make_org("Waterbedrijf Vallei", kind="water")


def token(session, org, scope: str) -> dict[str, str]:
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope=scope, name=scope
    )
    return {"Authorization": f"Bearer {new.secret}"}


def geojson_file(*refs: str, end: str = "2027-06-30") -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[5.66, 52.04], [5.661, 52.041]]},
            "properties": {
                "kenmerk": ref,
                "titel": f"Vervangen waterleiding {ref}",
                "vakdiscipline": "drinkwater",
                "fase": "gepland",
                "startdatum": "2027-03-01",
                "einddatum": end,
                "zichtbaarheid": "openbaar",
            },
        }
        for ref in refs
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def upload(client, headers, content: bytes, **form):
    data = {"file": (io.BytesIO(content), "plan.geojson"), **form}
    return client.post(
        "/api/v1/imports", data=data, headers=headers, content_type="multipart/form-data"
    )


def count(session, org) -> int:
    return session.execute(
        select(func.count()).select_from(Work).where(Work.organisation_id == org.id)
    ).scalar_one()


def test_dry_run_then_import(client, session, org):
    headers = token(session, org, "write")
    dry = upload(client, headers, geojson_file("W-1", "W-2"))
    assert dry.status_code == 200, dry.json
    assert dry.json["dry_run"] and not dry.json["applied"]
    assert dry.json["counts"]["create"] == 2
    assert count(session, org) == 0
    real = upload(client, headers, geojson_file("W-1", "W-2"), dry_run="false")
    assert real.status_code == 200 and real.json["applied"], real.json
    assert count(session, org) == 2
    again = upload(client, headers, geojson_file("W-1", "W-2"), dry_run="false")
    assert again.json["counts"].get("unchanged") == 2 and count(session, org) == 2


def test_a_bad_row_rejects_the_whole_file(client, session, org):
    headers = token(session, org, "write")
    content = geojson_file("W-1", "W-2")
    bad = json.loads(content)
    bad["features"][1]["properties"]["einddatum"] = "2026-01-01"
    response = upload(client, headers, json.dumps(bad).encode(), dry_run="false")
    assert response.status_code == 422
    rows = response.json["report"]["rows"]
    assert any(r["row"] == 2 and r.get("problems") for r in rows)
    assert count(session, org) == 0


def test_not_a_geojson_file(client, session, org):
    response = upload(client, token(session, org, "write"), b"\x00\x01 not a file at all")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_importing_needs_a_write_right(client, session, org):
    assert upload(client, {}, geojson_file("W-1")).status_code == 401
    assert upload(client, token(session, org, "read"), geojson_file("W-1")).status_code == 403


def test_export_with_filters(client, session, org, make_work):
    make_work(organisation=org, visibility="public", title="Openbaar", discipline="water")
    make_work(organisation=org, visibility="public", title="Riool", discipline="sewer")
    make_work(organisation=org, visibility="confidential", title="Geheim", discipline="water")
    public = client.get("/api/v1/exports?format=geojson&discipline=water")
    assert public.status_code == 200
    assert "attachment" in public.headers["Content-Disposition"]
    titles = {f["properties"]["title"] for f in json.loads(public.data)["features"]}
    assert titles == {"Openbaar"}
    own = client.get(
        "/api/v1/exports?format=csv&discipline=water", headers=token(session, org, "read")
    )
    assert own.mimetype == "text/csv" and own.headers["X-Total-Count"] == "2"
    assert "Geheim" in own.get_data(as_text=True)
    gpkg = client.get("/api/v1/exports?format=gpkg")
    assert gpkg.data[:16] == b"SQLite format 3\x00"
    assert client.get("/api/v1/exports?format=shp").status_code == 422
