"""Combination proposals as a viewer may see them: worked out, for a partner, from the
works and opportunities they may see only (:func:`kip.engine.combinations.combinations`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ... import policy
from ...actors import Actor
from ...engine.combinations import Combination, combinations
from ...models import Work


@dataclass(frozen=True)
class CombinationView:
    """A combination proposal as one viewer may see it: made of works they may see."""

    combination: Combination
    works: list[Work]
    organisation_ids: list[int]
    clash_ids: list[int]
    no_window_reason: str | None


def list_combinations(
    session: Session,
    actor: Actor,
    settings: Mapping | None = None,
    *,
    organisation_id: int | None = None,
) -> list[CombinationView]:
    """The combination proposals ``actor`` may see, largest saving first.

    For a partner they are worked out from the works and opportunities they may see only,
    so that no window, length, saving or grouping depends on a work they may not see.
    Pass the app's config as ``settings`` for its unit figures. ``organisation_id`` keeps
    the proposals with a work of that organisation.
    """
    policy.require_login(actor)
    visible = None if policy.is_coordinator(actor) else policy.visible_works(actor)
    proposals = combinations(session, settings, visible=visible, organisation_id=organisation_id)
    return [
        CombinationView(p, p.works, p.organisation_ids, p.clash_ids, p.no_window_reason)
        for p in proposals
    ]
