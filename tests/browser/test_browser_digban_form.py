"""The dig-ban form in a real browser: draw a rectangle, save the ban, open it again, end it."""

from __future__ import annotations

from datetime import date

import pytest
from pyproj import Transformer
from sqlalchemy import func, select

from kip.models import DigBan

from .test_browser_work_form import TOLERANCE, drawn_shapes, lnglat, map_box, point_at, wait_for_map

TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)


@pytest.fixture
def coordinator(live_server):
    return live_server.make_user("coordinator")


def draw_rectangle(page, corner: tuple[float, float], opposite: tuple[float, float]) -> list:
    """Drag a rectangle between two corners given as fractions of the map's size; the
    (lon, lat) of the two corners."""
    box = map_box(page)
    (x0, y0), (x1, y1) = point_at(box, *corner), point_at(box, *opposite)
    before = drawn_shapes(page)
    page.click(".leaflet-draw-draw-rectangle")
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "n => document.querySelector('.draw-map').dataset.shapes == n", arg=str(before + 1)
    )
    return [lnglat(page, x0, y0), lnglat(page, x1, y1)]


def _stored(live_server, title: str) -> tuple[int, int, str, int, tuple[float, ...], date]:
    with live_server.engine.connect() as conn:
        return conn.execute(
            select(
                DigBan.id,
                func.ST_SRID(DigBan.geom),
                func.GeometryType(DigBan.geom),
                func.ST_NPoints(DigBan.geom),
                func.ST_XMin(DigBan.geom),
                func.ST_YMin(DigBan.geom),
                func.ST_XMax(DigBan.geom),
                func.ST_YMax(DigBan.geom),
                DigBan.end_date,
            ).where(DigBan.title == title)
        ).one()


def test_draw_a_rectangle_save_the_ban_and_end_it(
    page, live_server, login, coordinator, foreign_requests
):
    login(page, coordinator)
    with page.expect_navigation():
        page.click("header >> text=Graafverboden")
    with page.expect_navigation():
        page.click("text=Nieuw graafverbod")
    assert page.url == f"{live_server.url}/digbans/new"
    wait_for_map(page)
    # Areas only: no tool for points or lines.
    assert page.locator(".leaflet-draw-draw-marker, .leaflet-draw-draw-polyline").count() == 0
    corners = draw_rectangle(page, (0.45, 0.4), (0.75, 0.7))
    page.fill("#title", "Nieuw asfalt Stationsplein")
    page.fill("#reason", "Nieuwe deklaag")
    assert page.input_value("#start_date") == date.today().isoformat()
    with page.expect_navigation():
        page.click("form.draw-form button[type=submit]")

    assert page.url == f"{live_server.url}/digbans"
    assert "Het graafverbod is opgeslagen." in page.inner_text("main")
    ban_id, srid, kind, points, *bounds, _end = _stored(live_server, "Nieuw asfalt Stationsplein")
    assert (srid, kind, points) == (28992, "POLYGON", 5)
    # A rectangle in lon/lat is turned a little in RD New: compare with all four corners.
    (lon0, lat0), (lon1, lat1) = corners
    rd = [TO_RD.transform(lon, lat) for lon in (lon0, lon1) for lat in (lat0, lat1)]
    xs, ys = [x for x, _y in rd], [y for _x, y in rd]
    expected = (min(xs), min(ys), max(xs), max(ys))
    assert all(abs(got - want) < TOLERANCE for got, want in zip(bounds, expected, strict=True))

    with page.expect_navigation():
        page.click("text=Nieuw asfalt Stationsplein")
    assert page.url == f"{live_server.url}/digbans/{ban_id}/edit"
    wait_for_map(page)
    assert drawn_shapes(page) == 1  # the stored area is on the map, ready to edit
    with page.expect_navigation():
        page.click("text=Dit graafverbod beëindigen")
    assert "Het graafverbod eindigt vandaag." in page.inner_text("main")
    assert _stored(live_server, "Nieuw asfalt Stationsplein")[-1] == date.today()
    assert foreign_requests(page) == []


def test_a_ban_outside_the_region_is_refused_next_to_the_map(page, live_server, login, coordinator):
    login(page, coordinator)
    page.goto(f"{live_server.url}/digbans/new")
    wait_for_map(page)
    # Move the map far out of the region (the Atlantic), then draw there.
    page.evaluate("() => document.querySelector('.kip-map').kipMap.setView([45.0, -20.0], 14)")
    draw_rectangle(page, (0.4, 0.4), (0.6, 0.6))
    page.fill("#title", "Op zee")
    with page.expect_response(lambda r: r.url.endswith("/digbans/new")) as response:
        page.click("form.draw-form button[type=submit]")
    assert response.value.status == 422
    page.wait_for_load_state()
    assert "buiten de regio" in page.inner_text("#geometry-error")
    wait_for_map(page)
    assert drawn_shapes(page) == 1  # what was drawn is drawn again
    assert page.input_value("#title") == "Op zee"
