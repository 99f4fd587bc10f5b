"""Bulk import speed: KIP's import of a 100,000-feature GeoPackage against the floor.

The floor is what an expert's plain load costs (``ogr2ogr``-style): read the same file
with pyogrio and COPY it into a plain table with a GiST index, no checks, no history.
KIP's import does the whole job: read, map the columns, check and reproject every
geometry, classify by external reference (rows whose reference is known are staged and
compared), COPY the new works and their history, and compute the clashes of every work
it created. The "schema floor" in between is the same COPY straight into KIP's works
table, whose foreign keys, checks and GiST index cost what they cost whoever loads it.

    KIP_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/import_bench.py [--features 100000] [--rounds 3]

Each round measures all four side by side (the machine's speed may drift between rounds);
the figures at the end are medians, each ratio taken within its round.

It creates a throwaway database on that server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kip import create_app, migrate
from kip.actors import Actor
from kip.config import normalise_database_url
from kip.db import database, unit_of_work
from kip.services.imports import ImportSettings, import_file
from kip.services.organisations import add_organisation

SRID = 28992
DISCIPLINES = [
    "riolering",
    "drinkwater",
    "gas",
    "elektriciteit",
    "warmtenet",
    "glasvezel",
    "weg en verharding",
    "groen",
    "openbare verlichting",
]
PHASES = ["initiatief", "ontwerp", "gepland", "definitief", "in uitvoering"]


def write_plan(path: Path, n: int) -> None:
    """A deterministic plan: points, lines and polygons spread over the Netherlands (RD)."""
    rng = np.random.default_rng(20270301)
    x = rng.uniform(120_000, 240_000, n)
    y = rng.uniform(420_000, 520_000, n)
    kind = np.arange(n) % 3
    dx = rng.uniform(20, 200, n)
    geometries = np.empty(n, dtype=object)
    points = kind == 0
    geometries[points] = shapely.points(x[points], y[points])
    lines = kind == 1
    coords = np.stack(
        [
            np.column_stack([x, y]),
            np.column_stack([x + dx, y + dx / 3]),
            np.column_stack([x + 2 * dx, y]),
        ],
        axis=1,
    )
    geometries[lines] = shapely.linestrings(coords[lines])
    polys = kind == 2
    boxes = shapely.box(x, y, x + dx, y + dx / 2)
    geometries[polys] = boxes[polys]
    start = np.datetime64("2027-01-01") + rng.integers(0, 900, n).astype("timedelta64[D]")
    end = start + rng.integers(1, 400, n).astype("timedelta64[D]")
    ids = np.arange(1, n + 1)
    fields = {
        "kenmerk": np.array([f"W-{i:07d}" for i in ids], dtype=object),
        "titel": np.array([f"Werk {i}" for i in ids], dtype=object),
        "omschrijving": np.array(
            [f"Onderdeel {i % 97} van het programma" for i in ids], dtype=object
        ),
        "vakdiscipline": np.array(DISCIPLINES, dtype=object)[ids % len(DISCIPLINES)],
        "fase": np.array(PHASES, dtype=object)[ids % len(PHASES)],
        "startdatum": start,
        "einddatum": end,
        "graaf": (ids % 2 == 0),
    }
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(geometries),
        list(fields.values()),
        fields=list(fields),
        geometry_type="Unknown",
        crs=f"EPSG:{SRID}",
        driver="GPKG",
    )


def floor(engine, path: Path) -> tuple[float, int]:
    """pyogrio read + COPY into a plain table with a spatial index: the expert's floor."""
    t0 = time.perf_counter()
    meta, _fids, wkb, data = pyogrio.raw.read(str(path))
    hexes = shapely.to_wkb(
        shapely.set_srid(shapely.from_wkb(wkb), SRID), hex=True, include_srid=True
    )
    names = list(meta["fields"])
    columns = [d.astype(str) if d.dtype.kind == "M" else d for d in data]
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS floor_load"))
        conn.execute(
            text(
                "CREATE TABLE floor_load (fid serial PRIMARY KEY, "
                + ", ".join(f"{n} text" for n in names)
                + f", geom geometry(Geometry, {SRID}))"
            )
        )
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY floor_load ({', '.join(names)}, geom) FROM STDIN") as copy:
            for record in zip(*columns, hexes, strict=True):
                copy.write_row(record)
        conn.execute(text("CREATE INDEX ON floor_load USING gist (geom)"))
    return time.perf_counter() - t0, len(hexes)


def schema_floor(engine, path: Path, org_id: int) -> float:
    """pyogrio read + COPY straight into KIP's works table (its indexes, constraints and
    foreign keys), no checks, no history; rolled back. What the schema alone costs."""
    t0 = time.perf_counter()
    meta, _fids, wkb, data = pyogrio.raw.read(str(path))
    hexes = shapely.to_wkb(
        shapely.set_srid(shapely.from_wkb(wkb), SRID), hex=True, include_srid=True
    )
    f = dict(zip(meta["fields"], data, strict=True))
    discipline = {
        d: c
        for d, c in zip(
            DISCIPLINES,
            [
                "sewer",
                "water",
                "gas",
                "electricity",
                "district_heating",
                "telecom",
                "road",
                "green",
                "lighting",
            ],
            strict=True,
        )
    }
    phase = dict(
        zip(PHASES, ["initiative", "design", "planned", "final", "in_progress"], strict=True)
    )
    rows = zip(
        f["kenmerk"],
        f["titel"],
        [discipline[d] for d in f["vakdiscipline"]],
        [phase[p] for p in f["fase"]],
        f["startdatum"].astype(str),
        f["einddatum"].astype(str),
        hexes,
        strict=True,
    )
    with engine.connect() as conn:
        tx = conn.begin()
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy(
            "COPY works (organisation_id, external_ref, title, discipline_code, phase_code, "
            "start_date, end_date, geom) FROM STDIN"
        ) as copy:
            for record in rows:
                copy.write_row((org_id, *record))
        elapsed = time.perf_counter() - t0
        tx.rollback()
    return elapsed


def kip_import(app, path: Path, org_id: int) -> tuple[float, dict]:
    """The whole import, committed; prints how long each step took."""
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    with app.app_context(), unit_of_work() as session:
        report = import_file(
            session,
            Actor.system("bench"),
            org_id,
            path,
            settings=ImportSettings.from_config(app.config),
            progress=lambda label, _done: marks.append((label, time.perf_counter())),
        )
        marks.append(("commit", time.perf_counter()))
    marks.append(("end", time.perf_counter()))
    steps = [
        f"{label} {(later - at):.2f}s" for (label, at), (_next, later) in itertools.pairwise(marks)
    ]
    print("    steps: " + ", ".join(steps))
    return time.perf_counter() - t0, report.counts()


def measure_round(app, engine, path: Path, org_id: int) -> dict[str, float]:
    """One round, side by side: the floor, the schema floor, KIP's import into an empty
    works table, and the re-import of the same file; then the works are taken out again."""
    floor_s, n = floor(engine, path)
    schema_s = schema_floor(engine, path, org_id)
    # The schema floor's rolled-back rows would otherwise burden KIP's own insert.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE works"))
    first_s, first = kip_import(app, path, org_id)
    again_s, again = kip_import(app, path, org_id)
    assert (first["create"], again["unchanged"]) == (n, n), (first, again)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("TRUNCATE works CASCADE"))
        conn.execute(text("VACUUM ANALYZE"))
    print(
        f"  round: floor {floor_s:.2f} s, schema floor {schema_s:.2f} s, "
        f"import {first_s:.2f} s ({first_s / floor_s:.2f}x the floor), "
        f"re-import {again_s:.2f} s ({again_s / floor_s:.2f}x)"
    )
    return {"n": n, "floor": floor_s, "schema": schema_s, "first": first_s, "again": again_s}


def report(rounds: list[dict[str, float]]) -> None:
    """Medians over the rounds; each ratio is taken within its round, then the median."""
    n = rounds[0]["n"]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def ratio(key: str, base: str = "floor") -> float:
        return statistics.median(r[key] / r[base] for r in rounds)

    print(f"medians of {len(rounds)} round(s), {n:,} features:")
    print(
        f"floor  (pyogrio read + COPY + GiST index): {median('floor'):6.2f} s "
        f"{n / median('floor'):9,.0f} features/s"
    )
    print(
        f"schema floor (read + COPY into works, no checks, no history): "
        f"{median('schema'):6.2f} s {n / median('schema'):9,.0f} features/s   "
        f"ratio {ratio('schema'):.2f}x the floor"
    )
    print(
        f"kip import, all new: {median('first'):6.2f} s "
        f"{n / median('first'):9,.0f} features/s   ratio {ratio('first'):.2f}x the floor, "
        f"{ratio('first', 'schema'):.2f}x the schema floor"
    )
    print(
        f"kip re-import, same file, all unchanged: {median('again'):6.2f} s "
        f"{n / median('again'):9,.0f} features/s   ratio {ratio('again'):.2f}x the floor"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of floor, schema floor, import and re-import, each on an empty works table",
    )
    args = parser.parse_args()
    server = os.environ.get("KIP_TEST_DATABASE_URL") or os.environ.get("KIP_DATABASE_URL")
    if not server:
        sys.exit("set KIP_TEST_DATABASE_URL to a PostgreSQL server where databases may be made")
    server_url = make_url(normalise_database_url(server))
    name = f"kip_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server_url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_engine(url)
        migrate.upgrade(engine, SRID)
        engine.dispose()
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["KIP_INSTANCE_PATH"] = tmp
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SRID": SRID})
            path = Path(tmp) / "plan.gpkg"
            t0 = time.perf_counter()
            write_plan(path, args.features)
            print(
                f"wrote {args.features:,} features ({path.stat().st_size / 1e6:.1f} MB) "
                f"in {time.perf_counter() - t0:.1f} s"
            )
            with app.app_context(), unit_of_work() as session:
                org_id = add_organisation(session, Actor.system("bench"), "Bench", "other").id
            engine = database(app).engine

            rounds = [measure_round(app, engine, path, org_id) for _ in range(args.rounds)]
            report(rounds)
            database(app).dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
