"""Organisations: the municipality's departments and its partners."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Identity, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._types import created_at_column, text_enum


class OrganisationKind(enum.StrEnum):
    DEPARTMENT = "department"
    GRID_OPERATOR = "grid_operator"
    WATER = "water"
    TELECOM = "telecom"
    HOUSING = "housing_corporation"
    CONTRACTOR = "contractor"
    OTHER = "other"


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(text_enum(OrganisationKind, "organisation_kind"))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"
