"""A coordinator's decisions on a clash: its review status and note, and whether the
partners involved see both works whole (disclosure). Both are kept (clash events, audit)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ... import policy
from ...actors import Actor
from ...audit import audit
from ...errors import Conflict, NotFound, ValidationError
from ...models import REVIEW_STATUSES, Clash, ClashEvent, ClashEventAction, ClashStatus
from ..works import MAX_ID
from .reading import parse_choice


def disclose_clash(session: Session, actor: Actor, clash_id: int, disclosed: bool) -> Clash:
    """A coordinator's decision that the partners involved see both works of this clash in
    full (or, with ``False``, no longer). Kept in the audit trail."""
    policy.require_coordinator(actor)
    clash = session.get(Clash, clash_id) if 0 < clash_id <= MAX_ID else None
    if clash is None:
        raise NotFound(f"no clash {clash_id}")
    if clash.disclosed != disclosed:
        clash.disclosed = disclosed
        session.flush()
        audit(session, actor, "clash.disclose", "clash", clash.id, disclosed=disclosed)
    return clash


def review_clash(
    session: Session,
    actor: Actor,
    clash_id: int,
    status: str,
    note: str = "",
    *,
    expected_status: str | None = None,
) -> Clash:
    """A coordinator's decision: open, combine, accepted or dismissed, with a note.

    ``expected_status`` (optional) is the status the reviewer saw: when the clash has
    moved on since (another review, or a recompute resolved it), the review is refused
    with a Conflict rather than overwriting a decision nobody saw.
    """
    policy.require_coordinator(actor)
    new = parse_choice(ClashStatus, status, "status")
    if new not in REVIEW_STATUSES:
        raise ValidationError(
            f"a review sets open, combine, accepted or dismissed, not {status!r}",
            errors={"status": "one of open, combine, accepted, dismissed"},
        )
    expected = parse_choice(ClashStatus, expected_status, "expected_status")
    clash = session.get(Clash, clash_id, with_for_update=True) if 0 < clash_id <= MAX_ID else None
    if clash is None:
        raise NotFound(f"no clash {clash_id}")
    if clash.status is ClashStatus.RESOLVED:
        raise Conflict(
            f"clash {clash_id} is resolved: its works no longer meet, there is nothing to review",
            current_status=clash.status.value,
        )
    if expected is not None and clash.status is not expected:
        raise Conflict(
            f"clash {clash_id} is {clash.status.value} now, not {expected.value}: "
            "read it again before you review it",
            current_status=clash.status.value,
        )
    old = clash.status
    clash.status = new
    clash.review_note = note.strip()
    clash.reviewed_by = actor.label
    clash.reviewed_at = datetime.now(UTC)
    session.add(
        ClashEvent(
            clash_id=clash.id,
            action=ClashEventAction.REVIEWED,
            status_from=old,
            status_to=new,
            note=clash.review_note,
            actor=actor.label,
        )
    )
    session.flush()
    return clash
