"""Geometry helpers: EWKB for a binary COPY, read back by PostGIS as sent."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from kip.geo import ewkb

SHAPES = [
    shapely.Point(174000.5, 450000.25),
    shapely.Point(1, 2, 3),
    shapely.LineString([(0, 0), (10, 5), (20, 0)]),
    shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (4, 2), (4, 4), (2, 2)]]),
    shapely.MultiLineString(
        [
            [(0, 0), (1, 1)],
            [
                (2, 2),
                (
                    3,
                    3,
                ),
            ],
        ]
    ),
    shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
    shapely.LineString([(0, 0, 1), (1, 1, 2)]),
    shapely.GeometryCollection([shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)])]),
    shapely.Polygon(),
]


def test_ewkb_is_what_shapely_writes_with_the_srid_set() -> None:
    made = ewkb(np.array([*SHAPES, None], dtype=object), 28992)

    expected = shapely.to_wkb(
        shapely.set_srid(np.array(SHAPES), 28992), include_srid=True, byte_order=1
    )
    assert made[:-1].tolist() == expected.tolist()
    assert made[-1] is None
    assert ewkb(np.array([], dtype=object), 28992).tolist() == []


def test_postgis_reads_ewkb_with_its_srid(session: Session) -> None:
    made = ewkb(np.array(SHAPES, dtype=object), 4326)

    read = session.execute(
        text(
            "SELECT ST_SRID(g), ST_AsBinary(g) FROM unnest(CAST(:w AS bytea[])) AS t(e), "
            "LATERAL (SELECT ST_GeomFromEWKB(e) AS g) AS x"
        ),
        {"w": made.tolist()},
    ).all()

    assert [srid for srid, _ in read] == [4326] * len(SHAPES)
    back = shapely.from_wkb([bytes(wkb) for _, wkb in read])
    assert all(
        a.equals_exact(b, 0) or (a.is_empty and b.is_empty)
        for a, b in zip(back, SHAPES, strict=True)
    )
    assert [g.has_z for g in back] == [g.has_z for g in SHAPES]
