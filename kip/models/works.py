"""Works (*werken*): what an organisation plans in public space, where and when."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, project_geometry
from ..work_fields import GEOMETRY_TYPES, TAG_COUNT, TAG_LENGTH, TEXT_LENGTHS
from ._period import PeriodMixin, period_checks
from ._types import created_at_column, text_enum, updated_at_column
from .organisations import Organisation


class Precision(enum.StrEnum):
    """How exact the period is: long-term plans are known to the quarter or the year."""

    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class TrafficImpact(enum.StrEnum):
    NONE = "none"
    LANE = "lane"
    CLOSURE = "closure"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PARTNERS = "partners"
    CONFIDENTIAL = "confidential"


def geometry_checks() -> list[CheckConstraint]:
    """The geometry is one of :data:`kip.work_fields.GEOMETRY_TYPES`, not empty, valid."""
    types = ", ".join(f"'{t.upper()}'" for t in GEOMETRY_TYPES)
    return [
        CheckConstraint("NOT ST_IsEmpty(geom)", name="geom_not_empty"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint(f"GeometryType(geom) IN ({types})", name="geom_type"),
    ]


class Work(PeriodMixin, Base):
    """A planned work. What each field may hold is :mod:`kip.work_fields`; the column sizes
    and CHECK constraints below are the database's half of it."""

    __tablename__ = "works"
    __table_args__ = (
        UniqueConstraint("organisation_id", "external_ref"),
        CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        CheckConstraint(
            f"length(description) <= {TEXT_LENGTHS['description']}", name="description_length"
        ),
        CheckConstraint(f"cardinality(tags) <= {TAG_COUNT}", name="tags_count"),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
        CheckConstraint("version > 0", name="version_positive"),
        *period_checks(),
        *geometry_checks(),
        # One GiST index for both halves of the engine's question, near in space and near
        # in time; it serves searches by area alone (geometry leads) and by period alone
        # too, so works keep no separate geometry or period index (fewer to maintain on
        # every insert: see benchmarks/import_bench.py).
        Index("ix_works_geom_period", "geom", "period", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(String(TEXT_LENGTHS["title"]))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    discipline_code: Mapped[str] = mapped_column(
        ForeignKey("disciplines.code", onupdate="CASCADE"), index=True
    )
    phase_code: Mapped[str] = mapped_column(
        ForeignKey("phases.code", onupdate="CASCADE"), index=True
    )
    geom = mapped_column(project_geometry("GEOMETRY", spatial_index=False), nullable=False)
    precision: Mapped[Precision] = mapped_column(
        text_enum(Precision, "precision"), default=Precision.DAY, server_default="day"
    )
    excavation: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    traffic_impact: Mapped[TrafficImpact] = mapped_column(
        text_enum(TrafficImpact, "traffic_impact"),
        default=TrafficImpact.NONE,
        server_default="none",
    )
    visibility: Mapped[Visibility] = mapped_column(
        text_enum(Visibility, "visibility"),
        default=Visibility.PARTNERS,
        server_default="partners",
    )
    external_ref: Mapped[str | None] = mapped_column(String(TEXT_LENGTHS["external_ref"]))
    contact_name: Mapped[str | None] = mapped_column(String(TEXT_LENGTHS["contact_name"]))
    contact_email: Mapped[str | None] = mapped_column(String(TEXT_LENGTHS["contact_email"]))
    contact_phone: Mapped[str | None] = mapped_column(String(TEXT_LENGTHS["contact_phone"]))
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(TAG_LENGTH)), default=list, server_default=text("'{}'::varchar[]")
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    # Optimistic locking: every UPDATE says "WHERE version = <the one I read>".
    __mapper_args__: ClassVar[dict] = {"version_id_col": version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<Work {self.id} {self.title!r} v{self.version}>"


class WorkChangeAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"


class WorkChange(Base):
    """One entry of a work's history: who changed what, when, from which value to which."""

    __tablename__ = "work_changes"
    __table_args__ = (UniqueConstraint("work_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # Read by work in version order: the unique (work_id, version) index serves that, so
    # neither column has an index of its own (one less to keep on every bulk write).
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    # Kept on the history too: the natural key a distributed database shards by.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[WorkChangeAction] = mapped_column(
        text_enum(WorkChangeAction, "work_change_action")
    )
    # Who: a person, a token or a system process, as a stable label ("user:12",
    # "token:4", "system:demo").
    actor: Mapped[str] = mapped_column(String(200))
    # The person or token behind the change, when it was not KIP itself.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    changed_at: Mapped[datetime] = created_at_column()
    # {field: [old, new]}; geometry as WKT in the project CRS; dates as ISO strings.
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
