"""Dig bans from a coordinator's pages and the API: impose, edit, end, and accept proposals."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from pyproj import Transformer
from shapely import Point, box
from sqlalchemy import func, select
from test_work_form import POLYGON as RECTANGLE
from test_work_form import csrf_of, feature_collection, form_errors, page_login

from kip import geo
from kip.actors import Actor
from kip.errors import Conflict, Forbidden, StaleVersion
from kip.models import AuditEvent, DigBan, Role
from kip.services import digbans

TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)
X, Y = 174000.0, 450000.0
TODAY = date.today()


@pytest.fixture
def municipality(make_org):
    return make_org("Gemeente Ede – Coördinatie")


@pytest.fixture
def coordinator(client, make_user, municipality, password):
    user = make_user("coordinator", organisation=municipality)
    page_login(client, user, password)
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_of(client, "/account")  # for the API
    return user


@pytest.fixture
def coordinator_actor(make_user, municipality) -> Actor:
    user = make_user("coordinator", organisation=municipality)
    return Actor.for_user(user.id, municipality.id, Role.COORDINATOR)


@pytest.fixture
def make_ban(session, municipality):
    def make(start: date, end: date, title: str = "Nieuw asfalt Dorpsstraat") -> DigBan:
        ban = digbans.create_dig_ban(
            session,
            Actor.system("test"),
            digbans.DigBanData(
                organisation_id=municipality.id,
                title=title,
                start_date=start,
                end_date=end,
                area=box(X, Y, X + 100, Y + 20),
            ),
        )
        session.flush()
        return ban

    return make


def _form(**overrides: str) -> dict[str, str]:
    fields = {
        "title": "Nieuw asfalt Stationsplein",
        "reason": "Nieuwe deklaag",
        "start_date": "2027-03-01",
        "end_date": "2030-02-28",
        "geometry": feature_collection(RECTANGLE),
    }
    fields.update(overrides)
    return fields


def _post(client, url: str, **overrides: str):
    return client.post(url, data={**_form(**overrides), "csrf_token": csrf_of(client, url)})


# --- the service ------------------------------------------------------------------------


def test_ending_a_ban_makes_today_its_last_day(session, make_ban, coordinator_actor):
    ban = make_ban(TODAY - timedelta(days=30), TODAY + timedelta(days=300))
    assert digbans.may_end(ban)
    with pytest.raises(StaleVersion):
        digbans.end_dig_ban(session, coordinator_actor, ban.id, ban.version + 1)
    ended = digbans.end_dig_ban(session, coordinator_actor, ban.id, ban.version)
    assert (ended.end_date, ended.version) == (TODAY, 2)
    assert not digbans.may_end(ended)
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "dig_ban.end"))
    event = event.scalar_one()
    assert (event.object_id, event.user_id) == (ban.id, coordinator_actor.user_id)
    assert event.details == {"end_date": TODAY.isoformat()}
    with pytest.raises(Conflict, match="already ends"):  # never extended by "ending" it
        digbans.end_dig_ban(session, coordinator_actor, ban.id, ended.version)


def test_a_ban_that_has_not_started_or_has_ended_cannot_be_ended(session, make_ban, actor):
    coming = make_ban(TODAY + timedelta(days=10), TODAY + timedelta(days=400))
    over = make_ban(TODAY - timedelta(days=400), TODAY - timedelta(days=10))
    for ban in (coming, over):
        assert not digbans.may_end(ban)
        with pytest.raises(Conflict):
            digbans.end_dig_ban(session, actor, ban.id, ban.version)
    planner = Actor.for_user(1, coming.organisation_id, Role.PLANNER)
    with pytest.raises(Forbidden):
        digbans.end_dig_ban(session, planner, coming.id, coming.version)


def test_the_default_period_follows_the_configuration():
    assert digbans.default_period(date(2027, 1, 1), {"DIG_BAN_YEARS": 5}) == (
        date(2027, 1, 1),
        date(2031, 12, 31),
    )


# --- the pages --------------------------------------------------------------------------


def test_the_new_form_offers_today_and_the_configured_years(client, coordinator):
    page = client.get("/digbans/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    start, end = digbans.default_period()
    days = 'max="2199-12-31" min="1900-01-01"'
    assert f'id="start_date" {days} name="start_date" required type="date" value="{start}"' in html
    assert f'id="end_date" {days} name="end_date" required type="date" value="{end}"' in html
    assert end == date(TODAY.year + 3, TODAY.month, TODAY.day) - timedelta(days=1) or (
        (TODAY.month, TODAY.day) == (2, 29)
    )
    assert "Nieuw graafverbod" in html
    assert 'data-geometry-input="geometry"' in html and "kip-draw-form.js" in html
    # Areas only: the polygon and rectangle tools, no marker nor line.
    assert '"rectangle": {"showArea": false}' in html and '"marker": false' in html


def test_a_planner_may_not_manage_dig_bans(client, make_user, make_ban, password):
    ban = make_ban(TODAY, TODAY + timedelta(days=10))
    page_login(client, make_user("planner"), password)
    assert client.get("/digbans/new").status_code == 403
    assert client.get(f"/digbans/{ban.id}/edit").status_code == 403
    listed = client.get("/digbans").get_data(as_text=True)
    assert "Nieuw asfalt Dorpsstraat" in listed
    assert "/digbans/new" not in listed and f"/digbans/{ban.id}/edit" not in listed


def test_a_coordinator_imposes_a_ban_drawn_on_the_map(client, coordinator, session):
    response = _post(client, "/digbans/new")
    assert response.status_code == 302, form_errors(response.get_data(as_text=True))
    assert response.headers["Location"] == "/digbans"
    ban = session.execute(select(DigBan).where(DigBan.title == "Nieuw asfalt Stationsplein"))
    ban = ban.scalar_one()
    assert ban.organisation_id == coordinator.organisation_id
    assert (ban.start_date, ban.end_date, ban.reason) == (
        date(2027, 3, 1),
        date(2030, 2, 28),
        "Nieuwe deklaag",
    )
    srid, kind = session.execute(
        select(func.ST_SRID(DigBan.geom), func.GeometryType(DigBan.geom)).where(DigBan.id == ban.id)
    ).one()
    assert (srid, kind) == (28992, "POLYGON")
    centre = geo.from_db(ban.geom).centroid
    ex, ey = TO_RD.transform(5.665, 52.0425)
    assert abs(centre.x - ex) < 5 and abs(centre.y - ey) < 5
    listed = client.get("/digbans").get_data(as_text=True)
    assert "Het graafverbod is opgeslagen." in listed
    assert f'href="/digbans/{ban.id}/edit"' in listed and 'href="/digbans/new"' in listed


POINT = {"type": "Point", "coordinates": [5.66, 52.04]}
FAR_AWAY = {  # Paris
    "type": "Polygon",
    "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[5.66, 52.04], [5.67, 52.045], [5.67, 52.04], [5.66, 52.045], [5.66, 52.04]]],
}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_date": "2027-02-01"}, "end_date", "De einddatum ligt voor de begindatum."),
        ({"geometry": ""}, "geometry", "Teken het gebied van het graafverbod op de kaart"),
        ({"geometry": feature_collection(POINT)}, "geometry", "Een graafverbod is een gebied"),
        ({"geometry": feature_collection(RECTANGLE, POINT)}, "geometry", "Een graafverbod is een"),
        ({"geometry": feature_collection(FAR_AWAY)}, "geometry", "buiten de regio"),
        ({"geometry": feature_collection(BOWTIE)}, "geometry", "niet geldig"),
        ({"geometry": "{not json"}, "geometry", "kon niet worden gelezen"),
        ({"title": "  "}, "title", ""),
        ({"start_date": ""}, "start_date", "Vul een datum in."),
    ],
)
def test_bad_input_comes_back_next_to_its_field(
    client, coordinator, session, overrides, field, message
):
    before = session.execute(select(func.count()).select_from(DigBan)).scalar_one()
    response = _post(client, "/digbans/new", **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = form_errors(html)
    assert set(errors) == {field} and message in errors[field]
    assert "Nieuwe deklaag" in html  # what was typed is kept
    assert session.execute(select(func.count()).select_from(DigBan)).scalar_one() == before


def test_the_edit_form_is_prefilled_and_saves_through_the_service(
    client, coordinator, make_ban, session
):
    ban = make_ban(date(2027, 1, 1), date(2029, 12, 31))
    stored = geo.from_db(ban.geom)
    html = client.get(f"/digbans/{ban.id}/edit").get_data(as_text=True)
    assert 'value="Nieuw asfalt Dorpsstraat"' in html and 'value="2029-12-31"' in html
    assert 'name="version" type="hidden" value="1"' in html
    drawn = re.search(r'name="geometry" type="hidden" value="([^"]+)"', html).group(1)
    drawn = drawn.replace("&#34;", '"')
    assert "Graafverbod bewerken" in html

    token = csrf_of(client, f"/digbans/{ban.id}/edit")
    data = _form(title="Asfalt Dorpsstraat", geometry=drawn, version="1", csrf_token=token)
    response = client.post(f"/digbans/{ban.id}/edit", data=data)
    assert response.status_code == 302, form_errors(response.get_data(as_text=True))
    session.refresh(ban)
    assert (ban.title, ban.end_date, ban.version) == ("Asfalt Dorpsstraat", date(2030, 2, 28), 2)
    assert geo.from_db(ban.geom).equals_exact(stored, 0)  # an untouched area stays as it was

    moved = feature_collection(RECTANGLE)
    data = _form(geometry=moved, version="2", csrf_token=token)
    assert client.post(f"/digbans/{ban.id}/edit", data=data).status_code == 302
    session.refresh(ban)
    assert geo.from_db(ban.geom).contains(Point(TO_RD.transform(5.665, 52.0425)))


def test_editing_a_stale_version_is_a_conflict_that_keeps_the_input(
    client, coordinator, make_ban, session
):
    ban = make_ban(date(2027, 1, 1), date(2029, 12, 31))
    token = csrf_of(client, f"/digbans/{ban.id}/edit")
    first = _form(title="Eerste wijziging", version="1", csrf_token=token)
    assert client.post(f"/digbans/{ban.id}/edit", data=first).status_code == 302
    second = _form(title="Mijn wijziging", version="1", csrf_token=token)
    response = client.post(f"/digbans/{ban.id}/edit", data=second)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Iemand anders heeft dit graafverbod opgeslagen" in html
    assert 'value="Mijn wijziging"' in html
    assert 'name="version" type="hidden" value="2"' in html
    session.refresh(ban)
    assert ban.title == "Eerste wijziging"


def test_edit_refuses_the_same_bad_input(client, coordinator, make_ban):
    ban = make_ban(date(2027, 1, 1), date(2029, 12, 31))
    token = csrf_of(client, f"/digbans/{ban.id}/edit")
    data = _form(start_date="2031-01-01", version="1", csrf_token=token)
    response = client.post(f"/digbans/{ban.id}/edit", data=data)
    assert response.status_code == 422
    assert form_errors(response.get_data(as_text=True)) == {
        "end_date": "De einddatum ligt voor de begindatum."
    }
    assert client.get("/digbans/999999/edit").status_code == 404


def test_the_end_button_ends_a_running_ban_today(client, coordinator, make_ban, session):
    running = make_ban(TODAY - timedelta(days=5), TODAY + timedelta(days=500))
    coming = make_ban(TODAY + timedelta(days=5), TODAY + timedelta(days=500), "Komend")
    html = client.get(f"/digbans/{running.id}/edit").get_data(as_text=True)
    assert "Dit graafverbod beëindigen" in html
    assert 'name="end-version" type="hidden" value="1"' in html
    assert "Dit graafverbod beëindigen" not in client.get(f"/digbans/{coming.id}/edit").get_data(
        as_text=True
    )
    token = csrf_of(client, f"/digbans/{running.id}/edit")
    url = f"/digbans/{running.id}/end"

    stale = client.post(url, data={"end-version": "7", "end-csrf_token": token})
    assert stale.headers["Location"] == f"/digbans/{running.id}/edit"
    ended = client.post(url, data={"end-version": "1", "end-csrf_token": token})
    assert ended.status_code == 302 and ended.headers["Location"] == "/digbans"
    session.refresh(running)
    assert running.end_date == TODAY
    assert "Het graafverbod eindigt vandaag." in client.get("/digbans").get_data(as_text=True)

    again = client.post(url, data={"end-version": "2", "end-csrf_token": token})
    assert again.headers["Location"] == f"/digbans/{running.id}/edit"
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Alleen een graafverbod dat al begonnen is" in page
    session.refresh(running)
    assert running.end_date == TODAY
    refused = client.post(f"/digbans/{coming.id}/end", data={"end-version": "1"})
    assert refused.status_code == 302  # no CSRF token: nothing happens
    session.refresh(coming)
    assert coming.end_date == TODAY + timedelta(days=500)


# --- the API ----------------------------------------------------------------------------


def test_one_dig_ban_through_the_api(client, coordinator, make_ban):
    ban = make_ban(date(2027, 1, 1), date(2029, 12, 31))
    response = client.get(f"/api/v1/digbans/{ban.id}")
    assert response.status_code == 200
    assert response.headers["ETag"] == '"v1"'
    body = response.json
    assert (body["type"], body["id"]) == ("Feature", ban.id)
    assert body["properties"]["end_date"] == "2029-12-31"
    lon, lat = body["geometry"]["coordinates"][0][0]
    assert 5 < lon < 6 and 51 < lat < 53  # EPSG:4326
    assert client.get("/api/v1/digbans/999999").status_code == 404


@pytest.fixture
def completed_road(make_work, make_org):
    return make_work(
        make_org("Gemeente Ede – Wegen"),
        title="Nieuw asfalt Kerkstraat",
        discipline="road",
        phase="completed",
        geometry=Point(X + 9000, Y).buffer(5),
        end_date=date(2027, 6, 30),
    )


def test_proposals_through_the_api(client, coordinator, completed_road, session):
    listed = client.get("/api/v1/digbans/proposals")
    assert listed.status_code == 200, listed.json
    [feature] = listed.json["features"]
    assert feature["id"] == completed_road.id
    props = feature["properties"]
    assert props["source_work_id"] == completed_road.id
    assert (props["start_date"], props["end_date"]) == ("2027-07-01", "2030-06-30")
    assert feature["geometry"]["type"] == "Polygon"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 5 < lon < 6 and 51 < lat < 53

    accepted = client.post(f"/api/v1/digbans/proposals/{completed_road.id}")
    assert accepted.status_code == 201, accepted.json
    location = accepted.headers["Location"]
    assert location == f"/api/v1/digbans/{accepted.json['id']}"
    assert client.get(location).json["properties"]["source_work_id"] == completed_road.id
    assert client.get("/api/v1/digbans/proposals").json["features"] == []
    again = client.post(f"/api/v1/digbans/proposals/{completed_road.id}")
    assert again.status_code == 404
    assert again.mimetype == "application/problem+json"


def test_proposals_are_for_coordinators(client, make_user, completed_road, password):
    assert client.get("/api/v1/digbans/proposals").status_code == 401
    page_login(client, make_user("planner"), password)
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_of(client, "/account")
    refused = client.get("/api/v1/digbans/proposals")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.post(f"/api/v1/digbans/proposals/{completed_road.id}").status_code == 403


def test_the_new_operations_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert "get" in paths["/api/v1/digbans/{ban_id}"]
    assert {"401", "403"} <= set(paths["/api/v1/digbans/proposals"]["get"]["responses"])
    assert {"201", "404"} <= set(paths["/api/v1/digbans/proposals/{work_id}"]["post"]["responses"])
