"""Works: create, change and (softly) delete them, keeping every change in the history.

These functions write one work at a time; the API, the work form and the demo loader all
come through here. Each write is checked against the one description of a work's fields
(:mod:`kip.work_fields`), the range of dates (:mod:`kip.dates`) and
:func:`kip.geo.check_geometry`, and recorded in the history. They flush and never commit.

One other path writes works: the bulk import of a file writes its many works set-based
(:func:`kip.services.import_staging.insert_new`, ``apply_staged`` and ``cancel_works``),
since a call of :func:`create_work` per row (its statements and its clash computation
each) would make a large file many times slower (benchmarks/import_bench.py). Its rows
are checked against the same rules first (:mod:`kip.io.rows`, :mod:`kip.io.geometry`),
and it records its history in the same form as these functions (a creation without its
values, a change as {field: [old, new]}); the database's CHECK constraints hold both
paths to the same rules. Migrations that repair stored rows (0008, 0010) write works too,
each with a history entry and an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import dates, geo, policy, work_fields
from ..actors import Actor
from ..db import bound_srid
from ..engine import on_work_saved
from ..errors import NotFound, StaleVersion, ValidationError
from ..models import (
    Discipline,
    Phase,
    Precision,
    TrafficImpact,
    Visibility,
    Work,
    WorkChange,
    WorkChangeAction,
)


@dataclass
class WorkData:
    """The fields of a work as a planner gives them (geometry in the project CRS)."""

    title: str
    discipline: str
    phase: str
    geometry: BaseGeometry
    start_date: date
    end_date: date
    description: str = ""
    precision: Precision = Precision.DAY
    excavation: bool = False
    traffic_impact: TrafficImpact = TrafficImpact.NONE
    visibility: Visibility = Visibility.PARTNERS
    external_ref: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    budget: Decimal | None = None
    tags: list[str] = field(default_factory=list)


# WorkData field -> Work attribute, where the names differ.
_ATTRIBUTE = {"discipline": "discipline_code", "phase": "phase_code", "geometry": "geom"}


_ENUMS = {"precision": Precision, "traffic_impact": TrafficImpact, "visibility": Visibility}


def validate_work(session: Session, data: WorkData) -> dict[str, str]:
    """Per field, why ``data`` cannot be stored: the rules of :mod:`kip.work_fields` and
    :mod:`kip.dates`, the reference lists, and :func:`kip.geo.check_geometry`."""
    errors: dict[str, str] = {}
    for name, enum_cls in _ENUMS.items():
        try:
            setattr(data, name, enum_cls(getattr(data, name)))
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            errors[name] = f"{getattr(data, name)!r} is not one of {allowed}"
    for name in work_fields.TEXT_LENGTHS:
        problem = work_fields.too_long(name, getattr(data, name))
        if problem:
            errors[name] = problem
    if not data.title or not data.title.strip():
        errors["title"] = "a work needs a title"
    if session.get(Discipline, data.discipline) is None:
        errors["discipline"] = f"unknown discipline {data.discipline!r}"
    if session.get(Phase, data.phase) is None:
        errors["phase"] = f"unknown phase {data.phase!r}"
    if data.end_date < data.start_date:
        errors["end_date"] = (
            f"the end ({data.end_date.isoformat()}) is before the start "
            f"({data.start_date.isoformat()})"
        )
    days = dates.allowed(session)
    errors.update(days.problems(start_date=data.start_date, end_date=data.end_date))
    try:
        data.geometry = geo.check_geometry(data.geometry)
    except geo.GeometryProblem as problem:
        errors["geometry"] = str(problem)
    for name, problem in (
        ("budget", work_fields.budget_problem(data.budget)),
        ("tags", work_fields.tag_problem(data.tags)),
    ):
        if problem:
            errors[name] = problem
    return errors


def _values(data: WorkData) -> dict[str, Any]:
    values = {}
    for f in fields(data):
        value = getattr(data, f.name)
        if f.name == "geometry":
            value = geo.to_db(value, bound_srid())
        elif f.name == "title":
            value = value.strip()
        values[_ATTRIBUTE.get(f.name, f.name)] = value
    return values


def history_value(value: Any) -> Any:
    """A value as it goes into the history (JSON)."""
    if isinstance(value, Enum):  # before str: a StrEnum is one
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [history_value(v) for v in value]
    if hasattr(value, "desc") or isinstance(value, BaseGeometry):  # geometries
        shape = value if isinstance(value, BaseGeometry) else geo.from_db(value)
        return shape.wkt
    return str(value)


def _record(
    session: Session, actor: Actor, work: Work, action: WorkChangeAction, changes: dict
) -> None:
    session.add(
        WorkChange(
            work_id=work.id,
            organisation_id=work.organisation_id,
            version=work.version,
            action=action,
            actor=actor.label,
            actor_user_id=actor.user_id,
            actor_token_id=actor.token_id,
            changes=changes,
        )
    )


def create_work(session: Session, actor: Actor, organisation_id: int, data: WorkData) -> Work:
    policy.require_edit_rights(actor, organisation_id)
    errors = validate_work(session, data)
    if errors:
        raise ValidationError("the work cannot be saved", errors=errors)
    values = _values(data)
    work = Work(organisation_id=organisation_id, **values)
    session.add(work)
    session.flush()
    # The values a work was created with are not written twice: see history().
    _record(session, actor, work, WorkChangeAction.CREATE, {})
    session.flush()
    on_work_saved(session, actor.label, work)
    return work


MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints


def get_work(session: Session, work_id: int, *, include_deleted: bool = False) -> Work:
    work = session.get(Work, work_id) if 0 < work_id <= MAX_ID else None
    if work is None or (work.is_deleted and not include_deleted):
        raise NotFound(f"no work {work_id}")
    return work


def update_work(
    session: Session, actor: Actor, work: Work, data: WorkData, expected_version: int
) -> Work:
    """Replace a work's fields with ``data``, if nobody changed it since ``expected_version``.

    Only what really changed is written and recorded; an update that changes nothing
    leaves the work, its version and its history untouched.
    """
    policy.require_edit_rights(actor, work.organisation_id)
    if work.version != expected_version:
        raise StaleVersion(
            f"work {work.id} is at version {work.version}, not {expected_version}: "
            "somebody changed it; reload and apply your change again",
            current_version=work.version,
        )
    errors = validate_work(session, data)
    if errors:
        raise ValidationError("the work cannot be saved", errors=errors)
    changes: dict[str, list] = {}
    for attribute, new in _values(data).items():
        old = getattr(work, attribute)
        if _same(old, new):
            continue
        changes[attribute] = [history_value(old), history_value(new)]
        setattr(work, attribute, new)
    if not changes:
        return work
    _flush_versioned(session, work)
    _record(session, actor, work, WorkChangeAction.UPDATE, changes)
    session.flush()
    on_work_saved(session, actor.label, work)
    return work


def delete_work(session: Session, actor: Actor, work: Work, expected_version: int) -> Work:
    """Soft-delete: the work leaves every list, map and clash but keeps its history."""
    policy.require_edit_rights(actor, work.organisation_id)
    if work.version != expected_version:
        raise StaleVersion(
            f"work {work.id} is at version {work.version}, not {expected_version}",
            current_version=work.version,
        )
    work.deleted_at = datetime.now(UTC)
    _flush_versioned(session, work)
    _record(session, actor, work, WorkChangeAction.DELETE, {})
    session.flush()
    on_work_saved(session, actor.label, work)
    return work


def _flush_versioned(session: Session, work: Work) -> None:
    """Flush a change to ``work``; raise StaleVersion when another transaction got there first.

    The id is read before the flush: a failed flush rolls the session back, after which the
    work's attributes can no longer be loaded.
    """
    work_id = work.id
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion(
            f"work {work_id} was changed by somebody else meanwhile; reload and try again"
        ) from None


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a work as the history shows it: ``changes`` is {field: [old, new]}."""

    version: int
    action: WorkChangeAction
    actor: str
    organisation_id: int
    changed_at: datetime
    changes: dict[str, list[Any]]


def history(session: Session, work: Work) -> list[HistoryEntry]:
    """The changes of a work, oldest first; the creation with every value it was given.

    A creation is stored without its values (``{}``): they are the work's values now with
    every later change undone, newest first, since each change keeps the value it replaced.
    Each fact is stored once - a bulk import of 100,000 works would otherwise write every
    value, geometry included, a second time. (Creations recorded with their values, as
    before, are shown as they were recorded.)
    """
    stored = session.execute(
        select(WorkChange).where(WorkChange.work_id == work.id).order_by(WorkChange.version)
    ).scalars()
    entries = [
        HistoryEntry(
            c.version, c.action, c.actor, c.organisation_id, c.changed_at, dict(c.changes or {})
        )
        for c in stored
    ]
    for i, entry in enumerate(entries):
        if entry.action == WorkChangeAction.CREATE and not entry.changes:
            entries[i] = replace(entry, changes=_created_with(work, entries[i + 1 :]))
    return entries


def _created_with(work: Work, later: list[HistoryEntry]) -> dict[str, list[Any]]:
    """The values ``work`` was created with, as ``create_work`` would have recorded them:
    its values now, each change in ``later`` undone from the newest back."""
    values = {
        attribute: history_value(getattr(work, attribute))
        for attribute in (_ATTRIBUTE.get(f.name, f.name) for f in fields(WorkData))
    }
    for entry in reversed(later):
        for name, (old, _new) in entry.changes.items():
            if name in values:  # not deleted_at, say: no value a work is created with
                values[name] = old
    return {name: [None, value] for name, value in values.items() if value not in (None, "", [])}


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, geo.WKBElement) or hasattr(old, "desc"):
        if old is None or new is None:
            return old is new
        a = old if isinstance(old, BaseGeometry) else geo.from_db(old)
        b = new if isinstance(new, BaseGeometry) else geo.from_db(new)
        return a.equals_exact(b, 1e-6) and a.geom_type == b.geom_type
    return old == new


def may_see(session: Session, actor: Actor, work: Work) -> bool:
    """Whether ``actor`` may see this loaded work (:func:`kip.policy.can_see_work`, told
    whether the work's phase is firm)."""
    phase = session.get(Phase, work.phase_code)
    return policy.can_see_work(actor, work, firm_phase=phase is not None and phase.shown_to_public)


def get_visible_work(session: Session, actor: Actor, work_id: int) -> Work:
    """The work, if ``actor`` may see it; else NotFound (never revealing that it exists)."""
    work = session.get(Work, work_id) if 0 < work_id <= MAX_ID else None
    if work is None or not may_see(session, actor, work):
        raise NotFound(f"no work {work_id}")
    return work


def restore_work(session: Session, actor: Actor, work: Work) -> Work:
    """Undo a soft delete (coordinators only); the history records it."""
    policy.require_coordinator(actor)
    if work.deleted_at is None:
        return work
    work.deleted_at = None
    _flush_versioned(session, work)
    _record(session, actor, work, WorkChangeAction.RESTORE, {})
    session.flush()
    on_work_saved(session, actor.label, work)
    return work


def geometry_geojson(session: Session, work_id: int) -> str:
    """The stored geometry of a work as GeoJSON in EPSG:4326 (7 decimals, about 1 cm)."""
    return session.execute(
        select(func.ST_AsGeoJSON(func.ST_Transform(Work.geom, 4326), 7)).where(Work.id == work_id)
    ).scalar_one()


def data_of(work: Work) -> WorkData:
    """The work's current fields as :class:`WorkData`, to change some and save."""
    values = {}
    for f in fields(WorkData):
        value = getattr(work, _ATTRIBUTE.get(f.name, f.name))
        if f.name == "geometry":
            value = geo.from_db(value)
        elif f.name == "tags":
            value = list(value or [])
        values[f.name] = value
    return WorkData(**values)
