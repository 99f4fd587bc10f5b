"""Reference lists a deployment can extend: disciplines and phases.

They are rows, not enums, so an administrator can add a discipline (say, "hydrogen") or a
local phase without a code change. The defaults are seeded by the first migration (``0001``).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class Discipline(Base):
    __tablename__ = "disciplines"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
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

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_nl: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    # Cancelled and completed works take no part in the overlap engine.
    takes_part: Mapped[bool] = mapped_column(Boolean, default=True)
    # Planned or later: firm enough to show to residents on the public map.
    is_firm: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_nl
