"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, func
from sqlalchemy.orm import mapped_column


def text_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as text with a CHECK constraint (easy to extend in a migration)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def created_at_column():
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def updated_at_column():
    return mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


__all__ = ["created_at_column", "datetime", "text_enum", "updated_at_column"]
