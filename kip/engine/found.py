"""The measured rows on their way to the storing statement (:mod:`kip.engine.store`).

A few rows travel as array parameters of the statement itself (:func:`found_parameters`,
one round trip); many go by binary ``COPY`` (:mod:`kip.engine.pgcopy`) into the temporary
tables :data:`FOUND_TABLE` (the measured rows of one part) and :data:`KEYS_TABLE` (the
identities of every pair found), which the statement then reads (:func:`found_table`).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import shapely

from .. import geo
from .measure import Candidates, Measured
from .pgcopy import copy_payload, copy_rows
from .rules import Rule

FOUND_TABLE = "engine_found"
KEYS_TABLE = "engine_keys"


def _kind(rules: Sequence[Rule]) -> tuple[str, dict]:
    """SQL: the kind of the rule ``f.rule_id``, and its parameters."""
    if not rules:
        return "CAST(NULL AS varchar)", {}
    cases = " ".join(f"WHEN {int(r.id)} THEN :kind_{int(r.id)}" for r in rules)
    return (
        f"CAST(CASE f.rule_id {cases} END AS varchar)",
        {f"kind_{int(r.id)}": r.kind.value for r in rules},
    )


_FOUND_COLUMNS = (
    "f.rule_id, {kind} AS kind, f.work_a_id, NULLIF(f.work_b_id, 0) AS work_b_id,"
    " NULLIF(f.dig_ban_id, 0) AS dig_ban_id, f.distance_m, f.overlap_days, f.gap_days,"
    " f.shared_length_m, f.score, {geom} AS geom"
)


def found_parameters(measured: Measured, rules: Sequence[Rule], srid: int) -> tuple[str, dict]:
    """SQL giving the measured rows as the storing statement wants them, from array
    parameters (for a few rows: one round trip), and those parameters."""
    kind, params = _kind(rules)
    params.update(
        f_rule=measured.rule_id.tolist(),
        f_a=measured.work_a_id.tolist(),
        f_b=measured.work_b_id.tolist(),
        f_v=measured.dig_ban_id.tolist(),
        f_dist=measured.distance_m.tolist(),
        f_overlap=measured.overlap_days.tolist(),
        f_gap=measured.gap_days.tolist(),
        f_shared=measured.shared_length_m.tolist(),
        f_score=measured.score.tolist(),
        f_geom=geo.ewkb(measured.geom, srid).tolist(),
    )
    columns = _FOUND_COLUMNS.format(kind=kind, geom="ST_GeomFromEWKB(f.geom)")
    return (
        f"SELECT {columns} FROM unnest(CAST(:f_rule AS bigint[]), CAST(:f_a AS bigint[]),"
        " CAST(:f_b AS bigint[]), CAST(:f_v AS bigint[]), CAST(:f_dist AS float8[]),"
        " CAST(:f_overlap AS integer[]), CAST(:f_gap AS integer[]),"
        " CAST(:f_shared AS float8[]), CAST(:f_score AS float8[]), CAST(:f_geom AS bytea[]))"
        " AS f(rule_id, work_a_id, work_b_id, dig_ban_id, distance_m, overlap_days,"
        " gap_days, shared_length_m, score, geom)",
        params,
    )


def found_table(rules: Sequence[Rule], srid: int) -> tuple[str, dict]:
    """SQL giving the measured rows in :data:`FOUND_TABLE` as the storing statement wants
    them (see :func:`copy_found`; the geometries in ``srid``), and its parameters."""
    kind, params = _kind(rules)
    columns = _FOUND_COLUMNS.format(kind=kind, geom=f"ST_SetSRID(f.geom, {int(srid)})")
    return f"SELECT {columns} FROM {FOUND_TABLE} f", params


# Temporary tables of the storing of many pairs: the measured rows of one part, and the
# identities of every pair found.
TABLES_SQL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {FOUND_TABLE} (rule_id bigint, work_a_id bigint,"
    " work_b_id bigint, dig_ban_id bigint, distance_m float8, overlap_days integer,"
    " gap_days integer, shared_length_m float8, score float8, geom geometry) ON COMMIT DROP;"
    f" TRUNCATE {FOUND_TABLE};"
    f" CREATE TEMP TABLE IF NOT EXISTS {KEYS_TABLE} (rule_id bigint, work_a_id bigint,"
    " work_b_id bigint, dig_ban_id bigint) ON COMMIT DROP;"
    f" TRUNCATE {KEYS_TABLE}"
)


_KEYS = [("rule_id", ">i8"), ("work_a_id", ">i8"), ("work_b_id", ">i8"), ("dig_ban_id", ">i8")]
_MEASURES = [
    *_KEYS,
    ("distance_m", ">f8"),
    ("overlap_days", ">i4"),
    ("gap_days", ">i4"),
    ("shared_length_m", ">f8"),
    ("score", ">f8"),
]


def keys_payload(candidates: Candidates) -> bytes:
    """The identities of ``candidates``, as a binary COPY into :data:`KEYS_TABLE`."""
    return copy_payload(_KEYS, {name: getattr(candidates, name) for name, _ in _KEYS})


def found_payload(measured: Measured) -> bytes:
    """The measured rows as a binary COPY for :func:`copy_found` (made apart from the copy,
    so that one part can be made while the connection copies and writes another). The
    geometries go as plain WKB, their SRID set by the storing statement (:func:`found_table`):
    half the time of EWKB here."""
    columns = {name: getattr(measured, name) for name, _ in _MEASURES}
    return copy_payload(_MEASURES, columns, tail=shapely.to_wkb(measured.geom))


def copy_found(raw: psycopg.Connection, payload: bytes) -> None:
    """Measured rows (see :func:`found_payload`), into :data:`FOUND_TABLE` in place of what
    it held. Not analysed: the storing statement inserts or updates each row by its
    identity, a plan that does not depend on how many there are (a tenth of a second per
    part saved)."""
    raw.execute(f"TRUNCATE {FOUND_TABLE}")
    copy_rows(raw, FOUND_TABLE, payload, analyze=False)
