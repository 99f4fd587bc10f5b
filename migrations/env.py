"""Alembic environment for KIP (run through ``kip db ...`` or plain ``alembic``)."""

from __future__ import annotations

import os

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from kip import models  # noqa: F401  (registers the tables)
from kip.config import load_config
from kip.db import Base, bind_srid

config = context.config


def _srid() -> int:
    srid = config.attributes.get("kip_srid")
    if srid is None:  # plain `alembic` on the command line: read KIP's configuration
        from pathlib import Path

        instance = Path(os.environ.get("KIP_INSTANCE_PATH", "instance"))
        srid = load_config(instance)["SRID"]
        config.attributes["kip_srid"] = srid
    return int(srid)


bind_srid(_srid())
target_metadata = Base.metadata

# Tables PostGIS itself owns; they are not KIP's to compare or drop.
POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name in POSTGIS_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        transaction_per_migration=False,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = (
        config.get_main_option("sqlalchemy.url")
        or load_config(__import__("pathlib").Path(os.environ.get("KIP_INSTANCE_PATH", "instance")))[
            "DATABASE_URL"
        ]
    )
    engine = create_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("KIP's migrations run against a live PostGIS; offline mode is not supported")
run_migrations_online()
