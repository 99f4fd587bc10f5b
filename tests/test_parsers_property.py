"""Hypothesis on the parsers that meet the outside world: geometry, dates, numbers, bboxes.

Whatever comes in, a parser answers with a value or with its own clear error, never with
anything else (which would become a 500 or a traceback)."""

from __future__ import annotations

from datetime import date

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from kip.errors import ValidationError
from kip.io.geometry import prepare_geometries
from kip.io.values import BadValue, boolean, decimal, period_bounds
from kip.services.search import parse_bbox

REGION = (3.2, 50.7, 7.3, 53.6)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=3, max_value=8),
    st.floats(min_value=50, max_value=54),
    st.integers(min_value=-(10**20), max_value=10**20),
)
positions = st.lists(numbers, min_size=0, max_size=4)
coordinates = st.recursive(positions, lambda inner: st.lists(inner, max_size=5), max_leaves=40)
geometries = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "Point",
                "LineString",
                "Polygon",
                "MultiPoint",
                "MultiLineString",
                "MultiPolygon",
                "GeometryCollection",
                "Circle",
            ]
        ),
        "coordinates": st.one_of(coordinates, st.text(max_size=5), st.none()),
    }
)


@SETTINGS
@given(geometries)
def test_any_geojson_geometry_is_stored_right_or_refused_with_a_reason(geometry):
    from shapely.geometry import shape

    try:
        geom = shape(geometry)
    except Exception:  # the API turns these into "malformed coordinates"
        return
    result, problems = prepare_geometries(
        np.array([geom], dtype=object), CRS.from_epsg(4326), 28992, REGION
    )
    if problems:
        assert set(problems) == {0} and isinstance(problems[0], str) and problems[0]
        assert result[0] is None
    else:
        stored = result[0]
        assert shapely.is_valid(stored) and not stored.is_empty
        assert stored.geom_type in {
            "Point",
            "LineString",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
        }
        x0, y0, x1, y1 = stored.bounds  # RD New around the Netherlands and Flanders
        assert -100_000 < x0 <= x1 < 400_000 and 200_000 < y0 <= y1 < 700_000


@SETTINGS
@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.dates(), st.none()))
def test_period_values_give_an_ordered_span_or_a_bad_value(value):
    try:
        start, end, precision = period_bounds(value)
    except BadValue as problem:
        assert str(problem)
        return
    assert isinstance(start, date) and isinstance(end, date) and start <= end
    assert precision in {"day", "month", "quarter", "year"}


@SETTINGS
@given(st.dates())
def test_every_written_date_reads_back(day):
    assert period_bounds(day.isoformat())[:2] == (day, day)


@SETTINGS
@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=4))
def test_quarters_cover_three_months(year, quarter):
    start, end, precision = period_bounds(f"{year:04d}-Q{quarter}")
    assert precision == "quarter"
    assert start == date(year, 3 * quarter - 2, 1)
    assert (end.month, end.year) == (3 * quarter, year)


@SETTINGS
@given(st.one_of(st.text(max_size=12), st.floats(), st.integers(), st.booleans()))
def test_numbers_and_yes_no_never_crash(value):
    for parser in (decimal, boolean):
        try:
            parser(value)
        except BadValue as problem:
            assert str(problem)


@SETTINGS
@given(st.text(max_size=40))
def test_bbox_text_is_four_ordered_numbers_or_a_validation_error(text):
    try:
        minlon, minlat, maxlon, maxlat = parse_bbox(text)
    except ValidationError as problem:
        assert "bbox" in problem.message
        return
    assert -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90
