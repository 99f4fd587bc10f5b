"""The overlap engine against the plain expert baseline, on a synthetic town of N works.

    .venv/bin/python benchmarks/engine_bench.py --url postgresql://postgres@127.0.0.1/postgres \
        --sizes 10000,100000

For each N, in a fresh database (created on the server, dropped afterwards):

* full recompute: the engine (pairs in memory, then measured and written as clash records)
  against the baseline, a PostGIS self-join (``ST_DWithin`` plus the period condition on the
  GiST index on (geometry, period), table clustered on it) that only returns the pairs;
* a bulk of 1% new works: the engine's set-based recompute of those works against the same
  join restricted to them;
* the single-work check: p50/p99 of one work changed and its clashes found and stored,
  against a single indexed lookup through psycopg (which stores nothing), both on a town
  at rest (vacuumed after the bulk, so that autovacuum does not run beside them).

The pairs of the engine and the baseline are checked identical each time. The rule is the
anchors' (25 m, 365 days, any works that take part). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthtown

from kip import migrate
from kip.config import normalise_database_url
from kip.db import bind_srid

SRID = 28992
DISTANCE, GAP = 25.0, 365

BASELINE = """
SELECT a.id, b.id FROM works a JOIN works b
  ON ST_DWithin(a.geom, b.geom, %(d)s)
 AND b.period && daterange(a.start_date - %(g)s, a.end_date + %(g)s, '[]')
WHERE {where} AND a.deleted_at IS NULL AND b.deleted_at IS NULL
  AND a.phase_code = ANY(%(phases)s) AND b.phase_code = ANY(%(phases)s)
"""


def pairs_of(rows) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in rows}


def stored_pairs(conn) -> set[tuple[int, int]]:
    cur = conn.execute("SELECT work_a_id, work_b_id FROM clashes WHERE status <> 'resolved'")
    return set(cur.fetchall())


def percentile(values, p) -> float:
    return float(np.percentile(np.asarray(values) * 1000, p))


def setup(url: str, n: int, bulk: int):
    from kip.models import ClashRule  # noqa: F401  (registers the tables)

    engine = create_engine(url)
    migrate.upgrade(engine, SRID)
    raw = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    orgs = [
        raw.execute(
            "INSERT INTO organisations (name, kind) VALUES (%s, 'other') RETURNING id", [f"O{i}"]
        ).fetchone()[0]
        for i in range(12)
    ]
    raw.execute("UPDATE clash_rules SET active = false")
    raw.execute(
        "INSERT INTO clash_rules (code, name, kind, max_distance_m, max_gap_days)"
        " VALUES ('bench', 'Benchmark', 'conflict', %s, %s)",
        [DISTANCE, GAP],
    )
    town = synthtown.generate(n + bulk)
    head = synthtown.Works(*(getattr(town, f)[:n] for f in town.__dataclass_fields__))
    tail = synthtown.Works(*(getattr(town, f)[n:] for f in town.__dataclass_fields__))
    t = time.perf_counter()
    with raw.cursor() as cur, cur.copy(f"COPY works ({synthtown.COPY_COLUMNS}) FROM STDIN") as cp:
        cp.write(synthtown.copy_text(head, SRID, orgs))
    raw.execute("CLUSTER works USING ix_works_geom_period")
    raw.execute("VACUUM ANALYZE works")
    print(f"  loaded {n} works in {time.perf_counter() - t:.1f} s (grid {synthtown.grid_size(n)}²)")
    return engine, raw, orgs, tail


def bench(server: str, n: int, samples: int) -> None:
    name = f"kip_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(server.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = normalise_database_url(server.rsplit("/", 1)[0] + "/" + name)
    print(f"N = {n:,}")
    try:
        _bench(url, n, samples)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _bench(url: str, n: int, samples: int) -> None:
    from kip import engine as kip_engine
    from kip.engine.inmemory import find_pairs

    bulk = max(1, n // 100)
    engine, raw, orgs, tail = setup(url, n, bulk)
    phases = [r[0] for r in raw.execute("SELECT code FROM phases WHERE takes_part")]
    params = {"d": DISTANCE, "g": GAP, "phases": phases}

    # Full recompute.
    t = time.perf_counter()
    baseline = pairs_of(raw.execute(BASELINE.format(where="a.id < b.id"), params).fetchall())
    t_base = time.perf_counter() - t
    with Session(engine) as session:
        rules = kip_engine.load_rules(session)
        t = time.perf_counter()
        found = find_pairs(session, rules)
        t_pairs = time.perf_counter() - t
        session.rollback()
        t = time.perf_counter()
        outcome = kip_engine.recompute_all(session, in_memory=True, rules=rules)
        session.commit()
        t_full = time.perf_counter() - t
    mine = {(int(a), int(b)) for a, b in found[:, 1:3]}
    same = mine == baseline == stored_pairs(raw)
    print(
        f"  full: baseline join {t_base:.2f} s ({len(baseline):,} pairs) | engine pairs in "
        f"memory {t_pairs:.2f} s, whole recompute with {outcome.new:,} records written "
        f"{t_full:.2f} s | identical: {same}"
    )
    if n <= 100_000:
        raw.execute("TRUNCATE clashes CASCADE")
        with Session(engine) as session:
            t = time.perf_counter()
            kip_engine.recompute_all(session, in_memory=False, rules=rules)
            session.commit()
        print(
            f"  full (SQL join path, records written): {time.perf_counter() - t:.2f} s | "
            f"identical: {stored_pairs(raw) == baseline}"
        )

    # A bulk of 1% new works.
    first = raw.execute("SELECT max(id) FROM works").fetchone()[0] + 1
    with raw.cursor() as cur, cur.copy(f"COPY works ({synthtown.COPY_COLUMNS}) FROM STDIN") as cp:
        cp.write(synthtown.copy_text(tail, SRID, orgs, first=n))
    new_ids = [r[0] for r in raw.execute("SELECT id FROM works WHERE id >= %s", [first])]
    raw.execute("ANALYZE works")
    t = time.perf_counter()
    base_bulk = pairs_of(
        raw.execute(
            BASELINE.format(where="a.id = ANY(%(ids)s) AND b.id <> a.id"),
            {**params, "ids": new_ids},
        ).fetchall()
    )
    t_base = time.perf_counter() - t
    with Session(engine) as session:
        t = time.perf_counter()
        outcome = kip_engine.recompute_works(session, new_ids, rules=rules)
        session.commit()
        t_bulk = time.perf_counter() - t
    new_set = set(new_ids)
    stored = {p for p in stored_pairs(raw) if p[0] in new_set or p[1] in new_set}
    print(
        f"  bulk of {len(new_ids):,}: baseline join {t_base:.3f} s ({len(base_bulk):,} pairs) | "
        f"engine found and stored {t_bulk:.3f} s ({outcome.new:,} new) | "
        f"identical: {stored == base_bulk}"
    )

    # The single-work check: one work changed, its clashes found and stored, on a town at
    # rest (as on an ordinary day): autovacuum would otherwise be working through the
    # hundreds of thousands of clash records just written, beside both measurements.
    raw.execute("VACUUM ANALYZE")
    rng = np.random.default_rng(7)
    ids = rng.choice(np.arange(1, n + 1), samples, replace=False).tolist()
    lookup = (
        "SELECT b.id FROM works a JOIN works b ON ST_DWithin(a.geom, b.geom, %(d)s)"
        " AND b.period && daterange(a.start_date - %(g)s, a.end_date + %(g)s, '[]')"
        " WHERE a.id = %(id)s AND b.id <> a.id AND b.deleted_at IS NULL"
        " AND a.phase_code = ANY(%(phases)s)"
        " AND b.phase_code = ANY(%(phases)s)"
    )
    base_times, engine_times, agree = [], [], 0
    mine_sql = text(
        "SELECT CASE WHEN work_a_id = :id THEN work_b_id ELSE work_a_id END FROM clashes"
        " WHERE (work_a_id = :id OR work_b_id = :id) AND status <> 'resolved'"
    )
    with Session(engine) as session:
        for work_id in ids:
            session.execute(
                text(
                    "UPDATE works SET start_date = start_date + 7, end_date = end_date + 7"
                    " WHERE id = :id"
                ),
                {"id": work_id},
            )
            session.commit()
            t = time.perf_counter()
            base = {r[0] for r in raw.execute(lookup, {**params, "id": work_id}).fetchall()}
            base_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            kip_engine.recompute_works(session, [work_id])
            session.commit()
            engine_times.append(time.perf_counter() - t)
            agree += set(session.execute(mine_sql, {"id": work_id}).scalars()) == base
    print(
        f"  single work ({samples} samples): baseline lookup p50 {percentile(base_times, 50):.2f}"
        f" / p99 {percentile(base_times, 99):.2f} ms | engine found and stored p50 "
        f"{percentile(engine_times, 50):.2f} / p99 {percentile(engine_times, 99):.2f} ms | "
        f"identical: {agree}/{samples}"
    )
    raw.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    bind_srid(SRID)
    for n in (int(s) for s in args.sizes.split(",")):
        bench(args.url, n, args.samples)


if __name__ == "__main__":
    main()
