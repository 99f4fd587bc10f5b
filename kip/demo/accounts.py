"""Demo accounts, so a newcomer can log in to the demo town at once.

Every demo organisation's first planner gets a planner account; the municipality's
neighbourhood manager is the coordinator, and there is an administrator. They all share
:data:`DEMO_PASSWORD`, which is printed by ``kip demo load`` — a demo, not a deployment.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..models import Organisation, Role, User
from ..services.accounts import create_user
from .parties import ORGANISATIONS

DEMO_PASSWORD = "kip-demo-2026"
COORDINATOR_ORGANISATION = "wijk"


def demo_people() -> list[tuple[str, str, str, Role]]:
    """(organisation key, name, e-mail, role) of every demo account, in a fixed order."""
    people = []
    for org in ORGANISATIONS:
        name, email = org.planners[0]
        role = Role.COORDINATOR if org.key == COORDINATOR_ORGANISATION else Role.PLANNER
        people.append((org.key, name, email, role))
    people.append(("wijk", "Beheerder KIP", "beheer@gemeente-ede.example", Role.ADMINISTRATOR))
    return people


def load_demo_accounts(
    session: Session, actor: Actor, organisations: dict[str, Organisation]
) -> tuple[int, int]:
    """Create the demo accounts that are missing; return (created, already there).

    An account that exists keeps its password: a reload never undoes a change."""
    wanted = demo_people()
    existing = set(
        session.execute(select(User.email).where(User.email.in_([p[2] for p in wanted])))
        .scalars()
        .all()
    )
    created = 0
    for key, name, email, role in wanted:
        if email in existing:
            continue
        create_user(
            session,
            actor,
            email=email,
            name=name,
            organisation=organisations[key],
            role=role,
            password=DEMO_PASSWORD,
        )
        created += 1
    return created, len(wanted) - created
