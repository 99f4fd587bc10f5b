"""Loading the demo plan into the database, idempotently.

Every row of the demo has a natural key: organisations their name, streets
(``source``, ``source_ref``), works and dig bans (organisation, ``external_ref``). Loading
looks up what is already there in one query per table, creates what is missing and brings
the rest back to the plan. Works go through the works service, so their history is written,
and dig bans through the dig-ban service, so their checks and audit trail are the ones a
coordinator's are; a row that already matches the plan is left alone, and gets no new
history entry. The loader flushes and never commits: the caller's unit of work decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import geo
from ..actors import Actor
from ..db import bound_srid
from ..errors import ValidationError
from ..models import DigBan, Discipline, Organisation, Phase, Role, Street, Work
from ..services.digbans import DigBanData, create_dig_ban, update_dig_ban
from ..services.organisations import add_organisation
from ..services.works import create_work, update_work
from .accounts import DEMO_PASSWORD, demo_people, load_demo_accounts
from .bans import BAN_ORGANISATION
from .plan import DemoPlan, build_plan
from .town import SOURCE_SRID

STREET_SOURCE = "demo"


@dataclass
class Tally:
    """How many rows of one table a load created, updated or found as they should be."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def found(self, changed: bool) -> None:
        """Count a row that was already there: updated when it had to change."""
        if changed:
            self.updated += 1
        else:
            self.unchanged += 1


@dataclass
class DemoReport:
    """What :func:`load_demo` did, table by table."""

    fingerprint: str
    organisations: Tally = field(default_factory=Tally)
    streets: Tally = field(default_factory=Tally)
    works: Tally = field(default_factory=Tally)
    dig_bans: Tally = field(default_factory=Tally)
    accounts: Tally = field(default_factory=Tally)

    @property
    def changed(self) -> bool:
        """Whether the load created or updated anything at all."""
        return any(t.created or t.updated for t in self._tallies().values())

    def _tallies(self) -> dict[str, Tally]:
        return {
            "organisations": self.organisations,
            "streets": self.streets,
            "works": self.works,
            "dig bans": self.dig_bans,
            "accounts": self.accounts,
        }

    def summary(self) -> str:
        """A few lines for an operator: per table, what was created, updated or unchanged."""
        lines = [f"Demo town around Ede (content {self.fingerprint}):"]
        for label, t in self._tallies().items():
            lines.append(
                f"  {label:<14}{t.created:>5} created, {t.updated:>4} updated, "
                f"{t.unchanged:>5} unchanged"
            )
        if not self.changed:
            lines.append("The demo town was already loaded: nothing changed.")
        login = {role: email for _key, _name, email, role in reversed(demo_people())}
        lines.append(
            f"Log in as {login[Role.COORDINATOR]} (coordinator), {login[Role.PLANNER]} "
            f"(planner) or {login[Role.ADMINISTRATOR]} (administrator), "
            f"password {DEMO_PASSWORD}"
        )
        return "\n".join(lines)


def load_demo(session: Session, actor: Actor) -> DemoReport:
    """Fill the database with the demo town, or bring an earlier load back to the plan.

    Loading twice duplicates nothing and changes nothing; the second report says that
    everything was unchanged. Geometries are reprojected from RD New to the project CRS.
    """
    plan = build_plan()
    srid = bound_srid()
    report = DemoReport(fingerprint=plan.fingerprint())
    organisations = _load_organisations(session, actor, plan, report.organisations)
    _load_streets(session, plan, srid, report.streets)
    works = _load_works(session, actor, plan, organisations, srid, report.works)
    # After the works: each ban the load writes finds the works that dig in it at once.
    _load_dig_bans(
        session, actor, plan, organisations[BAN_ORGANISATION], works, srid, report.dig_bans
    )
    created, there = load_demo_accounts(session, actor, organisations)
    report.accounts.created += created
    report.accounts.unchanged += there
    session.flush()
    return report


def _shape(geometry: BaseGeometry, srid: int) -> BaseGeometry:
    return geo.check_geometry(geo.reproject(geometry, SOURCE_SRID, srid))


def _same_shape(stored: Any, shape: BaseGeometry) -> bool:
    current = geo.from_db(stored)
    return current.geom_type == shape.geom_type and current.equals_exact(shape, 1e-6)


def _bring_back(row: Any, values: dict[str, Any], shape: BaseGeometry, srid: int) -> bool:
    """Give a street the plan's values and shape; say whether anything changed."""
    changed = _assign(row, values)
    if not _same_shape(row.geom, shape):
        row.geom = geo.to_db(shape, srid)
        changed = True
    return changed


def _load_organisations(
    session: Session, actor: Actor, plan: DemoPlan, tally: Tally
) -> dict[str, Organisation]:
    wanted = [o.name.lower() for o in plan.organisations]
    existing = {
        o.name.lower(): o
        for o in session.execute(
            select(Organisation).where(func.lower(Organisation.name).in_(wanted))
        ).scalars()
    }
    result = {}
    for spec in plan.organisations:
        org = existing.get(spec.name.lower())
        if org is None:
            org = add_organisation(
                session,
                actor,
                spec.name,
                spec.kind,
                contact_name=spec.contact_name,
                contact_email=spec.contact_email,
            )
            tally.created += 1
        else:
            values = {
                "kind": spec.kind,
                "contact_name": spec.contact_name,
                "contact_email": spec.contact_email,
            }
            tally.found(_assign(org, values))
        result[spec.key] = org
    return result


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; say whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _load_streets(session: Session, plan: DemoPlan, srid: int, tally: Tally) -> None:
    existing = {
        s.source_ref: s
        for s in session.execute(select(Street).where(Street.source == STREET_SOURCE)).scalars()
    }
    new = []
    for spec in plan.town.streets:
        shape = _shape(spec.geom, srid)
        street = existing.get(spec.ref)
        if street is None:
            new.append(
                Street(
                    name=spec.name,
                    source=STREET_SOURCE,
                    source_ref=spec.ref,
                    geom=geo.to_db(shape, srid),
                )
            )
            tally.created += 1
        else:
            tally.found(_bring_back(street, {"name": spec.name}, shape, srid))
    session.add_all(new)
    session.flush()


def _load_works(
    session: Session,
    actor: Actor,
    plan: DemoPlan,
    organisations: dict[str, Organisation],
    srid: int,
    tally: Tally,
) -> dict[str, Work]:
    # The works service looks each work's discipline and phase up with session.get(); holding
    # them here keeps them in the session's (weakly referencing) identity map, so those
    # look-ups cost no query.
    _held = [
        *session.execute(select(Discipline)).scalars(),
        *session.execute(select(Phase)).scalars(),
    ]
    ids = {org.id for org in organisations.values()}
    existing = {
        (w.organisation_id, w.external_ref): w
        for w in session.execute(
            select(Work).where(
                Work.organisation_id.in_(ids),
                Work.external_ref.in_([w.ref for w in plan.works]),
            )
        ).scalars()
    }
    result = {}
    for spec in plan.works:
        organisation_id = organisations[spec.organisation].id
        data = spec.work_data(srid)
        work = existing.get((organisation_id, spec.ref))
        try:
            if work is None:
                work = create_work(session, actor, organisation_id, data)
                tally.created += 1
            else:
                version = work.version
                update_work(session, actor, work, data, expected_version=version)
                tally.found(work.version != version)
        except ValidationError as error:
            message = f"demo work {spec.ref}: {error.message}"
            raise ValidationError(message, **error.details) from None
        result[spec.ref] = work
    return result


def _load_dig_bans(
    session: Session,
    actor: Actor,
    plan: DemoPlan,
    organisation: Organisation,
    works: dict[str, Work],
    srid: int,
    tally: Tally,
) -> None:
    """Create the plan's missing bans and bring the others back to the plan, through the
    dig-ban service: its checks, its audit trail, and each written ban's violations."""
    existing = {
        b.external_ref: b
        for b in session.execute(
            select(DigBan).where(
                DigBan.organisation_id == organisation.id,
                DigBan.external_ref.in_([b.ref for b in plan.dig_bans]),
            )
        ).scalars()
    }
    for spec in plan.dig_bans:
        source = works.get(spec.source_work_ref) if spec.source_work_ref else None
        data = DigBanData(
            organisation_id=organisation.id,
            title=spec.title,
            reason=spec.reason,
            start_date=spec.start_date,
            end_date=spec.end_date,
            area=geo.reproject(spec.geometry, SOURCE_SRID, srid),
        )
        try:
            ban = existing.get(spec.ref)
            if ban is None:
                source_id = source.id if source is not None else None
                create_dig_ban(
                    session, actor, data, source_work_id=source_id, external_ref=spec.ref
                )
                tally.created += 1
            else:
                tally.found(_bring_ban_back(session, actor, ban, data))
        except ValidationError as error:
            message = f"demo dig ban {spec.ref}: {error.message}"
            raise ValidationError(message, **error.details) from None


def _bring_ban_back(session: Session, actor: Actor, ban: DigBan, data: DigBanData) -> bool:
    """Change a stored ban back to the plan's ``data`` when it differs; say whether it did."""
    moved = not _same_shape(ban.geom, data.geometry())
    words = (data.title, data.reason, data.start_date, data.end_date)
    if not moved and (ban.title, ban.reason, ban.start_date, ban.end_date) == words:
        return False
    update_dig_ban(
        session,
        actor,
        ban.id,
        ban.version,
        title=data.title,
        reason=data.reason,
        start_date=data.start_date,
        end_date=data.end_date,
        area=data.geometry() if moved else None,
    )
    return True
