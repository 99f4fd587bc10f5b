"""Every write leaves a trace in the audit trail: who, for which organisation, what."""

from __future__ import annotations

from datetime import date

from shapely import box
from sqlalchemy import select

from kip.actors import Actor
from kip.models import AuditEvent, Role
from kip.services.digbans import DigBanData, create_dig_ban, end_dig_ban


def trail(session) -> list[tuple[str, str, int | None]]:
    return [
        (e.action, e.actor, e.organisation_id)
        for e in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    ]


def test_organisations_and_dig_bans_are_audited(session, make_org):
    roads = make_org("Gemeente Ede – Wegen")
    coordinator = Actor(label="user:9", organisation_id=roads.id, role=Role.COORDINATOR)
    ban = create_dig_ban(
        session,
        coordinator,
        DigBanData(
            organisation_id=roads.id,
            title="Nieuw asfalt Stationsweg",
            start_date=date(2027, 1, 1),
            end_date=date(2029, 12, 31),
            area=box(174000, 450000, 174100, 450020),
        ),
    )
    end_dig_ban(session, coordinator, ban.id, ban.version, on=date(2028, 6, 30))
    session.flush()
    assert trail(session) == [
        ("organisation.create", "system:test", None),
        ("dig_ban.create", "user:9", roads.id),
        ("dig_ban.end", "user:9", roads.id),
    ]
