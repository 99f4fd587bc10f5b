"""Who sees and changes what: the visibility and edit rules, on real works."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kip import policy
from kip.actors import Actor
from kip.errors import Forbidden, NotFound, Unauthorized
from kip.models import Role, TokenScope, Work
from kip.services.works import WorkData, create_work, get_visible_work, update_work


@pytest.fixture
def plan(make_org, make_work):
    """Two organisations, each with a work of every visibility, in a firm and a vague phase."""
    own, other = make_org("Gemeente"), make_org("Netbeheerder", kind="grid_operator")
    works = {}
    for org_name, org in (("own", own), ("other", other)):
        for visibility in ("public", "partners", "confidential"):
            for phase in ("planned", "design", "cancelled"):
                works[org_name, visibility, phase] = make_work(
                    organisation=org, visibility=visibility, phase=phase
                )
    return own, other, works


def visible(session, actor: Actor, works) -> set:
    ids = set(session.execute(select(Work.id).where(policy.visible_works(actor))).scalars())
    return {key for key, work in works.items() if work.id in ids}


def test_the_public_sees_public_firm_works_only(session, plan):
    _own, _other, works = plan
    seen = visible(session, Actor.public(), works)
    assert seen == {("own", "public", "planned"), ("other", "public", "planned")}


@pytest.mark.parametrize("kind", ["planner", "read token"])
def test_partners_see_all_but_others_confidential_works(session, plan, kind):
    own, _other, works = plan
    actor = (
        Actor(label="user:x", organisation_id=own.id, role=Role.PLANNER)
        if kind == "planner"
        else Actor.for_token(1, own.id, TokenScope.READ)
    )
    seen = visible(session, actor, works)
    assert seen == {key for key in works if key[1] != "confidential" or key[0] == "own"}


def test_coordinators_see_everything(session, plan):
    own, _other, works = plan
    actor = Actor(label="user:c", organisation_id=own.id, role=Role.COORDINATOR)
    assert visible(session, actor, works) == set(works)


def test_one_work_follows_the_same_rule_as_the_list(session, plan):
    own, _other, works = plan
    actors = [
        Actor.public(),
        Actor(label="user:x", organisation_id=own.id, role=Role.PLANNER),
        Actor(label="user:c", organisation_id=own.id, role=Role.COORDINATOR),
    ]
    for actor in actors:
        listed = visible(session, actor, works)
        for key, work in works.items():
            try:
                get_visible_work(session, actor, work.id)
                shown = True
            except NotFound:
                shown = False
            assert shown == (key in listed), (actor.label, key)


def data() -> WorkData:
    from datetime import date

    from shapely import Point

    return WorkData(
        title="Kabel",
        discipline="electricity",
        phase="planned",
        geometry=Point(174000, 450000),
        start_date=date(2027, 1, 1),
        end_date=date(2027, 2, 1),
    )


def test_nobody_changes_another_organisations_works(session, plan):
    own, other, works = plan
    theirs = works["other", "partners", "planned"]
    planner = Actor(label="user:x", organisation_id=own.id, role=Role.PLANNER)
    coordinator = Actor(label="user:c", organisation_id=own.id, role=Role.COORDINATOR)
    for actor in (planner, coordinator, Actor.for_token(1, own.id, TokenScope.WRITE)):
        with pytest.raises(Forbidden):
            update_work(session, actor, theirs, data(), theirs.version)
        with pytest.raises(Forbidden):
            create_work(session, actor, other.id, data())
    assert create_work(session, planner, own.id, data()).organisation_id == own.id


def test_read_tokens_administrators_and_the_public_cannot_write(session, plan):
    own, _other, _works = plan
    with pytest.raises(Forbidden):
        create_work(session, Actor.for_token(1, own.id, TokenScope.READ), own.id, data())
    admin = Actor(label="user:a", organisation_id=own.id, role=Role.ADMINISTRATOR)
    with pytest.raises(Forbidden):
        create_work(session, admin, own.id, data())
    with pytest.raises(Unauthorized):
        create_work(session, Actor.public(), own.id, data())
