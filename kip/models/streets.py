"""Streets: the network works lie along (residents look up "my street")."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Identity, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, project_geometry


class Street(Base):
    """A street's centre line in the project CRS, from a named source (demo, NWB, BGT...)."""

    __tablename__ = "streets"
    __table_args__ = (
        CheckConstraint("NOT ST_IsEmpty(geom)", name="geom_not_empty"),
        UniqueConstraint("source", "source_ref"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(40))
    source_ref: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(project_geometry("MULTILINESTRING"), nullable=False)
