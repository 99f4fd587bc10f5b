"""The sides of a clash as a viewer is told them: whether they may see a work, how a work or
dig ban is named in an explanation, and the facts of a rule the explanation is made of."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...actors import Actor
from ...engine.explain import Facts
from ...models import ClashKind, ClashRule, DigBan, Work
from ..works import may_see


def seen(session: Session, actor: Actor, work: Work | None) -> Work | None:
    """The work when ``actor`` may see it by the policy."""
    return work if work is not None and may_see(session, actor, work) else None


def facts(clash_or_found, rule: ClashRule, distance: float) -> Facts:
    """The facts an explanation is made of: ``rule``'s limits and what was measured of a
    stored clash or of a draft's found pair (``distance`` given apart: how it is shown)."""
    return Facts(
        rule_name=rule.name,
        kind=str(getattr(clash_or_found.kind, "value", clash_or_found.kind)),
        max_distance_m=rule.max_distance_m,
        max_gap_days=rule.max_gap_days,
        distance_m=distance,
        overlap_days=clash_or_found.overlap_days,
        gap_days=clash_or_found.gap_days,
        shared_length_m=clash_or_found.shared_length_m,
    )


def label(thing: Work | DigBan) -> str:
    """How a work or dig ban is named in an explanation: "work 12 (Riool Dorpsstraat)"."""
    kind = "dig ban" if isinstance(thing, DigBan) else "work"
    return f"{kind} {thing.id} ({thing.title})"


def rule_only(rule: ClashRule, kind: ClashKind | str) -> Facts:
    """The facts of a rule, with nothing measured: what a redacted clash is told with."""
    return Facts(
        rule_name=rule.name,
        kind=str(getattr(kind, "value", kind)),
        max_distance_m=rule.max_distance_m,
        max_gap_days=rule.max_gap_days,
        distance_m=0.0,
        overlap_days=0,
        gap_days=0,
        shared_length_m=0.0,
    )
