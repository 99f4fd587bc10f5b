"""A dig ban proposed after a confidential road work tells every partner its area and period
(they must not dig there) and nothing of the work: not its title, its id nor where it came
from. The coordinator, who sees the work, is still told."""

from __future__ import annotations

import re
from datetime import date

import pytest
from shapely import LineString, MultiLineString

from kip import geo
from kip.actors import Actor
from kip.models import Role, Street
from kip.services import accounts, digbans
from kip.services.digbans import accept_proposal, create_dig_ban

SECRET = "GEHEIM-asfalt-Nieuwe-Kanaalweg-4411"
SYSTEM = Actor.system("test")


@pytest.fixture
def bans(session, make_org, make_work, make_user):
    roads = make_org("Netwerk Vallei", kind="grid_operator")
    partner = make_org("Gemeente Riolering")
    road = make_work(
        roads,
        title=SECRET,
        description=SECRET,
        discipline="road",
        phase="completed",
        visibility="confidential",
        geometry=LineString([(174000, 450000), (174150, 450020)]),
        start_date=date(2027, 3, 1),
        end_date=date(2027, 4, 17),
    )
    session.add(
        Street(
            name="Kerkstraat",
            source="test",
            source_ref="1",
            geom=geo.to_db(MultiLineString([[(173990, 450000), (174160, 450021)]]), 28992),
        )
    )
    coordinator = make_user("coordinator", organisation=make_org("Coördinatie"))
    coordinating = Actor.for_user(coordinator.id, coordinator.organisation_id, Role.COORDINATOR)
    derived = accept_proposal(session, coordinating, road.id)
    # The same area, period, words and organisation, given by hand: no work behind it.
    by_hand = create_dig_ban(session, SYSTEM, digbans.data_of(derived))
    reader = accounts.create_token(
        session, SYSTEM, organisation=partner, scope="read", name="koppeling"
    ).secret
    session.flush()
    return {"road": road, "derived": derived, "by_hand": by_hand, "reader": reader}


def test_a_derived_ban_names_no_work(bans):
    derived, road = bans["derived"], bans["road"]
    assert derived.title == "Graafverbod Kerkstraat"  # where, which the area shows anyway
    assert derived.organisation_id != road.organisation_id  # imposed by the coordination
    for text in (derived.title, derived.reason):
        assert SECRET not in text and not re.search(rf"\b(work|werk) {road.id}\b", text)
        assert "Kanaalweg" not in text


def test_a_partner_sees_a_derived_ban_as_one_made_by_hand(client, bans):
    headers = {"Authorization": f"Bearer {bans['reader']}"}
    derived = client.get(f"/api/v1/digbans/{bans['derived'].id}", headers=headers).json
    by_hand = client.get(f"/api/v1/digbans/{bans['by_hand'].id}", headers=headers).json
    for feature in (derived, by_hand):
        feature.pop("id")
    assert derived == by_hand  # same area, period and words; no source
    assert derived["properties"]["source_work_id"] is None
    listing = client.get("/api/v1/digbans", headers=headers).get_data(as_text=True)
    assert SECRET not in listing


def test_the_coordinator_is_told_where_a_ban_came_from(session, bans, make_user):
    coordinator = make_user("coordinator")
    actor = Actor.for_user(coordinator.id, coordinator.organisation_id, Role.COORDINATOR)
    assert digbans.shown_source(session, actor, bans["derived"]) == bans["road"].id
    planner = make_user("planner", organisation=coordinator.organisation)
    actor = Actor.for_user(planner.id, planner.organisation_id, Role.PLANNER)
    assert digbans.shown_source(session, actor, bans["derived"]) is None
