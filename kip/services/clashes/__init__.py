"""Clashes: list, show, review; combination proposals; check a draft work without saving.

One module for each: :mod:`.reading` (the list, one clash, its history, and the redaction),
:mod:`.reviews` (a coordinator's review and disclosure), :mod:`.combinations`,
:mod:`.drafts` (a draft checked without saving), and :mod:`.sides` (how a side is told).
Callers use them through this package: ``from kip.services import clashes``.

What the API, the pages and the CLI call. Functions take the session and the actor, flush
and never commit, and raise :class:`KipError`.

**Who sees which clash** is decided in one place, :func:`kip.policy.clash_sight`. Clashes
are for partners: the public sees none (:class:`~kip.errors.Unauthorized`). Coordinators
and KIP itself see every clash whole. A partner sees whole the clashes whose two sides they
may see (:func:`kip.policy.visible_works`). Of a clash between their own organisation's work
and a work they may not see, they are told only that it exists: its rule, kind and status,
their own work and what would clear it on their side - no distance, days, score, times,
meeting place, notes or history, and nothing in the order of a list (such clashes come
last). Nobody else is told of it. Filters look at the visible sides only, and a box tests
the viewer's own work for such a clash, so neither counts nor boxes can probe a hidden
side.

A coordinator may decide otherwise (:func:`disclose_clash`): for a disclosed clash the
partners of the organisations involved see both works whole, so they can talk about
combining them. The public never does, and the disclosure is kept in the audit trail.

Combination proposals (:func:`list_combinations`) are worked out, for a partner, from the
works and opportunities they may see only; a draft (:func:`check_work`) costs nothing and
leaves no trace, so it is checked against what the viewer may see only - it can never be
moved around to find a confidential work. docs/security.md lists what is revealed and why.
"""

from __future__ import annotations

from .combinations import CombinationView, list_combinations
from .drafts import DraftClash, check_work
from .reading import (
    MAX_LIMIT,
    ClashFilters,
    ClashView,
    HistoryEntry,
    Measured,
    Page,
    clash_history,
    get_clash,
    list_clashes,
)
from .reviews import disclose_clash, review_clash

__all__ = [
    "MAX_LIMIT",
    "ClashFilters",
    "ClashView",
    "CombinationView",
    "DraftClash",
    "HistoryEntry",
    "Measured",
    "Page",
    "check_work",
    "clash_history",
    "disclose_clash",
    "get_clash",
    "list_clashes",
    "list_combinations",
    "review_clash",
]
