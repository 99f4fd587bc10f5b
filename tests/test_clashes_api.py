"""Who sees which clash (issue 6.3), the clash, combination, draft-check and dig-ban API,
and the clash pages."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from shapely import LineString, Point
from sqlalchemy import func, select

from kip.actors import Actor
from kip.errors import Forbidden, NotFound, Unauthorized
from kip.models import Clash, DigBan, Role, Work
from kip.services import accounts
from kip.services import clashes as svc
from kip.services.works import WorkData

X, Y = 174000.0, 450000.0
SECRET = "GEHEIM-hoogspanning-9911"
SECRET_NOTE = "combineren met GEHEIM-hoogspanning"
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def line(x0: float, dy: float = 0.0, length: float = 100.0) -> LineString:
    return LineString([(X + x0, Y + dy), (X + x0 + length, Y + dy)])


@pytest.fixture
def town(session, make_org, make_work, make_user):
    """A planner's sewer beside a grid operator's confidential cable (a conflict and a chance
    to combine), and far away two confidential works of the grid operator meeting."""
    city = make_org("Gemeente Riolering")
    grid = make_org("Netwerk Vallei", kind="grid_operator")
    municipality = make_org("Coördinatie")
    sewer = make_work(city, title="Riool Dorpsstraat", geometry=line(0), excavation=True)
    cable = make_work(
        grid,
        title=SECRET,
        description=SECRET,
        discipline="electricity",
        visibility="confidential",
        geometry=line(10, dy=3, length=60),
        excavation=True,
        contact_name=SECRET,
    )
    far_a = make_work(
        grid,
        title=SECRET + "-a",
        discipline="gas",
        visibility="confidential",
        geometry=line(5000),
        excavation=True,
    )
    far_b = make_work(
        grid,
        title=SECRET + "-b",
        discipline="gas",
        visibility="confidential",
        geometry=line(5000, dy=2),
        excavation=True,
    )
    planner = make_user("planner", organisation=city)
    coordinator = make_user("coordinator", organisation=municipality)
    session.flush()
    return {
        "city": city,
        "grid": grid,
        "sewer": sewer,
        "cable": cable,
        "far": (far_a, far_b),
        "planner": planner,
        "coordinator": coordinator,
        "planner_actor": Actor.for_user(planner.id, city.id, Role.PLANNER),
        "coordinator_actor": Actor.for_user(coordinator.id, municipality.id, Role.COORDINATOR),
    }


# --- the services: who sees what --------------------------------------------------------


def test_the_public_sees_no_clashes(session, town):
    public = Actor.public()
    with pytest.raises(Unauthorized):
        svc.list_clashes(session, public)
    clash_id = session.execute(select(Clash.id)).scalars().first()
    with pytest.raises(Unauthorized):
        svc.get_clash(session, public, clash_id)
    with pytest.raises(Unauthorized):
        svc.list_combinations(session, public)


def test_a_coordinator_sees_every_clash_whole(session, town):
    page = svc.list_clashes(session, town["coordinator_actor"])
    assert page.total == 4  # sewer × cable (conflict, chance), far a × far b (the same two)
    assert all(not v.redacted for v in page.items)
    titles = {v.work_a.title for v in page.items} | {v.work_b.title for v in page.items}
    assert SECRET in titles


def test_a_planner_is_told_only_that_their_work_meets_a_secret(session, town):
    page = svc.list_clashes(session, town["planner_actor"])
    assert page.total == 2  # the two of the sewer; not the two between hidden works
    for view in page.items:
        assert view.redacted
        sides = [view.work_a, view.work_b]
        assert town["sewer"] in sides and None in sides
        assert view.measured is None  # nothing measured: no distance, days, score
        assert view.meeting is None  # nor where they meet
        assert view.dig_ban is None and view.review_note is None
        assert SECRET not in json.dumps(view.explanation)
        assert f"work {town['cable'].id} " not in view.explanation["clears_if"]
        assert "2027-06-30" not in view.explanation["clears_if"]  # nor its dates
        assert "3 m" not in view.explanation["facts"]  # the real distance is 3 m
        assert "not shown to you" in view.explanation["clears_if"]


def test_a_box_finds_a_redacted_clash_by_the_planners_own_work(session, town):
    # The sewer runs x 0..100, the cable x 10..70: a box around the sewer's far end holds
    # the sewer, not where the two meet.
    box = (X + 90, Y - 1, X + 100, Y + 1)
    planner = svc.list_clashes(session, town["planner_actor"], svc.ClashFilters(bbox=box))
    assert planner.total == 2
    coordinator = svc.list_clashes(session, town["coordinator_actor"], svc.ClashFilters(bbox=box))
    assert coordinator.total == 0
    over_cable_only = (X + 20, Y + 2.5, X + 60, Y + 3.5)  # the cable, not the sewer
    assert (
        svc.list_clashes(
            session, town["planner_actor"], svc.ClashFilters(bbox=over_cable_only)
        ).total
        == 0
    )


def test_a_partner_of_another_organisation_is_told_nothing(session, town, make_org):
    other = make_org("Waterbedrijf")
    reader = Actor.for_token(1, other.id, "read")
    assert svc.list_clashes(session, reader).total == 0  # the sewer is not theirs


def test_filters_do_not_reveal_what_a_hidden_side_is(session, town):
    planner = town["planner_actor"]
    by_grid = svc.list_clashes(session, planner, svc.ClashFilters(organisation_id=town["grid"].id))
    assert by_grid.total == 0  # the grid operator's work is hidden: it cannot match
    electric = svc.list_clashes(session, planner, svc.ClashFilters(discipline="electricity"))
    assert electric.total == 0
    sewer = svc.list_clashes(session, planner, svc.ClashFilters(discipline="sewer"))
    assert sewer.total == 2


def test_a_planner_cannot_open_a_clash_between_works_they_may_not_see(session, town):
    far_a, far_b = town["far"]
    coordinator = svc.list_clashes(
        session, town["coordinator_actor"], svc.ClashFilters(discipline="gas")
    )
    hidden = [v.clash.id for v in coordinator.items if v.work_a.id in (far_a.id, far_b.id)]
    assert hidden
    with pytest.raises(NotFound):
        svc.get_clash(session, town["planner_actor"], hidden[0])


def test_a_redacted_clash_has_no_history_to_show(session, town):
    [view] = svc.list_clashes(
        session, town["planner_actor"], svc.ClashFilters(kind="conflict")
    ).items
    svc.review_clash(session, town["coordinator_actor"], view.clash.id, "combine", SECRET_NOTE)
    assert svc.clash_history(session, town["planner_actor"], view.clash.id) == []
    assert svc.get_clash(session, town["planner_actor"], view.clash.id).clash.status == "combine"
    [event] = svc.clash_history(session, town["coordinator_actor"], view.clash.id)
    assert event.note == SECRET_NOTE
    with pytest.raises(Forbidden):
        svc.review_clash(session, town["planner_actor"], view.clash.id, "dismissed")


def test_combinations_are_made_of_the_works_a_viewer_may_see(session, town):
    # The sewer's only partner in a combination is the hidden cable: for the planner there
    # is nothing to combine; the coordinator sees both proposals.
    assert svc.list_combinations(session, town["planner_actor"]) == []
    assert len(svc.list_combinations(session, town["coordinator_actor"])) == 2


def test_a_draft_is_checked_against_what_the_planner_may_see_only(session, town):
    data = WorkData(
        title="Glasvezel",
        discipline="telecom",
        phase="design",
        geometry=line(20, dy=6, length=20),
        start_date=date(2027, 4, 1),
        end_date=date(2027, 4, 30),
        excavation=True,
    )
    found = svc.check_work(session, town["planner_actor"], data)
    assert found and {d.other.id for d in found} == {town["sewer"].id}
    everything = svc.check_work(session, town["coordinator_actor"], data)
    assert {d.other.id for d in everything} == {town["sewer"].id, town["cable"].id}
    with pytest.raises(Unauthorized):
        svc.check_work(session, Actor.public(), data)


# --- the API ---------------------------------------------------------------------------


def login(client, user, password) -> str:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    return token


@pytest.fixture
def planner_client(app, connection, town, password):
    client = app.test_client()
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client, town["planner"], password)
    return client


@pytest.fixture
def coordinator_client(app, connection, town, password):
    client = app.test_client()
    csrf = login(client, town["coordinator"], password)
    return client, {"X-CSRFToken": csrf}


def test_the_api_refuses_the_public(client, town):
    for url in ("/api/v1/clashes", "/api/v1/clashes/1", "/api/v1/combinations", "/api/v1/digbans"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.mimetype == "application/problem+json"
    assert client.patch("/api/v1/clashes/1", json={"status": "accepted"}).status_code == 401


def test_the_list_is_a_paged_feature_collection_sorted_by_score(coordinator_client, town):
    client, _headers = coordinator_client
    body = client.get("/api/v1/clashes?limit=3").json
    assert body["type"] == "FeatureCollection"
    assert (body["numberMatched"], body["numberReturned"]) == (4, 3)
    scores = [f["properties"]["score"] for f in body["features"]]
    assert scores == sorted(scores, reverse=True)
    assert any(link["rel"] == "next" for link in body["links"])
    rest = client.get("/api/v1/clashes?limit=3&offset=3").json
    assert rest["numberReturned"] == 1
    ids = {f["id"] for f in body["features"]} | {f["id"] for f in rest["features"]}
    assert len(ids) == 4


@pytest.mark.parametrize(
    ("query", "matched"),
    [
        ("kind=conflict", 2),
        ("kind=opportunity&status=open", 2),
        ("status=dismissed", 0),
        ("discipline=sewer", 2),
        ("bbox=0,0,1,1", 0),
        ("bbox=5.0,51.5,6.5,52.5", 4),
        ("start=2030-01-01", 0),
        ("end=2027-12-31", 4),
    ],
)
def test_list_filters(coordinator_client, town, query, matched):
    client, _ = coordinator_client
    assert client.get(f"/api/v1/clashes?{query}").json["numberMatched"] == matched


@pytest.mark.parametrize(
    "query", ["kind=catastrophe", "limit=0", "bbox=1,2,3", "bbox=6,52,5,53", "start=2027-13-01"]
)
def test_bad_queries_are_problems(coordinator_client, query):
    client, _ = coordinator_client
    response = client.get(f"/api/v1/clashes?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_a_planner_gets_redacted_sides(planner_client, town):
    body = planner_client.get("/api/v1/clashes").get_data(as_text=True)
    assert SECRET not in body and "Netwerk Vallei" not in body
    features = json.loads(body)["features"]
    assert len(features) == 2
    for f in features:
        sides = [f["properties"]["work_a"], f["properties"]["work_b"]]
        assert {"visible": False} in sides
        assert f["properties"]["redacted"] is True
        assert f["geometry"] is None
        withheld = ("score", "distance_m", "overlap_days", "gap_days", "shared_length_m")
        assert all(f["properties"][k] is None for k in withheld)
        assert f["properties"]["first_found_at"] is None
        detail = planner_client.get(f"/api/v1/clashes/{f['id']}")
        assert detail.status_code == 200
        assert SECRET not in detail.get_data(as_text=True)


def test_review_lifecycle(coordinator_client, planner_client, session, town):
    client, headers = coordinator_client
    clash_id = client.get("/api/v1/clashes?kind=conflict").json["features"][0]["id"]
    refused = planner_client.patch(f"/api/v1/clashes/{clash_id}", json={"status": "dismissed"})
    assert refused.status_code == 403

    done = client.patch(
        f"/api/v1/clashes/{clash_id}",
        json={"status": "combine", "note": "één sleuf", "expected_status": "open"},
        headers=headers,
    )
    assert done.status_code == 200, done.json
    props = done.json["properties"]
    assert props["status"] == "combine" and props["review"]["note"] == "één sleuf"
    assert [(h["status_from"], h["status_to"]) for h in props["history"]] == [("open", "combine")]

    stale = client.patch(
        f"/api/v1/clashes/{clash_id}",
        json={"status": "dismissed", "expected_status": "open"},
        headers=headers,
    )
    assert stale.status_code == 409 and stale.json["current_status"] == "combine"
    bad = client.patch(f"/api/v1/clashes/{clash_id}", json={"status": "resolved"}, headers=headers)
    assert bad.status_code == 422
    missing = client.patch("/api/v1/clashes/999999999", json={"status": "open"}, headers=headers)
    assert missing.status_code == 404

    session.get(Clash, clash_id).status = "resolved"
    session.flush()
    resolved = client.patch(f"/api/v1/clashes/{clash_id}", json={"status": "open"}, headers=headers)
    assert resolved.status_code == 409
    assert resolved.mimetype == "application/problem+json"


def test_a_planner_token_is_refused_a_review(app, connection, session, town):
    secret = accounts.create_token(
        session, Actor.system("t"), organisation=town["city"], scope="write", name="t"
    ).secret
    session.flush()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    clash_id = client.get("/api/v1/clashes", headers=headers).json["features"][0]["id"]
    response = client.patch(
        f"/api/v1/clashes/{clash_id}", json={"status": "dismissed"}, headers=headers
    )
    assert response.status_code == 403


def test_combinations_endpoint(planner_client, coordinator_client, town):
    body = planner_client.get("/api/v1/combinations").json
    assert body == {"combinations": [], "numberMatched": 0}
    client, _ = coordinator_client
    assert client.get("/api/v1/combinations").json["numberMatched"] == 2
    only = client.get(f"/api/v1/combinations?organisation={town['city'].id}").json
    assert only["numberMatched"] == 1


DRAFT = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [5.6656, 52.0406]},
    "properties": {
        "title": "Proefsleuf",
        "discipline": "telecom",
        "phase": "design",
        "start_date": "2027-04-01",
        "end_date": "2027-04-30",
        "excavation": True,
    },
}


def test_works_check_saves_nothing(planner_client, session, town):
    draft = json.loads(json.dumps(DRAFT))
    draft["geometry"] = {"type": "Point", "coordinates": [X + 50, Y + 1]}
    before = (
        session.execute(select(func.count()).select_from(Work)).scalar_one(),
        session.execute(select(func.count()).select_from(Clash)).scalar_one(),
    )
    response = planner_client.post("/api/v1/works/check?crs=EPSG:28992", json=draft)
    assert response.status_code == 200, response.json
    found = response.json["clashes"]
    assert {c["kind"] for c in found} == {"conflict", "opportunity"}
    assert found and all(c["work"]["visible"] for c in found)  # the hidden cable is not told
    assert SECRET not in response.get_data(as_text=True)
    after = (
        session.execute(select(func.count()).select_from(Work)).scalar_one(),
        session.execute(select(func.count()).select_from(Clash)).scalar_one(),
    )
    assert before == after


def test_works_check_needs_a_login_and_a_valid_draft(client, planner_client):
    assert client.post("/api/v1/works/check", json=DRAFT).status_code == 401
    bad = json.loads(json.dumps(DRAFT))
    bad["properties"]["discipline"] = "nonsense"
    response = planner_client.post("/api/v1/works/check", json=bad)
    assert response.status_code == 422 and "discipline" in response.json["errors"]


def test_dig_bans_through_the_api(coordinator_client, planner_client, session, town):
    client, headers = coordinator_client
    area = {
        "type": "Polygon",
        "coordinates": [
            [
                [X - 10, Y - 10],
                [X + 200, Y - 10],
                [X + 200, Y + 10],
                [X - 10, Y + 10],
                [X - 10, Y - 10],
            ]
        ],
    }
    ban = {
        "type": "Feature",
        "geometry": area,
        "properties": {
            "title": "Nieuw asfalt Dorpsstraat",
            "start_date": "2027-01-01",
            "end_date": "2029-12-31",
        },
    }
    refused = planner_client.post("/api/v1/digbans?crs=EPSG:28992", json=ban)
    assert refused.status_code == 403
    created = client.post("/api/v1/digbans?crs=EPSG:28992", json=ban, headers=headers)
    assert created.status_code == 201, created.json
    ban_id = created.json["id"]
    assert client.get("/api/v1/clashes?kind=violation").json["numberMatched"] == 2  # sewer, cable

    listed = planner_client.get("/api/v1/digbans").json["features"]
    assert [f["id"] for f in listed] == [ban_id]

    no_match = client.patch(f"/api/v1/digbans/{ban_id}", json={}, headers=headers)
    assert no_match.status_code == 428
    ended = client.patch(
        f"/api/v1/digbans/{ban_id}",
        json={"properties": {"end_date": "2027-01-31"}},
        headers={**headers, "If-Match": created.headers["ETag"]},
    )
    assert ended.status_code == 200, ended.json
    assert ended.json["properties"]["end_date"] == "2027-01-31"
    assert session.get(DigBan, ban_id).end_date == date(2027, 1, 31)
    stale = client.patch(
        f"/api/v1/digbans/{ban_id}",
        json={"properties": {"title": "x"}},
        headers={**headers, "If-Match": created.headers["ETag"]},
    )
    assert stale.status_code == 412
    assert client.get("/api/v1/clashes?kind=violation&status=open").json["numberMatched"] == 0


# --- the pages --------------------------------------------------------------------------


def test_the_pages_need_a_login(client, town):
    assert client.get("/clashes").status_code == 302
    assert client.get("/digbans").status_code == 302


def test_a_planner_sees_their_clashes_without_the_secret(planner_client, town):
    page = planner_client.get("/clashes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Riool Dorpsstraat" in html and SECRET not in html
    clash_id = re.search(r'href="/clashes/(\d+)"', html).group(1)
    detail = planner_client.get(f"/clashes/{clash_id}").get_data(as_text=True)
    assert "Riool Dorpsstraat" in detail and SECRET not in detail
    assert 'name="note"' not in detail  # no review form for a planner
    assert 'class="work-map-small"' in detail  # the small map of their own work
    assert "Riool Dorpsstraat" in detail.split('class="work-map-small"')[1]  # its own side
    assert SECRET not in detail.split('class="work-map-small"')[1]  # never the hidden one


def test_a_coordinator_reviews_on_the_page(coordinator_client, session, town):
    client, headers = coordinator_client
    html = client.get("/clashes?kind=conflict&lang=en").get_data(as_text=True)
    assert SECRET in html
    clash_id = int(re.search(r'href="/clashes/(\d+)"', html).group(1))
    detail = client.get(f"/clashes/{clash_id}").get_data(as_text=True)
    assert 'name="note"' in detail
    response = client.post(
        f"/clashes/{clash_id}/review",
        data={"status": "accepted", "note": "kort", "csrf_token": headers["X-CSRFToken"]},
    )
    assert response.status_code == 302
    assert session.get(Clash, clash_id).status == "accepted"
    assert "kort" in client.get(f"/clashes/{clash_id}").get_data(as_text=True)


def test_filters_on_the_page(coordinator_client, town):
    client, _ = coordinator_client
    html = client.get("/clashes?kind=opportunity&lang=en").get_data(as_text=True)
    assert "2 found" in html
    bad = client.get("/clashes?kind=catastrophe")
    assert bad.status_code == 422


def test_a_planners_own_organisation_stays_the_default_on_every_page(planner_client, town):
    own = f'<option selected value="{town["city"].id}">'
    for url in ("/clashes", "/clashes?page=2", "/clashes?lang=nl&page=3"):
        assert own in planner_client.get(url).get_data(as_text=True), url
    everything = planner_client.get("/clashes?organisation=&page=2").get_data(as_text=True)
    assert own not in everything  # "all organisations", chosen, stays chosen


def test_a_coordinator_accepts_a_proposed_dig_ban(coordinator_client, make_work, session, town):
    client, headers = coordinator_client
    road = make_work(
        town["city"],
        title="Nieuw asfalt Kerkstraat",
        discipline="road",
        phase="completed",
        geometry=Point(X + 9000, Y).buffer(5),
    )
    session.flush()
    html = client.get("/digbans?lang=en").get_data(as_text=True)
    assert "Nieuw asfalt Kerkstraat" in html
    response = client.post(
        f"/digbans/proposals/{road.id}/accept", data={"csrf_token": headers["X-CSRFToken"]}
    )
    assert response.status_code == 302
    assert session.execute(select(DigBan).where(DigBan.source_work_id == road.id)).scalar_one()
    again = client.post(
        f"/digbans/proposals/{road.id}/accept", data={"csrf_token": headers["X-CSRFToken"]}
    )
    assert again.status_code == 404


def test_a_coordinator_discloses_a_clash_to_the_partners_involved(
    planner_client, coordinator_client, town
):
    features = planner_client.get("/api/v1/clashes?kind=conflict").json["features"]
    hidden = next(f for f in features if f["properties"]["redacted"])
    clash_id = hidden["id"]
    assert SECRET not in json.dumps(planner_client.get(f"/api/v1/clashes/{clash_id}").json)

    client, headers = coordinator_client
    refused = planner_client.patch(
        f"/api/v1/clashes/{clash_id}", json={"status": "combine", "disclosed": True}
    )
    assert refused.status_code == 403
    response = client.patch(
        f"/api/v1/clashes/{clash_id}",
        json={"status": "combine", "disclosed": True},
        headers=headers,
    )
    assert response.status_code == 200 and response.json["properties"]["disclosed"] is True

    shown = planner_client.get(f"/api/v1/clashes/{clash_id}").json
    assert not shown["properties"]["redacted"]
    assert SECRET in json.dumps(shown)  # both works in full now, by the coordinator's choice
    assert client.get("/api/v1/clashes").status_code == 200
    public = planner_client.application.test_client().get(f"/api/v1/clashes/{clash_id}")
    assert public.status_code == 401  # never to the public

    client.patch(
        f"/api/v1/clashes/{clash_id}",
        json={"status": "combine", "disclosed": False},
        headers=headers,
    )
    assert SECRET not in json.dumps(planner_client.get(f"/api/v1/clashes/{clash_id}").json)
