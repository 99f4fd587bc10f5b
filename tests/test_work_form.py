"""The work form's server side: who may open it, CSRF, field errors, reprojection, locking."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from pyproj import Transformer
from shapely import Point
from sqlalchemy import func, select

from kip.models import Work

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)
POLYGON = {
    "type": "Polygon",
    "coordinates": [[[5.66, 52.04], [5.67, 52.04], [5.67, 52.045], [5.66, 52.045], [5.66, 52.04]]],
}


def _feature(geometry: dict) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": geometry}


def feature_collection(*geometries: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [_feature(g) for g in geometries]})


def csrf_of(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return CSRF.search(page.get_data(as_text=True)).group(1)


def page_login(client, user, password) -> None:
    data = {"email": user.email, "password": password, "csrf_token": csrf_of(client, "/login")}
    assert client.post("/login", data=data).status_code == 302


@pytest.fixture
def planner(client, make_user, password):
    user = make_user(role="planner")
    page_login(client, user, password)
    return user


def _fields(**overrides) -> dict:
    fields = {
        "title": "Vervangen riolering Stationsweg",
        "discipline": "sewer",
        "phase": "design",
        "start_date": "2027-03-01",
        "end_date": "2027-04-30",
        "precision": "day",
        "traffic_impact": "lane",
        "visibility": "partners",
        "geometry": feature_collection(POLYGON),
    }
    fields.update(overrides)
    return fields


def post_new_work(client, **overrides):
    data = _fields(**overrides)
    data["csrf_token"] = csrf_of(client, "/works/new")
    return client.post("/works/new", data=data)


def form_errors(html: str) -> dict[str, str]:
    """The error messages next to the fields, by the id of what they describe."""
    return dict(re.findall(r'<p class="error" id="([\w-]+)-error"[^>]*>([^<]*)</p>', html))


def test_anonymous_is_sent_to_log_in(client):
    for url in ("/works/new", "/works/1/edit"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_an_administrator_may_not_open_the_form(client, make_user, password):
    page_login(client, make_user(role="administrator"), password)
    assert client.get("/works/new").status_code == 403


def test_new_form_has_sensible_defaults_in_dutch(client, planner):
    page = client.get("/works/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert planner.organisation.name in html
    assert re.search(r'<option selected value="design">', html)
    assert re.search(r'<option selected value="partners">', html)
    assert re.search(r'<option selected value="day">', html)
    assert re.search(r'<option selected value="none">', html)
    assert 'type="date"' in html
    today = date.today()
    assert re.search(
        rf'id="start_date" max="2199-12-31" min="1900-01-01" name="start_date" required '
        rf'type="date" value="{today}"',
        html,
    )
    assert 'value="sewer">Riolering<' in html  # the discipline's Dutch label
    assert "Nieuw werk" in html  # the header link and the heading


def test_saving_reprojects_to_the_project_crs(client, planner, session):
    response = post_new_work(client)
    assert response.status_code == 302
    work_id = int(response.headers["Location"].rsplit("/", 1)[1])
    work = session.get(Work, work_id)
    srid, x, y = session.execute(
        select(
            func.ST_SRID(Work.geom),
            func.ST_X(func.ST_Centroid(Work.geom)),
            func.ST_Y(func.ST_Centroid(Work.geom)),
        ).where(Work.id == work_id)
    ).one()
    assert srid == 28992
    ex, ey = TO_RD.transform(5.665, 52.0425)
    assert abs(x - ex) < 5 and abs(y - ey) < 5
    assert work.organisation_id == planner.organisation_id
    assert work.phase_code == "design" and work.traffic_impact.value == "lane"
    page = client.get(f"/works/{work_id}").get_data(as_text=True)
    assert "Vervangen riolering Stationsweg" in page
    assert f'href="/works/{work_id}/edit"' in page


def test_several_shapes_of_one_kind_become_one_multi_part_work(client, planner, session):
    line_a = {"type": "LineString", "coordinates": [[5.66, 52.04], [5.661, 52.041]]}
    line_b = {"type": "LineString", "coordinates": [[5.67, 52.04], [5.671, 52.041]]}
    response = post_new_work(client, geometry=feature_collection(line_a, line_b))
    assert response.status_code == 302
    work_id = int(response.headers["Location"].rsplit("/", 1)[1])
    kind = session.execute(select(func.GeometryType(Work.geom)).where(Work.id == work_id))
    assert kind.scalar_one() == "MULTILINESTRING"


def test_mixed_kinds_of_shape_are_refused_next_to_the_map(client, planner, session):
    point = {"type": "Point", "coordinates": [5.66, 52.04]}
    before = session.execute(select(func.count()).select_from(Work)).scalar_one()
    response = post_new_work(client, geometry=feature_collection(POLYGON, point))
    assert response.status_code == 422
    errors = form_errors(response.get_data(as_text=True))
    assert "Teken alleen vormen van één soort" in errors["geometry"]
    assert session.execute(select(func.count()).select_from(Work)).scalar_one() == before


def test_a_work_drawn_outside_the_region_is_refused_next_to_the_map(client, planner, session):
    far = {"type": "Point", "coordinates": [13.40, 52.52]}  # Berlin, not this municipality
    before = session.execute(select(func.count()).select_from(Work)).scalar_one()
    response = post_new_work(client, geometry=feature_collection(far))
    assert response.status_code == 422
    errors = form_errors(response.get_data(as_text=True))
    assert "buiten het gebied" in errors["geometry"]
    assert session.execute(select(func.count()).select_from(Work)).scalar_one() == before


def test_missing_geometry_and_end_before_start_show_next_to_their_fields(client, planner):
    response = post_new_work(client, geometry="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Teken het werk op de kaart" in form_errors(html)["geometry"]
    assert "Vervangen riolering Stationsweg" in html  # the input is kept

    response = post_new_work(client, start_date="2027-05-01", end_date="2027-04-01")
    assert response.status_code == 422
    errors = form_errors(response.get_data(as_text=True))
    assert errors["end_date"] == "De einddatum ligt voor de begindatum."
    assert set(errors) == {"end_date"}


def test_required_fields_and_bad_input(client, planner):
    response = post_new_work(client, title="", start_date="", geometry="{not json")
    assert response.status_code == 422
    errors = form_errors(response.get_data(as_text=True))
    assert {"title", "start_date", "geometry"} <= set(errors)
    assert "kon niet worden gelezen" in errors["geometry"]


def test_an_invalid_polygon_is_refused_by_the_service(client, planner):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[5.66, 52.04], [5.67, 52.045], [5.67, 52.04], [5.66, 52.045], [5.66, 52.04]]
        ],
    }
    response = post_new_work(client, geometry=feature_collection(bowtie))
    assert response.status_code == 422
    assert "niet geldig" in form_errors(response.get_data(as_text=True))["geometry"]


def test_english_on_request(client, planner):
    client.get("/?lang=en")
    response = post_new_work(client, start_date="2027-05-01", end_date="2027-04-01")
    assert form_errors(response.get_data(as_text=True))["end_date"] == (
        "The end date is before the start date."
    )


def test_csrf_token_is_required(client, planner, session):
    data = _fields()
    assert client.post("/works/new", data=data).status_code == 400
    data["csrf_token"] = "forged"
    assert client.post("/works/new", data=data).status_code == 400


def test_edit_shows_the_work_and_saves_a_change(client, planner, make_work, session):
    work = make_work(organisation=planner.organisation, geometry=Point(174000, 450000))
    page = client.get(f"/works/{work.id}/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'name="version" type="hidden" value="{work.version}"' in html
    assert "Vervangen riolering" in html and "&#34;Point&#34;" in html

    data = _fields(title="Nieuwe titel", version=str(work.version))
    data["csrf_token"] = CSRF.search(html).group(1)
    response = client.post(f"/works/{work.id}/edit", data=data)
    assert response.status_code == 302 and response.headers["Location"] == f"/works/{work.id}"
    session.refresh(work)
    assert work.title == "Nieuwe titel" and work.version == 2


def test_an_untouched_geometry_is_not_changed(client, planner, make_work, session):
    work = make_work(organisation=planner.organisation)
    html = client.get(f"/works/{work.id}/edit").get_data(as_text=True)
    geometry = re.search(r'name="geometry" type="hidden" value="([^"]*)"', html).group(1)
    data = _fields(title="Alleen de titel", version=str(work.version))
    data["geometry"] = geometry.replace("&#34;", '"')
    data["csrf_token"] = CSRF.search(html).group(1)
    assert client.post(f"/works/{work.id}/edit", data=data).status_code == 302
    session.refresh(work)
    from kip.services.works import history

    assert "geom" not in history(session, work)[-1].changes


def test_a_stale_version_is_a_conflict_that_keeps_the_input(client, planner, make_work, session):
    work = make_work(organisation=planner.organisation)
    token = csrf_of(client, f"/works/{work.id}/edit")
    first = dict(_fields(title="Eerste wijziging", version="1"), csrf_token=token)
    assert client.post(f"/works/{work.id}/edit", data=first).status_code == 302

    second = dict(_fields(title="Mijn wijziging", version="1"), csrf_token=token)
    response = client.post(f"/works/{work.id}/edit", data=second)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Iemand anders heeft dit werk opgeslagen" in html
    assert 'value="Mijn wijziging"' in html
    assert 'name="version" type="hidden" value="2"' in html
    session.refresh(work)
    assert work.title == "Eerste wijziging"


def test_a_planner_of_another_organisation_may_not_edit(client, planner, make_work, make_org):
    work = make_work(organisation=make_org(), visibility="partners")
    assert client.get(f"/works/{work.id}/edit").status_code == 403
    page = client.get(f"/works/{work.id}").get_data(as_text=True)
    assert f"/works/{work.id}/edit" not in page
