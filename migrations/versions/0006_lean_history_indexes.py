"""History keeps only the indexes its queries use.

A work's history is read by work, in version order: the unique (work_id, version)
constraint's index serves that. The separate indexes on work_id (a prefix of it) and on
organisation_id (no query reads history by organisation) only cost every write - a bulk
import writes one history row per work (see benchmarks/import_bench.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 16:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_work_changes_work_id", table_name="work_changes")
    op.drop_index("ix_work_changes_organisation_id", table_name="work_changes")


def downgrade() -> None:
    op.create_index("ix_work_changes_organisation_id", "work_changes", ["organisation_id"])
    op.create_index("ix_work_changes_work_id", "work_changes", ["work_id"])
