"""Dig bans: impose, edit, end, and accept proposals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from shapely import box
from sqlalchemy import select

from kip.actors import Actor
from kip.errors import Conflict, Forbidden, StaleVersion
from kip.models import AuditEvent, DigBan, Role
from kip.services import digbans

X, Y = 174000.0, 450000.0
TODAY = date.today()


@pytest.fixture
def municipality(make_org):
    return make_org("Gemeente Ede – Coördinatie")


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
