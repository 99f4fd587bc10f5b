"""The clashes' dig-ban index leaves out the pairs of works.

Only a violation has a dig ban; every other clash - nearly all of them - has none, and each
of them cost the index an entry on every write. A full recompute of a large town writes
hundreds of thousands of clashes (see benchmarks/engine_bench.py). Lookups by dig ban
(``dig_ban_id = ...``) imply ``IS NOT NULL``, so they use the partial index as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_clashes_dig_ban_id", table_name="clashes")
    op.create_index(
        "ix_clashes_dig_ban_id",
        "clashes",
        ["dig_ban_id"],
        postgresql_where=sa.text("dig_ban_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_clashes_dig_ban_id", table_name="clashes")
    op.create_index("ix_clashes_dig_ban_id", "clashes", ["dig_ban_id"])
