"""Clash rules, clashes and their history: what the overlap engine finds and keeps.

A **rule** is a row, so an administrator changes a distance or a window, or adds a rule for
some disciplines only, without a code change. A **clash** is one pair of works (or a work and
a dig ban) under one rule; its identity is that triple, so a recompute finds the same record
again and keeps its review. A clash that no longer holds is *resolved*, never deleted; when
it comes back it is *open* again. Every change of status is a :class:`ClashEvent`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, project_geometry
from ._types import created_at_column, text_enum, updated_at_column


def _meeting_geometry():
    # No spatial index: the engine writes clashes by the million, and a map asks for the
    # clashes of works it already found through the works' index.
    geom = project_geometry("GEOMETRY")
    geom.spatial_index = False
    return geom


class ClashKind(enum.StrEnum):
    CONFLICT = "conflict"
    OPPORTUNITY = "opportunity"
    VIOLATION = "violation"


class ExcavationMode(enum.StrEnum):
    """Which works of a pair must open the ground for a rule to apply."""

    ANY = "any"  # no condition
    EITHER = "either"  # at least one opens it
    BOTH = "both"  # both open it
    # Both open it, or one opens it and the other repaves (a road/pavement work).
    DIG_ONCE = "dig_once"


class ClashStatus(enum.StrEnum):
    OPEN = "open"
    COMBINE = "combine"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    # Set by the engine only: the works changed and the clash no longer holds.
    RESOLVED = "resolved"


REVIEW_STATUSES = (
    ClashStatus.OPEN,
    ClashStatus.COMBINE,
    ClashStatus.ACCEPTED,
    ClashStatus.DISMISSED,
)


class ClashEventAction(enum.StrEnum):
    REVIEWED = "reviewed"
    RESOLVED = "resolved"
    REOPENED = "reopened"


class ClashRule(Base):
    """When two works (or a work and a dig ban) clash.

    A pair meets a rule when its distance is at most ``max_distance_m`` (planar metres in the
    project CRS, the limit included) and its gap in days is at most ``max_gap_days`` (0: the
    periods must overlap, at least one day in common). Filters narrow it down: every work
    of the pair must have one of ``disciplines`` and one of ``phases`` (empty: any), at least
    one must have one of ``traffic_impacts`` (empty: any), and ``excavation`` says which must
    open the ground. A ``violation`` rule pairs works with dig bans instead of with works.
    """

    __tablename__ = "clash_rules"
    __table_args__ = (
        CheckConstraint("max_distance_m >= 0", name="distance_not_negative"),
        CheckConstraint("max_gap_days >= 0", name="gap_not_negative"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ClashKind] = mapped_column(text_enum(ClashKind, "clash_kind"))
    max_distance_m: Mapped[float] = mapped_column(Float)
    max_gap_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    excavation: Mapped[ExcavationMode] = mapped_column(
        text_enum(ExcavationMode, "excavation_mode"),
        default=ExcavationMode.ANY,
        server_default="any",
    )
    # Disciplines that repave the street (for the dig-once condition).
    repave_disciplines: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default=text("'{}'::varchar[]")
    )
    disciplines: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default=text("'{}'::varchar[]")
    )
    phases: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default=text("'{}'::varchar[]")
    )
    traffic_impacts: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), default=list, server_default=text("'{}'::varchar[]")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    def __repr__(self) -> str:
        return f"<ClashRule {self.code} {self.kind.value} {self.max_distance_m} m>"


class Clash(Base):
    """A pair of works (``work_a_id < work_b_id``), or a work and a dig ban, under a rule."""

    __tablename__ = "clashes"
    __table_args__ = (
        # The identity of a clash. Work first: the same index finds a work's clashes.
        UniqueConstraint(
            "work_a_id", "work_b_id", "dig_ban_id", "rule_id", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint(
            "(work_b_id IS NOT NULL AND dig_ban_id IS NULL AND work_a_id < work_b_id)"
            " OR (work_b_id IS NULL AND dig_ban_id IS NOT NULL)",
            name="one_partner",
        ),
        Index("ix_clashes_status_score", "status", "score"),
        # Only violations have a dig ban: the index leaves out the (many) pairs of works.
        Index(
            "ix_clashes_dig_ban_id",
            "dig_ban_id",
            postgresql_where=text("dig_ban_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # No foreign keys on the clash side: clashes are derived data, written by the million in
    # one statement, and per-row key checks would cost more than the rest of the write. Works
    # and dig bans are never deleted (soft delete; a ban ends), rules are deactivated, and a
    # recompute resolves whatever no longer holds.
    rule_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[ClashKind] = mapped_column(text_enum(ClashKind, "clash_kind"))
    work_a_id: Mapped[int] = mapped_column(BigInteger)
    work_b_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    dig_ban_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[ClashStatus] = mapped_column(
        text_enum(ClashStatus, "clash_status"), default=ClashStatus.OPEN, server_default="open"
    )
    # The measured facts, as of the last computation that found the clash.
    distance_m: Mapped[float] = mapped_column(Float)
    overlap_days: Mapped[int] = mapped_column(Integer)
    gap_days: Mapped[int] = mapped_column(Integer)
    shared_length_m: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    # Where they meet: their common part when they touch, else the shortest line between them.
    geom = mapped_column(_meeting_geometry(), nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A coordinator may decide that the partners involved see both works in full, so they
    # can talk about combining them, even where one side is otherwise hidden from them.
    disclosed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_found_at: Mapped[datetime] = created_at_column()
    # When the measured facts last changed (a recompute that finds them equal writes nothing).
    measured_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = updated_at_column()

    rule: Mapped[ClashRule] = relationship(
        lazy="joined",
        innerjoin=True,
        primaryjoin="foreign(Clash.rule_id) == ClashRule.id",
    )

    @property
    def is_violation(self) -> bool:
        return self.dig_ban_id is not None

    def __repr__(self) -> str:
        other = f"ban {self.dig_ban_id}" if self.is_violation else f"work {self.work_b_id}"
        return f"<Clash {self.id} {self.kind.value} work {self.work_a_id} × {other}>"


class ClashEvent(Base):
    """One step in a clash's life: reviewed, resolved by a change, or found again."""

    __tablename__ = "clash_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    clash_id: Mapped[int] = mapped_column(ForeignKey("clashes.id", ondelete="CASCADE"), index=True)
    action: Mapped[ClashEventAction] = mapped_column(
        text_enum(ClashEventAction, "clash_event_action")
    )
    status_from: Mapped[ClashStatus] = mapped_column(text_enum(ClashStatus, "status_from"))
    status_to: Mapped[ClashStatus] = mapped_column(text_enum(ClashStatus, "status_to"))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = created_at_column()
