"""A deterministic synthetic town of N works, for the engine benchmark.

A square grid of streets 100 m apart, sized so that there are about 20 works per km of
street; works lie along the streets: lines (cables, pipes, sewers: 20-300 m, a few metres
off the street's axis), areas (a junction, a stretch of pavement: boxes) and points
(a connection, a manhole), with periods spread over ten years. The same N and seed give
the same town, byte for byte.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely

BLOCK_M = 100.0
WORKS_PER_KM = 20
DAY0 = date(2026, 1, 1)
DISCIPLINES = np.array(
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
        "traffic",
    ]
)
PHASES = np.array(
    ["initiative", "design", "planned", "final", "in_progress", "completed", "cancelled"]
)
IMPACTS = np.array(["none", "lane", "closure"])


@dataclass
class Works:
    geoms: np.ndarray
    start: np.ndarray  # days since DAY0
    end: np.ndarray
    discipline: np.ndarray
    phase: np.ndarray
    excavation: np.ndarray
    impact: np.ndarray
    organisation: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)


def grid_size(n: int) -> int:
    """Streets per direction, so that the grid's length gives ~20 works per km."""
    km = n / WORKS_PER_KM
    return max(2, round((km * 1000 / (2 * BLOCK_M)) ** 0.5))


def generate(n: int, *, seed: int = 4, origin=(100000.0, 400000.0), organisations: int = 12):
    """N works of a town whose size follows from N."""
    rng = np.random.default_rng(seed)
    k = grid_size(n)
    extent = k * BLOCK_M
    horizontal = rng.random(n) < 0.5
    street = rng.integers(0, k, n) * BLOCK_M
    along = rng.random(n) * extent
    offset = rng.normal(0, 3, n)
    kind = rng.choice(3, n, p=[0.6, 0.25, 0.15])  # line, area, point
    length = np.where(kind == 0, rng.uniform(20, 300, n), rng.uniform(10, 80, n))
    width = rng.uniform(6, 20, n)
    x0, y0 = origin

    def xy(a, o):
        return (
            np.where(horizontal, x0 + a, x0 + street + o),
            np.where(horizontal, y0 + street + o, y0 + a),
        )

    ax, ay = xy(along, offset)
    bx, by = xy(np.minimum(along + length, extent), offset)
    geoms = np.empty(n, dtype=object)
    lines = kind == 0
    geoms[lines] = shapely.linestrings(
        np.stack([np.stack([ax, ay], -1), np.stack([bx, by], -1)], 1)[lines]
    )
    areas = kind == 1
    half = width / 2
    geoms[areas] = shapely.box(
        np.minimum(ax, bx) - np.where(horizontal, 0, half),
        np.minimum(ay, by) - np.where(horizontal, half, 0),
        np.maximum(ax, bx) + np.where(horizontal, 0, half),
        np.maximum(ay, by) + np.where(horizontal, half, 0),
    )[areas]
    points = kind == 2
    geoms[points] = shapely.points(ax, ay)[points]
    start = rng.integers(0, 3650, n)
    duration = np.clip(rng.lognormal(3.5, 1.0, n), 1, 400).astype(np.int64)
    return Works(
        geoms=geoms,
        start=start,
        end=start + duration - 1,
        discipline=rng.choice(DISCIPLINES, n),
        phase=rng.choice(PHASES, n, p=[0.1, 0.2, 0.3, 0.15, 0.1, 0.1, 0.05]),
        excavation=rng.random(n) < 0.6,
        impact=rng.choice(IMPACTS, n, p=[0.5, 0.35, 0.15]),
        organisation=rng.integers(0, organisations, n),
    )


def copy_text(works: Works, srid: int, organisation_ids: list[int], first: int = 0) -> bytes:
    """The works as COPY text rows for ``works`` (columns as :data:`COPY_COLUMNS`)."""
    hexes = shapely.to_wkb(shapely.set_srid(works.geoms, srid), hex=True, include_srid=True)
    start = np.datetime64(DAY0) + works.start
    end = np.datetime64(DAY0) + works.end
    orgs = np.asarray(organisation_ids)[works.organisation]
    out = io.StringIO()
    for i in range(len(works)):
        out.write(
            f"{orgs[i]}\twork {first + i}\t{works.discipline[i]}\t{works.phase[i]}\t{hexes[i]}"
            f"\t{start[i]}\t{end[i]}\t{'t' if works.excavation[i] else 'f'}\t{works.impact[i]}\n"
        )
    return out.getvalue().encode()


COPY_COLUMNS = (
    "organisation_id, title, discipline_code, phase_code, geom, start_date, end_date, "
    "excavation, traffic_impact"
)
