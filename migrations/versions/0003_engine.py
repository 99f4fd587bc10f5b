"""The overlap engine: clash rules (seeded with the three defaults), clashes, their events.

Also a GiST index on works (geometry, period), so one index scan finds the works that are
near in space and in time. Geometry columns take the project SRID (``KIP_SRID``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 13:15:52.058107
"""

from __future__ import annotations

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# code, name, kind, max distance (m), max gap (days), excavation, repave disciplines
DEFAULT_RULES = [
    ("simultaneous", "Simultaneous works", "conflict", 50.0, 0, "any", []),
    ("dig_once", "Dig once", "opportunity", 25.0, 730, "dig_once", ["road"]),
    ("dig_ban", "Dig ban", "violation", 0.0, 0, "either", []),
]


def _srid() -> int:
    return int(op.get_context().config.attributes["kip_srid"])


def upgrade() -> None:
    op.create_table(
        "clash_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "conflict",
                "opportunity",
                "violation",
                name="clash_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("max_distance_m", sa.Float(), nullable=False),
        sa.Column("max_gap_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "excavation",
            sa.Enum(
                "any",
                "either",
                "both",
                "dig_once",
                name="excavation_mode",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="any",
            nullable=False,
        ),
        sa.Column(
            "repave_disciplines",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column(
            "disciplines",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column(
            "phases",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column(
            "traffic_impacts",
            postgresql.ARRAY(sa.String(length=20)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_clash_rules_name_not_blank")),
        sa.CheckConstraint(
            "max_distance_m >= 0", name=op.f("ck_clash_rules_distance_not_negative")
        ),
        sa.CheckConstraint("max_gap_days >= 0", name=op.f("ck_clash_rules_gap_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clash_rules")),
        sa.UniqueConstraint("code", name=op.f("uq_clash_rules_code")),
    )
    op.create_geospatial_table(
        "clashes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "conflict",
                "opportunity",
                "violation",
                name="clash_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("work_a_id", sa.BigInteger(), nullable=False),
        sa.Column("work_b_id", sa.BigInteger(), nullable=True),
        sa.Column("dig_ban_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "combine",
                "accepted",
                "dismissed",
                "resolved",
                name="clash_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="open",
            nullable=False,
        ),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("overlap_days", sa.Integer(), nullable=False),
        sa.Column("gap_days", sa.Integer(), nullable=False),
        sa.Column("shared_length_m", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=_srid(),
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("review_note", sa.Text(), server_default="", nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "first_found_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "measured_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(work_b_id IS NOT NULL AND dig_ban_id IS NULL AND work_a_id < work_b_id)"
            " OR (work_b_id IS NULL AND dig_ban_id IS NOT NULL)",
            name=op.f("ck_clashes_one_partner"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clashes")),
        sa.UniqueConstraint(
            "work_a_id",
            "work_b_id",
            "dig_ban_id",
            "rule_id",
            name=op.f("uq_clashes_work_a_id_work_b_id_dig_ban_id_rule_id"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(op.f("ix_clashes_dig_ban_id"), "clashes", ["dig_ban_id"], unique=False)
    op.create_index("ix_clashes_status_score", "clashes", ["status", "score"], unique=False)
    op.create_index(op.f("ix_clashes_work_b_id"), "clashes", ["work_b_id"], unique=False)
    op.create_table(
        "clash_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("clash_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "reviewed",
                "resolved",
                "reopened",
                name="clash_event_action",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status_from",
            sa.Enum(
                "open",
                "combine",
                "accepted",
                "dismissed",
                "resolved",
                name="status_from",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status_to",
            sa.Enum(
                "open",
                "combine",
                "accepted",
                "dismissed",
                "resolved",
                name="status_to",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["clash_id"],
            ["clashes.id"],
            name=op.f("fk_clash_events_clash_id_clashes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clash_events")),
    )
    op.create_index(op.f("ix_clash_events_clash_id"), "clash_events", ["clash_id"], unique=False)
    op.create_index(
        "ix_works_geom_period", "works", ["geom", "period"], unique=False, postgresql_using="gist"
    )
    rules = sa.table(
        "clash_rules",
        sa.column("code"),
        sa.column("name"),
        sa.column("kind"),
        sa.column("max_distance_m"),
        sa.column("max_gap_days"),
        sa.column("excavation"),
        sa.column("repave_disciplines", postgresql.ARRAY(sa.String(40))),
    )
    op.bulk_insert(
        rules,
        [
            {
                "code": code,
                "name": name,
                "kind": kind,
                "max_distance_m": distance,
                "max_gap_days": gap,
                "excavation": excavation,
                "repave_disciplines": repave,
            }
            for code, name, kind, distance, gap, excavation, repave in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_works_geom_period", table_name="works", postgresql_using="gist")
    op.drop_index(op.f("ix_clash_events_clash_id"), table_name="clash_events")
    op.drop_table("clash_events")
    op.drop_index(op.f("ix_clashes_work_b_id"), table_name="clashes")
    op.drop_index("ix_clashes_status_score", table_name="clashes")
    op.drop_index(op.f("ix_clashes_dig_ban_id"), table_name="clashes")
    op.drop_geospatial_table("clashes")
    op.drop_table("clash_rules")
