"""Checking a draft work without saving it: the clashes it would have with what the viewer
may see. It costs nothing and leaves no trace, so it tells nothing of a hidden work."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import engine, policy
from ...actors import Actor
from ...engine.explain import Side, explain
from ...errors import ValidationError
from ...models import ClashRule, DigBan, Work
from ..works import WorkData, validate_work
from .sides import facts, label, seen


@dataclass(frozen=True)
class DraftClash:
    """A clash the draft would have, with a work or dig ban the viewer may see."""

    found: engine.Found
    rule: ClashRule
    other: Work | DigBan
    explanation: dict[str, str]
    distance_m: float
    meeting: BaseGeometry


def check_work(
    session: Session, actor: Actor, data: WorkData, *, work_id: int | None = None
) -> list[DraftClash]:
    """The clashes a work would have with ``data``, best first; nothing is saved.

    ``work_id`` names the work being edited (it does not clash with its old self). Any
    logged-in partner may check a draft, against the works and dig bans they may see: a
    draft leaves no trace, so what it meets of a hidden work is not told at all (after a
    save, the coordinator sees every clash and the organisation is told, see the module's
    docstring).
    """
    policy.require_login(actor)
    errors = validate_work(session, data)
    if errors:
        raise ValidationError("the work cannot be checked", errors=errors)
    draft = engine.Draft(
        geometry=data.geometry,
        start_date=data.start_date,
        end_date=data.end_date,
        discipline=data.discipline,
        phase=data.phase,
        excavation=data.excavation,
        traffic_impact=str(getattr(data.traffic_impact, "value", data.traffic_impact)),
        work_id=work_id or 0,
    )
    found = engine.check_draft(session, draft)
    rules = {r.id: r for r in session.execute(select(ClashRule)).scalars()}
    this = Side("this work", data.start_date, data.end_date)
    out = []
    for f in found:
        rule = rules[f.rule_id]
        other: Work | DigBan | None
        if f.dig_ban_id is not None:
            other = session.get(DigBan, f.dig_ban_id)
        else:
            other_id = f.work_b_id if f.work_a_id == draft.work_id else f.work_a_id
            other = seen(session, actor, session.get(Work, other_id))
        if other is None:
            continue
        side = Side(label(other), other.start_date, other.end_date)
        explanation = explain(facts(f, rule, f.distance_m), this, side)
        out.append(DraftClash(f, rule, other, explanation, f.distance_m, f.geometry))
    return out
