"""Clash disclosure: a coordinator may show both works of a clash to the partners involved.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:38:56.518346
"""

from __future__ import annotations

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "clashes", sa.Column("disclosed", sa.Boolean(), server_default="false", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("clashes", "disclosed")
