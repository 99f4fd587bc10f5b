"""Reference lists a deployment can extend: disciplines and phases.

They are rows, not enums, so an administrator can add a discipline (say, "hydrogen") or a
local phase without a code change. The defaults are seeded by the first migration (``0001``).
"""

from __future__ import annotations

from sqlalchemy import Boolean, ColumnElement, Integer, String, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..work_fields import CODE_LENGTH


class Discipline(Base):
    __tablename__ = "disciplines"

    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    # A map colour, so every page draws a discipline the same way.
    colour: Mapped[str] = mapped_column(String(7), default="#777777")
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_nl


class Phase(Base):
    __tablename__ = "phases"

    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    # Cancelled and completed works take no part in the overlap engine.
    takes_part: Mapped[bool] = mapped_column(Boolean, default=True)
    # Planned or later: firm enough to show to residents on the public map.
    is_firm: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @hybrid_property
    def shown_to_public(self) -> bool:
        """The one "firm phase" rule: a work in this phase may be on the public map (if it
        is public): the phase is firm and takes part (a cancelled work is not shown)."""
        return self.is_firm and self.takes_part

    @shown_to_public.inplace.expression
    @classmethod
    def _shown_to_public_expression(cls) -> ColumnElement[bool]:
        return and_(cls.is_firm.is_(True), cls.takes_part.is_(True))

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_nl
