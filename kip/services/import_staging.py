"""The SQL half of a bulk import: a staging table, classification, set-based writes.

All of it runs on the session's connection, inside the caller's transaction. The staging
table is temporary (``ON COMMIT DROP``) and dropped again when the import ends.

Besides :mod:`kip.services.works` (one work at a time), :func:`insert_new`,
:func:`apply_staged` and :func:`cancel_works` are the only code that writes works: set-based,
for a file's many rows, after :mod:`kip.io.rows` and :mod:`kip.io.geometry` checked them
against the same rules (:mod:`kip.work_fields`, :mod:`kip.dates`), and with the history
recorded as :mod:`kip.services.works` records it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import geo
from ..actors import Actor
from ..errors import StaleVersion
from ..io.rows import Rows

STAGE = "kip_import_stage"
# The staged columns, as the works table names them, in COPY order.
STAGE_COLUMNS = (
    "row_no",
    "ok",
    "external_ref",
    "title",
    "description",
    "discipline_code",
    "phase_code",
    "start_date",
    "end_date",
    "precision",
    "excavation",
    "traffic_impact",
    "visibility",
    "contact_name",
    "contact_email",
    "contact_phone",
    "budget",
    "tags",
    "geom",
)
# Their types for a binary COPY (a geometry travels as EWKB, which PostGIS reads as is);
# every column not named here is text.
COPY_TYPES = {
    **dict.fromkeys(STAGE_COLUMNS, "varchar"),
    "row_no": "integer",
    "ok": "boolean",
    "start_date": "date",
    "end_date": "date",
    "excavation": "boolean",
    "budget": "numeric",
    "tags": "varchar[]",
    "geom": "bytea",
}
# Compared and written on update when the file gives them; the rest only fill new works.
ALWAYS = ("title", "discipline_code", "phase_code", "start_date", "end_date", "precision", "geom")
OPTIONAL = (
    "description",
    "excavation",
    "traffic_impact",
    "visibility",
    "contact_name",
    "contact_email",
    "contact_phone",
    "budget",
    "tags",
)
FIELD_OF = {"discipline_code": "discipline", "phase_code": "phase", "geom": "geometry"}
# Geometries that differ by less than this (project CRS units: metres) are the same.
GEOMETRY_TOLERANCE = 0.001


# --- staging -------------------------------------------------------------------------------


def known_refs(session: Session, organisation_id: int, refs: list[str]) -> set[str]:
    """Which of ``refs`` the organisation has a work for already (deleted ones included)."""
    if not refs:
        return set()
    return set(
        session.connection()
        .execute(
            text(
                "SELECT external_ref FROM works"
                " WHERE organisation_id = :org AND external_ref = ANY(:refs)"
            ),
            {"org": organisation_id, "refs": refs},
        )
        .scalars()
    )


def stage_rows(session: Session, rows: Rows, srid: int, which: np.ndarray) -> None:
    """COPY the rows ``which`` (indexes) into the staging table, to compare with works."""
    conn = session.connection()
    drop_stage(session)
    conn.execute(
        text(
            f"""CREATE TEMP TABLE {STAGE} (
                row_no integer PRIMARY KEY, ok boolean NOT NULL, external_ref varchar(200),
                title varchar(200), description text, discipline_code varchar(40),
                phase_code varchar(40), start_date date, end_date date, precision varchar(7),
                excavation boolean, traffic_impact varchar(7), visibility varchar(12),
                contact_name varchar(200), contact_email varchar(320), contact_phone varchar(50),
                budget numeric(14, 2), tags varchar(60)[], geom geometry(Geometry, {srid}),
                work_id bigint, version integer, was_deleted boolean, action varchar(9),
                changes jsonb
            ) ON COMMIT DROP"""
        )
    )
    geometries = geo.ewkb(rows.columns["geom"][which], srid)
    cols = {name: _pick(values, which) for name, values in rows.columns.items()}
    data = [
        (which + 1).tolist(),
        [i not in rows.problems for i in which.tolist()],
        cols["external_ref"],
        cols["title"],
        cols["description"],
        cols["discipline_code"],
        cols["phase_code"],
        cols["start_date"],
        cols["end_date"],
        cols["precision"],
        cols["excavation"],
        cols["traffic_impact"],
        cols["visibility"],
        cols["contact_name"],
        cols["contact_email"],
        cols["contact_phone"],
        cols["budget"],
        cols["tags"],
        geometries,
    ]
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(
        f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types([COPY_TYPES[c] for c in STAGE_COLUMNS])
        for record in zip(*data, strict=True):
            copy.write_row(record)
    conn.execute(text(f"ANALYZE {STAGE}"))


def _pick(values: Any, which: np.ndarray) -> list[Any]:
    if isinstance(values, np.ndarray):
        return values[which].tolist()
    return [values[i] for i in which.tolist()]


def drop_stage(session: Session) -> None:
    session.connection().execute(text(f"DROP TABLE IF EXISTS pg_temp.{STAGE}"))


def _same_geometry(a: str, b: str) -> str:
    return (
        f"(ST_OrderingEquals({a}, {b}) OR (GeometryType({a}) = GeometryType({b}) "
        f"AND ST_NPoints({a}) = ST_NPoints({b}) "
        f"AND ST_HausdorffDistance({a}, {b}) <= {GEOMETRY_TOLERANCE}))"
    )


def _compared(present: set[str]) -> list[str]:
    return [*ALWAYS, *(c for c in OPTIONAL if c in present)]


def classify(
    session: Session, organisation_id: int, present: set[str]
) -> dict[int, tuple[int, str, list[str] | None]]:
    """Match the staged rows to works by external reference and note what would change.

    Returns row number -> (work id, action, changed columns) of every staged row that
    matched a work: ``update``, ``restore`` or ``unchanged``. A staged row without a match
    (its work vanished meanwhile) is not in it: it creates a work.
    """
    parts = []
    for column in _compared(present):
        if column == "geom":
            # The WKT itself is written afterwards, in shapely's spelling.
            parts.append(
                f"'geom', CASE WHEN NOT {_same_geometry('w.geom', 's.geom')} "
                "THEN jsonb_build_array(NULL, NULL) END"
            )
        elif column == "budget":
            parts.append(
                "'budget', CASE WHEN s.budget IS DISTINCT FROM w.budget "
                "THEN jsonb_build_array(w.budget::text, s.budget::text) END"
            )
        else:
            parts.append(
                f"'{column}', CASE WHEN s.{column} IS DISTINCT FROM w.{column} "
                f"THEN jsonb_build_array(to_jsonb(w.{column}), to_jsonb(s.{column})) END"
            )
    parts.append(
        "'deleted_at', CASE WHEN w.deleted_at IS NOT NULL "
        "THEN jsonb_build_array(to_jsonb(w.deleted_at), NULL) END"
    )
    # What differs is worked out once and only the rows that change are written back to
    # the staging table (for the UPDATE of works); every row's outcome comes back at once.
    outcomes = session.connection().execute(
        text(
            f"""WITH d AS MATERIALIZED (
                    SELECT s.row_no, w.id, w.version, w.deleted_at IS NOT NULL AS was_deleted,
                           jsonb_strip_nulls(jsonb_build_object({", ".join(parts)})) AS changes
                    FROM {STAGE} s JOIN works w
                      ON w.organisation_id = :org AND w.external_ref = s.external_ref
                    WHERE s.ok),
                c AS (
                    SELECT d.*, CASE WHEN d.was_deleted THEN 'restore'
                                     WHEN d.changes = '{{}}'::jsonb THEN 'unchanged'
                                     ELSE 'update' END AS action
                    FROM d),
                written AS (
                    UPDATE {STAGE} s SET work_id = c.id, version = c.version,
                        was_deleted = c.was_deleted, changes = c.changes, action = c.action
                    FROM c WHERE s.row_no = c.row_no AND c.action <> 'unchanged')
                SELECT row_no, id, action, CASE WHEN action <> 'unchanged'
                    THEN ARRAY(SELECT jsonb_object_keys(changes)) END
                FROM c"""
        ),
        {"org": organisation_id},
    )
    found = {row_no: (work_id, action, keys) for row_no, work_id, action, keys in outcomes}
    _geometry_history_as_shapely_writes_it(session)
    return found


def _geometry_history_as_shapely_writes_it(session: Session) -> None:
    """A changed geometry goes into the history as WKT the way the form and the API write
    it (shapely's spelling, full precision), not PostGIS's: one format for every way in.
    Only the rows whose geometry changes (few, even in a large re-import) are touched."""
    conn = session.connection()
    changed = conn.execute(
        text(
            f"""SELECT s.row_no, ST_AsBinary(w.geom), ST_AsBinary(s.geom)
                FROM {STAGE} s JOIN works w ON w.id = s.work_id
                WHERE s.action IN ('update', 'restore') AND s.changes ? 'geom'"""
        )
    ).all()
    if not changed:
        return
    old = shapely.to_wkt(shapely.from_wkb([r[1] for r in changed]), rounding_precision=-1)
    new = shapely.to_wkt(shapely.from_wkb([r[2] for r in changed]), rounding_precision=-1)
    conn.execute(
        text(
            f"""UPDATE {STAGE} s SET changes = jsonb_set(s.changes, '{{geom}}',
                    jsonb_build_array(t.old, t.new))
                FROM unnest(CAST(:rows AS integer[]), CAST(:old AS text[]),
                            CAST(:new AS text[])) AS t(row_no, old, new)
                WHERE s.row_no = t.row_no"""
        ),
        {"rows": [r[0] for r in changed], "old": old.tolist(), "new": new.tolist()},
    )


def missing_works(session: Session, organisation_id: int, refs: list[str]) -> list[dict[str, Any]]:
    """The organisation's imported works that this file no longer has (and that still take
    part: completed and cancelled works are left alone)."""
    result = session.connection().execute(
        text(
            """SELECT w.id, w.external_ref, w.title, w.phase_code FROM works w
                JOIN phases p ON p.code = w.phase_code
                WHERE w.organisation_id = :org AND w.deleted_at IS NULL
                  AND w.external_ref IS NOT NULL AND p.takes_part
                  AND NOT (w.external_ref = ANY(:refs))
                ORDER BY w.external_ref"""
        ),
        {"org": organisation_id, "refs": refs},
    )
    return [
        {"work_id": i, "external_ref": ref, "title": title, "phase": phase}
        for i, ref, title, phase in result
    ]


# --- writing -------------------------------------------------------------------------------


def _history_params(actor: Actor, organisation_id: int) -> dict[str, Any]:
    return {
        "org": organisation_id,
        "actor": actor.label,
        "uid": actor.user_id,
        "tid": actor.token_id,
    }


_HISTORY = (
    "work_id, organisation_id, version, action, actor, actor_user_id, actor_token_id, changes"
)


def insert_new(
    session: Session,
    actor: Actor,
    organisation_id: int,
    rows: Rows,
    which: np.ndarray,
    srid: int,
) -> list[int]:
    """COPY the rows ``which`` (indexes) into works as new works, and their creation into
    work_changes, as :func:`kip.services.works.create_work` records it. Returns the new
    works' ids, in the order of ``which``.

    The ids come from the works' own sequence first, so that both COPYs can carry them:
    no staging, no join back by external reference.
    """
    if not len(which):
        return []
    conn = session.connection()
    # One array, not a row per id: half the time for a hundred thousand.
    ids: list[int] = conn.execute(
        text(
            "SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('works', 'id'))"
            " FROM generate_series(1, :n))"
        ),
        {"n": len(which)},
    ).scalar_one()
    cols = {name: _pick(values, which) for name, values in rows.columns.items()}
    geoms = rows.columns["geom"][which]
    names = STAGE_COLUMNS[2:]
    data = [cols[c] for c in names[:-1]]
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(
        f"COPY works (id, organisation_id, {', '.join(names)}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["bigint", "bigint", *(COPY_TYPES[c] for c in names)])
        for work_id, *record, geometry in zip(ids, *data, geo.ewkb(geoms, srid), strict=True):
            copy.write_row((work_id, organisation_id, *record, geometry))

    # A creation is recorded without its values, as create_work records it: the history
    # works them out from the work itself (kip.services.works.history).
    with cursor.copy(f"COPY work_changes ({_HISTORY}) FROM STDIN") as copy:
        fixed = (organisation_id, 1, "create", actor.label, actor.user_id, actor.token_id, "{}")
        for work_id in ids:
            copy.write_row((work_id, *fixed))
    return ids


def apply_staged(
    session: Session, actor: Actor, organisation_id: int, present: set[str], expected: int
) -> None:
    """Update the changed works (and those that come back) with their history, set-based.

    ``expected`` is the number of rows to update; fewer updated means somebody changed a
    work meanwhile: StaleVersion.
    """
    if not expected:
        return
    conn = session.connection()
    params = _history_params(actor, organisation_id)
    # A geometry within the tolerance of the stored one counts as unchanged and is not
    # written either: every change to a work is in its history, which is what lets the
    # history work out the values a work was created with.
    writes = ", ".join(
        "geom = CASE WHEN s.changes ? 'geom' THEN s.geom ELSE w.geom END"
        if c == "geom"
        else f"{c} = s.{c}"
        for c in _compared(present)
    )
    updated = conn.execute(
        text(
            f"""WITH upd AS (
                    UPDATE works w SET {writes}, deleted_at = NULL, version = w.version + 1,
                        updated_at = now()
                    FROM {STAGE} s
                    WHERE s.action IN ('update', 'restore') AND w.id = s.work_id
                      AND w.version = s.version
                    RETURNING w.id, w.version, s.action, s.changes)
                INSERT INTO work_changes ({_HISTORY})
                SELECT id, :org, version, action, :actor, :uid, :tid, changes FROM upd"""
        ),
        params,
    ).rowcount
    if updated != expected:
        raise StaleVersion(
            f"{expected - updated} work(s) were changed by somebody else during the import; "
            "nothing was imported, try again"
        )


def cancel_works(session: Session, actor: Actor, organisation_id: int, ids: list[int]) -> None:
    """Set the missing works' phase to cancelled, with their history."""
    conn = session.connection()
    conn.execute(
        text(
            f"""WITH gone AS (
                    SELECT w.id, w.phase_code AS old_phase FROM works w
                    WHERE w.id = ANY(:ids)),
                upd AS (
                    UPDATE works w SET phase_code = 'cancelled', version = w.version + 1,
                        updated_at = now()
                    FROM gone WHERE w.id = gone.id
                    RETURNING w.id, w.version, gone.old_phase)
                INSERT INTO work_changes ({_HISTORY})
                SELECT id, :org, version, 'update', :actor, :uid, :tid,
                       jsonb_build_object('phase_code', jsonb_build_array(old_phase, 'cancelled'))
                FROM upd"""
        ),
        {**_history_params(actor, organisation_id), "ids": ids},
    )
