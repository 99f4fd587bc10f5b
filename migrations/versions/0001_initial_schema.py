"""Initial schema: PostGIS, reference lists, organisations, streets, works, history, dig bans.

Geometry columns take the project SRID (``KIP_SRID``) handed over by ``kip db upgrade``.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 12:57:16.908320
"""

from __future__ import annotations

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


DEFAULT_DISCIPLINES = [
    # code, nl, en, colour
    ("sewer", "Riolering", "Sewer", "#8c510a"),
    ("water", "Drinkwater", "Water", "#2166ac"),
    ("gas", "Gas", "Gas", "#f1a340"),
    ("electricity", "Elektriciteit", "Electricity", "#d73027"),
    ("district_heating", "Warmtenet", "District heating", "#b2182b"),
    ("telecom", "Telecom", "Telecom", "#762a83"),
    ("road", "Weg en verharding", "Road and pavement", "#4d4d4d"),
    ("green", "Groen", "Green", "#1a9850"),
    ("lighting", "Openbare verlichting", "Street lighting", "#fee08b"),
    ("housing", "Woningbouw", "Housing", "#c51b7d"),
    ("traffic", "Verkeersmaatregel", "Traffic measure", "#35978f"),
    ("other", "Overig", "Other", "#999999"),
]

DEFAULT_PHASES = [
    # code, nl, en, takes part in the engine, firm (public)
    ("initiative", "Initiatief/verkenning", "Initiative/exploration", True, False),
    ("design", "Ontwerp", "Design", True, False),
    ("planned", "Gepland", "Planned", True, True),
    ("final", "Definitief", "Final", True, True),
    ("in_progress", "In uitvoering", "In progress", True, True),
    ("completed", "Gereed", "Completed", False, True),
    ("cancelled", "Vervallen", "Cancelled", False, False),
]


def _srid() -> int:
    return int(op.get_context().config.attributes["kip_srid"])


def upgrade() -> None:
    srid = _srid()
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "disciplines",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_nl", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_disciplines")),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "department",
                "grid_operator",
                "water",
                "telecom",
                "housing_corporation",
                "contractor",
                "other",
                name="organisation_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("contact_phone", sa.String(length=50), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_organisations_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "phases",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_nl", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("takes_part", sa.Boolean(), nullable=False),
        sa.Column("is_firm", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_phases")),
    )
    op.create_geospatial_table(
        "streets",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=srid,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name=op.f("ck_streets_geom_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streets")),
        sa.UniqueConstraint("source", "source_ref", name=op.f("uq_streets_source_source_ref")),
    )
    op.create_geospatial_index(
        "idx_streets_geom",
        "streets",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_streets_name"), "streets", ["name"], unique=False)
    op.create_geospatial_table(
        "works",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("discipline_code", sa.String(length=40), nullable=False),
        sa.Column("phase_code", sa.String(length=40), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=srid,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "precision",
            sa.Enum(
                "day",
                "month",
                "quarter",
                "year",
                name="precision",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="day",
            nullable=False,
        ),
        sa.Column("excavation", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "traffic_impact",
            sa.Enum(
                "none",
                "lane",
                "closure",
                name="traffic_impact",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="none",
            nullable=False,
        ),
        sa.Column(
            "visibility",
            sa.Enum(
                "public",
                "partners",
                "confidential",
                name="visibility",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="partners",
            nullable=False,
        ),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("contact_phone", sa.String(length=50), nullable=True),
        sa.Column("budget", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=60)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column(
            "period",
            postgresql.DATERANGE(),
            sa.Computed(
                "CASE WHEN end_date >= start_date THEN daterange(start_date, end_date, '[]') END",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'LINESTRING', 'POLYGON', "
            "'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON')",
            name=op.f("ck_works_geom_type"),
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name=op.f("ck_works_geom_not_empty")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_works_geom_valid")),
        sa.CheckConstraint(
            "budget IS NULL OR budget >= 0", name=op.f("ck_works_budget_not_negative")
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_works_period_ordered")),
        sa.CheckConstraint("length(btrim(title)) > 0", name=op.f("ck_works_title_not_blank")),
        sa.CheckConstraint("version > 0", name=op.f("ck_works_version_positive")),
        sa.ForeignKeyConstraint(
            ["discipline_code"],
            ["disciplines.code"],
            name=op.f("fk_works_discipline_code_disciplines"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_works_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["phase_code"],
            ["phases.code"],
            name=op.f("fk_works_phase_code_phases"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_works")),
        sa.UniqueConstraint(
            "organisation_id", "external_ref", name=op.f("uq_works_organisation_id_external_ref")
        ),
    )
    op.create_geospatial_index(
        "idx_works_geom",
        "works",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_works_discipline_code"), "works", ["discipline_code"], unique=False)
    op.create_index("ix_works_period", "works", ["period"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_works_phase_code"), "works", ["phase_code"], unique=False)
    op.create_geospatial_table(
        "dig_bans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=srid,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_work_id", sa.BigInteger(), nullable=True),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column(
            "period",
            postgresql.DATERANGE(),
            sa.Computed(
                "CASE WHEN end_date >= start_date THEN daterange(start_date, end_date, '[]') END",
                persisted=True,
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')", name=op.f("ck_dig_bans_geom_type")
        ),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name=op.f("ck_dig_bans_geom_not_empty")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_dig_bans_geom_valid")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_dig_bans_period_ordered")),
        sa.CheckConstraint("length(btrim(title)) > 0", name=op.f("ck_dig_bans_title_not_blank")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_dig_bans_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["source_work_id"],
            ["works.id"],
            name=op.f("fk_dig_bans_source_work_id_works"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dig_bans")),
        sa.UniqueConstraint(
            "organisation_id", "external_ref", name=op.f("uq_dig_bans_organisation_id_external_ref")
        ),
    )
    op.create_geospatial_index(
        "idx_dig_bans_geom",
        "dig_bans",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_dig_bans_organisation_id"), "dig_bans", ["organisation_id"], unique=False
    )
    op.create_index(
        "ix_dig_bans_period", "dig_bans", ["period"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        op.f("ix_dig_bans_source_work_id"), "dig_bans", ["source_work_id"], unique=False
    )
    op.create_table(
        "work_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "create",
                "update",
                "delete",
                "restore",
                name="work_change_action",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_work_changes_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["works.id"],
            name=op.f("fk_work_changes_work_id_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_changes")),
        sa.UniqueConstraint("work_id", "version", name=op.f("uq_work_changes_work_id_version")),
    )
    op.create_index(
        op.f("ix_work_changes_organisation_id"), "work_changes", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_work_changes_work_id"), "work_changes", ["work_id"], unique=False)

    disciplines = sa.table(
        "disciplines",
        sa.column("code"),
        sa.column("label_nl"),
        sa.column("label_en"),
        sa.column("colour"),
        sa.column("sort_order"),
        sa.column("active"),
    )
    op.bulk_insert(
        disciplines,
        [
            {
                "code": c,
                "label_nl": nl,
                "label_en": en,
                "colour": colour,
                "sort_order": 10 * i,
                "active": True,
            }
            for i, (c, nl, en, colour) in enumerate(DEFAULT_DISCIPLINES, start=1)
        ],
    )
    phases = sa.table(
        "phases",
        sa.column("code"),
        sa.column("label_nl"),
        sa.column("label_en"),
        sa.column("sort_order"),
        sa.column("takes_part"),
        sa.column("is_firm"),
        sa.column("active"),
    )
    op.bulk_insert(
        phases,
        [
            {
                "code": c,
                "label_nl": nl,
                "label_en": en,
                "sort_order": 10 * i,
                "takes_part": part,
                "is_firm": firm,
                "active": True,
            }
            for i, (c, nl, en, part, firm) in enumerate(DEFAULT_PHASES, start=1)
        ],
    )


def downgrade() -> None:
    # PostGIS stays installed: other schemas in the database may use it.
    op.drop_index(op.f("ix_work_changes_work_id"), table_name="work_changes")
    op.drop_index(op.f("ix_work_changes_organisation_id"), table_name="work_changes")
    op.drop_table("work_changes")
    op.drop_index(op.f("ix_dig_bans_source_work_id"), table_name="dig_bans")
    op.drop_index("ix_dig_bans_period", table_name="dig_bans", postgresql_using="gist")
    op.drop_index(op.f("ix_dig_bans_organisation_id"), table_name="dig_bans")
    op.drop_geospatial_index(
        "idx_dig_bans_geom", table_name="dig_bans", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("dig_bans")
    op.drop_index(op.f("ix_works_phase_code"), table_name="works")
    op.drop_index("ix_works_period", table_name="works", postgresql_using="gist")
    op.drop_index(op.f("ix_works_discipline_code"), table_name="works")
    op.drop_geospatial_index(
        "idx_works_geom", table_name="works", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("works")
    op.drop_index(op.f("ix_streets_name"), table_name="streets")
    op.drop_geospatial_index(
        "idx_streets_geom", table_name="streets", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("streets")
    op.drop_table("phases")
    op.drop_table("organisations")
    op.drop_table("disciplines")
