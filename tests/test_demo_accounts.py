"""The demo's accounts: a newcomer can log in as coordinator, planner or administrator."""

from __future__ import annotations

from kip.actors import Actor
from kip.demo.accounts import DEMO_PASSWORD, demo_people, load_demo_accounts
from kip.demo.parties import ORGANISATIONS
from kip.models import Role
from kip.services import accounts


def test_demo_accounts_log_in_and_load_once(session, make_org):
    orgs = {o.key: make_org(o.name, kind=o.kind.value) for o in ORGANISATIONS}
    created, there = load_demo_accounts(session, Actor.system("demo"), orgs)
    assert (created, there) == (len(demo_people()), 0)
    assert load_demo_accounts(session, Actor.system("demo"), orgs) == (0, len(demo_people()))
    roles = {}
    for _key, _name, email, role in demo_people():
        user = accounts.authenticate(session, email, DEMO_PASSWORD)
        assert user is not None and user.role == role
        roles.setdefault(role, []).append(user)
    assert len(roles[Role.COORDINATOR]) == 1 and len(roles[Role.ADMINISTRATOR]) == 1
    assert len(roles[Role.PLANNER]) == len(ORGANISATIONS) - 1
