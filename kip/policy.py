"""Who may see and change what. Pure decisions over an :class:`~kip.actors.Actor`.

- The public sees works that are public and firm (planned or later, not cancelled).
- Every logged-in person and every token also sees *partners* works, in any phase.
- *Confidential* works are seen by their own organisation and by coordinators.
- A planner or coordinator changes the works of their own organisation, and a write token
  those of its organisation; nobody changes another organisation's works.
- Coordinators review clashes, manage dig bans and rules, and restore deleted works.
- Of a work they may not see, a viewer learns nothing - not through what is computed from
  it either (counts, windows, savings, distances, times, derived names) - with one
  deliberate exception, :func:`clash_sight`: an organisation is told that its own work meets
  a work it may not see, under which rule, and whether that is still so. docs/security.md
  lists what is revealed and why.
- Administrators manage organisations, users, tokens and reference lists.
KIP's own commands (``Actor.system``) may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, not_, or_, select, true

from .actors import Actor
from .errors import Forbidden, Unauthorized
from .models import Clash, Phase, Role, TokenScope, Visibility, Work


def is_coordinator(actor: Actor) -> bool:
    return actor.is_system or actor.role == Role.COORDINATOR


def is_administrator(actor: Actor) -> bool:
    return actor.is_system or actor.role == Role.ADMINISTRATOR


def is_partner(actor: Actor) -> bool:
    """Logged in (a person or a token) or KIP itself: sees partners' works."""
    return not actor.is_public


def visible_works(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Work` for what ``actor`` may see (deleted works excluded)."""
    live = Work.deleted_at.is_(None)
    if is_coordinator(actor):
        return live
    if actor.is_public:
        firm = Work.phase_code.in_(select(Phase.code).where(Phase.shown_to_public))
        return and_(live, Work.visibility == Visibility.PUBLIC, firm)
    own = (
        Work.organisation_id == actor.organisation_id
        if actor.organisation_id is not None
        else false()
    )
    return and_(live, or_(Work.visibility != Visibility.CONFIDENTIAL, own))


def can_see_work(actor: Actor, work: Work, *, firm_phase: bool) -> bool:
    """The same rule as :func:`visible_works`, for one loaded work.

    ``firm_phase`` is the work's phase's :attr:`~kip.models.Phase.shown_to_public` (the
    caller knows the phase row; this module does no queries).
    """
    if work.deleted_at is not None:
        return is_coordinator(actor)
    if is_coordinator(actor):
        return True
    if actor.is_public:
        return work.visibility == Visibility.PUBLIC and firm_phase
    return work.visibility != Visibility.CONFIDENTIAL or work.organisation_id == (
        actor.organisation_id
    )


@dataclass(frozen=True)
class ClashSight:
    """How much of a clash an actor sees, as WHERE clauses on :class:`Clash`.

    - ``whole``: both sides and every measured fact. Coordinators see every clash whole;
      a partner sees whole the clashes whose two sides they may see (a dig ban is seen by
      every partner), and those a coordinator disclosed when their own organisation has a
      work in them.
    - ``redacted``: the clash exists, with its rule, kind and status, and nothing else - no
      other side, no distance, days, score, times, meeting place, notes or history. Only
      the organisation whose own work is the side it may see is told: it must know its
      work is not clear to go ahead, and it can only learn this by saving works, which
      leaves a trace; any other partner is told nothing.
    - ``any``: one of the two.
    The public sees no clashes at all (the services ask for a login first).
    """

    whole: ColumnElement[bool]
    redacted: ColumnElement[bool]

    @property
    def any(self) -> ColumnElement[bool]:
        return or_(self.whole, self.redacted)


def clash_sight(actor: Actor) -> ClashSight:
    """What ``actor`` may see of each clash (see :class:`ClashSight`)."""
    if is_coordinator(actor):
        return ClashSight(whole=true(), redacted=false())
    if actor.is_public:
        return ClashSight(whole=false(), redacted=false())
    visible = select(Work.id).where(visible_works(actor))
    a_seen = Clash.work_a_id.in_(visible)
    b_seen = or_(Clash.dig_ban_id.is_not(None), Clash.work_b_id.in_(visible))
    if actor.organisation_id is None:
        return ClashSight(whole=and_(a_seen, b_seen), redacted=false())
    own = select(Work.id).where(
        Work.organisation_id == actor.organisation_id, Work.deleted_at.is_(None)
    )
    involved = or_(Clash.work_a_id.in_(own), Clash.work_b_id.in_(own))
    whole = or_(and_(a_seen, b_seen), and_(Clash.disclosed, involved))
    return ClashSight(whole=whole, redacted=and_(not_(whole), involved))


def can_write(actor: Actor) -> bool:
    """May create and change works at all (of their own organisation)."""
    if actor.is_system:
        return True
    if actor.token_id is not None:
        return actor.scope == TokenScope.WRITE
    return actor.role in (Role.PLANNER, Role.COORDINATOR)


def can_see_health_details(actor: Actor) -> bool:
    """What is wrong with KIP's database (``/healthz``) is for coordinators and
    administrators; everyone else learns only whether KIP is up."""
    return is_coordinator(actor) or is_administrator(actor)


def require_login(actor: Actor) -> None:
    if actor.is_public:
        raise Unauthorized("log in (or send an API token) to do this")


def require_edit_rights(actor: Actor, organisation_id: int) -> None:
    """Raise unless ``actor`` may write works of ``organisation_id``."""
    require_login(actor)
    if actor.is_system:
        return
    if not can_write(actor):
        raise Forbidden("this account or token may read, not write")
    if actor.organisation_id != organisation_id:
        raise Forbidden("you may only change the works of your own organisation")


def require_coordinator(actor: Actor) -> None:
    require_login(actor)
    if not is_coordinator(actor):
        raise Forbidden("only a coordinator may do this")


def require_administrator(actor: Actor) -> None:
    require_login(actor)
    if not is_administrator(actor):
        raise Forbidden("only an administrator may do this")


__all__ = [
    "ClashSight",
    "can_see_health_details",
    "can_see_work",
    "can_write",
    "clash_sight",
    "is_administrator",
    "is_coordinator",
    "is_partner",
    "require_administrator",
    "require_coordinator",
    "require_edit_rights",
    "require_login",
    "visible_works",
]
