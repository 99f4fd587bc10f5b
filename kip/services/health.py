"""The state of the database, for ``/healthz`` and ``kip db status``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .. import migrate
from ..db import bound_srid


@dataclass(frozen=True)
class DatabaseHealth:
    ok: bool
    reachable: bool
    problem: str | None = None
    postgis: str | None = None
    revision: str | None = None
    expected_revision: str | None = None
    srid: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "ok" and v is not None}


def database_health(engine: Engine) -> DatabaseHealth:
    """Connect, and say whether KIP can work with what it finds.

    Unreachable, PostGIS missing, not migrated to this code's revision, or geometry stored
    in another CRS than ``KIP_SRID``: each is unhealthy, with the reason.
    """
    expected = migrate.head_revision()
    try:
        with engine.connect() as conn:
            postgis = conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            ).scalar()
            revision = migrate.current_revision(conn)
            srid = None
            if revision is not None:
                srid = conn.execute(
                    text("SELECT Find_SRID(current_schema()::text, 'works', 'geom')")
                ).scalar()
    except OperationalError as exc:
        return DatabaseHealth(
            ok=False,
            reachable=False,
            problem=f"database unreachable: {_first_line(exc)}",
            expected_revision=expected,
        )
    except SQLAlchemyError as exc:
        return DatabaseHealth(
            ok=False,
            reachable=True,
            problem=f"database error: {_first_line(exc)}",
            expected_revision=expected,
        )

    problem = None
    if postgis is None:
        problem = "PostGIS is not installed in this database (run `kip db upgrade`)"
    elif revision != expected:
        problem = (
            f"schema at revision {revision or 'none'}, code expects {expected}: "
            "run `kip db upgrade`"
        )
    elif srid != bound_srid():
        problem = f"geometries are stored in EPSG:{srid} but KIP_SRID is {bound_srid()}"
    return DatabaseHealth(
        ok=problem is None,
        reachable=True,
        problem=problem,
        postgis=postgis,
        revision=revision,
        expected_revision=expected,
        srid=srid,
    )


def _first_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
