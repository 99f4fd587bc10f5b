"""Every clash explains itself: the rule that fired, the measured facts, what would clear it.

The facts are stored (distance, days of overlap or gap, shared length); the words are made
here, from those facts and the two works' dates, so a changed wording needs no recompute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Side:
    """What the explanation needs of one side of a clash (a work or a dig ban)."""

    label: str
    start_date: date
    end_date: date


@dataclass(frozen=True)
class Facts:
    rule_name: str
    kind: str
    max_distance_m: float
    max_gap_days: int
    distance_m: float
    overlap_days: int
    gap_days: int
    shared_length_m: float


def _metres(value: float) -> str:
    return f"{value:.0f} m" if value == int(value) else f"{value:.1f} m"


def facts_sentence(f: Facts) -> str:
    """The measured facts, in one sentence.

    >>> f = Facts("Dig once", "opportunity", 25, 730, 3.0, 0, 120, 80.0)
    >>> print(facts_sentence(f))  # doctest: +NORMALIZE_WHITESPACE
    Dig once (opportunity): 3 m apart (limit 25 m), 120 days between them (window 730), 80 m
    of street shared.
    """
    parts = [f"{_metres(f.distance_m)} apart (limit {_metres(f.max_distance_m)})"]
    if f.overlap_days:
        parts.append(f"{f.overlap_days} days at the same time")
    else:
        parts.append(f"{f.gap_days} days between them (window {f.max_gap_days})")
    if f.shared_length_m:
        parts.append(f"{_metres(f.shared_length_m)} of street shared")
    return f"{f.rule_name} ({f.kind}): " + ", ".join(parts) + "."


def clearing_sentence(f: Facts, a: Side, b: Side) -> str:
    """What change to ``a`` would make the clash go away (in time or in space).

    ``a`` clears it by starting more than the window after ``b`` ends, or by ending more than
    the window before ``b`` starts, or by keeping further away than the limit.

    >>> a = Side("work 1", date(2027, 3, 1), date(2027, 6, 30))
    >>> b = Side("work 2", date(2027, 4, 1), date(2027, 5, 2))
    >>> f = Facts("Simultaneous works", "conflict", 25, 0, 3.0, 32, 0, 0.0)
    >>> print(clearing_sentence(f, a, b))  # doctest: +NORMALIZE_WHITESPACE
    Cleared if work 1 starts after 2027-05-02 or ends before 2027-04-01, or keeps more than
    25 m away.
    """
    window = timedelta(days=f.max_gap_days)
    after = b.end_date + window
    before = b.start_date - window
    if f.kind == "violation":
        return (
            f"Cleared if {a.label} starts after {after.isoformat()} (when {b.label} ends), "
            f"or does not open the ground inside it."
        )
    return (
        f"Cleared if {a.label} starts after {after.isoformat()} or ends before "
        f"{before.isoformat()}, or keeps more than {_metres(f.max_distance_m)} away."
    )


def explain(f: Facts, a: Side, b: Side) -> dict[str, str]:
    """The explanation a page or the API shows: the facts and the way out."""
    return {"facts": facts_sentence(f), "clears_if": clearing_sentence(f, a, b)}


def clearing_sentence_one_sided(f: Facts, a: Side) -> str:
    """The way out told to someone who may see only ``a``: nothing of the other side.

    The other work's dates (which the dated advice of :func:`clearing_sentence` would give
    away) and its name stay out; the rule's own window and distance are not secret.

    >>> a = Side("work 1", date(2027, 3, 1), date(2027, 6, 30))
    >>> f = Facts("Simultaneous works", "conflict", 50, 0, 3.0, 32, 0, 0.0)
    >>> print(clearing_sentence_one_sided(f, a))  # doctest: +NORMALIZE_WHITESPACE
    Cleared if work 1 no longer runs at the same time as the other work, or keeps more
    than 50 m away; the other work is not shown to you (the coordinator can tell you more).
    """
    if f.max_gap_days:
        when = f"is more than {f.max_gap_days} days apart from the other work"
    else:
        when = "no longer runs at the same time as the other work"
    return (
        f"Cleared if {a.label} {when}, or keeps more than {_metres(f.max_distance_m)} away; "
        "the other work is not shown to you (the coordinator can tell you more)."
    )


def condition_sentence(f: Facts) -> str:
    """The rule's condition, met by a work the viewer may not see: nothing measured.

    >>> f = Facts("Dig once", "opportunity", 25, 730, 3.0, 0, 120, 80.0)
    >>> print(condition_sentence(f))  # doctest: +NORMALIZE_WHITESPACE
    Dig once (opportunity): a work you may not see lies within 25 m, less than 730 days
    apart in time.
    """
    if f.max_gap_days:
        when = f"less than {f.max_gap_days} days apart in time"
    else:
        when = "at the same time"
    return (
        f"{f.rule_name} ({f.kind}): a work you may not see lies within "
        f"{_metres(f.max_distance_m)}, {when}."
    )


def explain_one_sided(f: Facts, a: Side) -> dict[str, str]:
    """The explanation for a viewer who may not see the other side of the clash: the
    rule's own condition and limits (not secret), nothing that was measured."""
    return {"facts": condition_sentence(f), "clears_if": clearing_sentence_one_sided(f, a)}
