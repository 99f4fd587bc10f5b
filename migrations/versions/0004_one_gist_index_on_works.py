"""One GiST index on works, on (geometry, period): drop the separate ones.

The combined index (0003) serves area searches, period searches and the engine's
near-in-space-and-time pairs; keeping three GiST indexes made every insert pay thrice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 13:57:25.134684
"""

from __future__ import annotations

import geoalchemy2  # noqa: F401
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_geospatial_index(
        op.f("idx_works_geom"), table_name="works", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_works_period"), table_name="works", postgresql_using="gist")


def downgrade() -> None:
    op.create_index(
        op.f("ix_works_period"), "works", ["period"], unique=False, postgresql_using="gist"
    )
    op.create_geospatial_index(
        op.f("idx_works_geom"),
        "works",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
