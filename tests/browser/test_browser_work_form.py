"""The work form in a real browser: draw on the map, fill in, save, and see it stored."""

from __future__ import annotations

import re

import pytest
from pyproj import Transformer
from sqlalchemy import func, select, text

from kip.models import Work

TO_RD = Transformer.from_crs(4326, 28992, always_xy=True)
# Metres: about one screen pixel at the form map's zoom (14) in the Netherlands.
TOLERANCE = 6


@pytest.fixture
def planner(live_server):
    return live_server.make_user("planner")


def wait_for_map(page) -> None:
    page.wait_for_selector(".draw-map[data-ready=true]")


def map_box(page) -> dict:
    return page.locator(".kip-map").bounding_box()


def point_at(box: dict, fx: float, fy: float) -> tuple[int, int]:
    """A whole-pixel point at fractions (fx, fy) of the map's box (browsers click on pixels)."""
    return round(box["x"] + fx * box["width"]), round(box["y"] + fy * box["height"])


def lnglat(page, x: float, y: float) -> tuple[float, float]:
    """Where the page point (x, y) is on the map, as (lon, lat)."""
    latlng = page.evaluate(
        """([x, y]) => {
            const el = document.querySelector('.kip-map');
            const r = el.getBoundingClientRect();
            const ll = el.kipMap.containerPointToLatLng([x - r.left, y - r.top]);
            return [ll.lng, ll.lat];
        }""",
        [x, y],
    )
    return latlng[0], latlng[1]


# Leaflet.draw ignores a click that follows the previous one within 50 ms; a person never
# clicks that fast, a test does. This marks when the tool takes clicks again.
_WATCH_DRAW = """() => {
    if (window.kipDrawBusy !== undefined) { return; }
    const P = L.Draw.Polyline.prototype;
    const disable = P._disableNewMarkers, enable = P._enableNewMarkers;
    window.kipDrawBusy = false;
    P._disableNewMarkers = function () { window.kipDrawBusy = true; return disable.call(this); };
    P._enableNewMarkers = function () {
        enable.call(this);
        setTimeout(() => { window.kipDrawBusy = false; }, 60);
    };
}"""


def _click_vertices(page, points: list[tuple[float, float]]) -> None:
    page.evaluate(_WATCH_DRAW)
    for i, (x, y) in enumerate(points, start=1):
        page.wait_for_function("() => !window.kipDrawBusy")
        page.mouse.move(x, y, steps=4)
        page.mouse.click(x, y)
        # Leaflet.draw puts a vertex marker on every accepted click: wait for it.
        page.wait_for_function(
            "n => document.querySelectorAll('.leaflet-editing-icon').length >= n", arg=i
        )


def drawn_shapes(page) -> int:
    return int(page.locator(".draw-map").get_attribute("data-shapes"))


def draw_polygon(page, offsets: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Draw a polygon through points given as fractions of the map's size; their (lon, lat)."""
    box = map_box(page)
    points = [point_at(box, fx, fy) for fx, fy in offsets]
    before = drawn_shapes(page)
    page.click(".leaflet-draw-draw-polygon")
    _click_vertices(page, points)
    page.click(".leaflet-draw-actions a[title='Finish drawing']:visible")
    page.wait_for_function(
        "n => document.querySelector('.draw-map').dataset.shapes == n", arg=str(before + 1)
    )
    return [lnglat(page, x, y) for x, y in points]


def draw_line(page, offsets: list[tuple[float, float]]) -> list[tuple[float, float]]:
    box = map_box(page)
    points = [point_at(box, fx, fy) for fx, fy in offsets]
    before = drawn_shapes(page)
    page.click(".leaflet-draw-draw-polyline")
    _click_vertices(page, points)
    page.click(".leaflet-draw-actions a[title='Finish drawing']:visible")
    page.wait_for_function(
        "n => document.querySelector('.draw-map').dataset.shapes == n", arg=str(before + 1)
    )
    return [lnglat(page, x, y) for x, y in points]


def draw_point(page, fx: float, fy: float) -> tuple[float, float]:
    box = map_box(page)
    x, y = point_at(box, fx, fy)
    before = drawn_shapes(page)
    page.click(".leaflet-draw-draw-marker")
    page.mouse.click(x, y)
    page.wait_for_function(
        "n => document.querySelector('.draw-map').dataset.shapes == n", arg=str(before + 1)
    )
    return lnglat(page, x, y)


def _fill_and_save(page, title: str, **fields: str) -> None:
    page.fill("#title", title)
    page.select_option("#discipline", fields.pop("discipline", "sewer"))
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    with page.expect_navigation():
        page.click("form.draw-form button[type=submit]")


def _stored(live_server, work_id: int) -> tuple[int, str, float, float]:
    with live_server.engine.connect() as conn:
        return conn.execute(
            select(
                func.ST_SRID(Work.geom),
                func.GeometryType(Work.geom),
                func.ST_X(func.ST_Centroid(Work.geom)),
                func.ST_Y(func.ST_Centroid(Work.geom)),
            ).where(Work.id == work_id)
        ).one()


def _work_id(page, live_server) -> int:
    match = re.fullmatch(rf"{re.escape(live_server.url)}/works/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def test_draw_a_polygon_and_save_it(page, live_server, login, planner, foreign_requests):
    login(page, planner)
    page.click("text=Nieuw werk")
    assert page.url == f"{live_server.url}/works/new"
    wait_for_map(page)
    corners = draw_polygon(page, [(0.5, 0.5), (0.8, 0.5), (0.8, 0.8), (0.5, 0.8)])
    _fill_and_save(page, "Groot onderhoud Stationsplein")

    assert page.locator("h1").inner_text() == "Groot onderhoud Stationsplein"
    srid, kind, x, y = _stored(live_server, _work_id(page, live_server))
    assert srid == 28992 and kind == "POLYGON"
    rd = [TO_RD.transform(lon, lat) for lon, lat in corners]
    cx, cy = sum(p[0] for p in rd) / 4, sum(p[1] for p in rd) / 4
    assert abs(x - cx) < TOLERANCE and abs(y - cy) < TOLERANCE
    assert foreign_requests(page) == []


def test_a_line_and_a_point(page, live_server, login, planner):
    login(page, planner)
    page.goto(f"{live_server.url}/works/new")
    wait_for_map(page)
    ends = draw_line(page, [(0.45, 0.6), (0.9, 0.6)])
    _fill_and_save(page, "Nieuwe kabel")
    srid, kind, x, y = _stored(live_server, _work_id(page, live_server))
    (ax, ay), (bx, by) = (TO_RD.transform(*p) for p in ends)
    assert srid == 28992 and kind == "LINESTRING"
    assert abs(x - (ax + bx) / 2) < TOLERANCE and abs(y - (ay + by) / 2) < TOLERANCE

    page.goto(f"{live_server.url}/works/new")
    wait_for_map(page)
    lon, lat = draw_point(page, 0.6, 0.6)
    _fill_and_save(page, "Nieuwe lantaarnpaal", discipline="lighting")
    srid, kind, x, y = _stored(live_server, _work_id(page, live_server))
    ex, ey = TO_RD.transform(lon, lat)
    assert srid == 28992 and kind == "POINT"
    assert abs(x - ex) < TOLERANCE and abs(y - ey) < TOLERANCE


def test_two_polygons_make_one_multipolygon(page, live_server, login, planner):
    login(page, planner)
    page.goto(f"{live_server.url}/works/new")
    wait_for_map(page)
    draw_polygon(page, [(0.45, 0.45), (0.6, 0.45), (0.6, 0.6)])
    draw_polygon(page, [(0.7, 0.7), (0.85, 0.7), (0.85, 0.85)])
    _fill_and_save(page, "Twee plantvakken", discipline="green")
    _srid, kind, _x, _y = _stored(live_server, _work_id(page, live_server))
    assert kind == "MULTIPOLYGON"


def test_messages_appear_next_to_the_fields(page, live_server, login, planner):
    login(page, planner)
    page.goto(f"{live_server.url}/works/new")
    wait_for_map(page)
    _fill_and_save(page, "Zonder vorm")
    assert "Teken het werk op de kaart" in page.inner_text("#geometry-error")
    assert page.input_value("#title") == "Zonder vorm"

    wait_for_map(page)
    draw_point(page, 0.5, 0.5)
    _fill_and_save(page, "Verkeerde datums", start_date="2027-05-01", end_date="2027-04-01")
    assert page.inner_text("#end_date-error") == "De einddatum ligt voor de begindatum."
    assert page.locator("#end_date-error").is_visible()
    # What was drawn is drawn again.
    wait_for_map(page)
    assert drawn_shapes(page) == 1
    assert page.locator(".kip-map .leaflet-marker-icon").count() == 1


def test_editing_a_stale_version_shows_the_conflict(page, live_server, login, planner):
    from kip.actors import Actor
    from kip.db import unit_of_work
    from kip.services.works import WorkData, get_work, update_work

    work = live_server.make_work(planner.organisation)
    login(page, planner)
    page.goto(f"{live_server.url}/works/{work.id}")
    with page.expect_navigation():
        page.click("text=Bewerken")
    wait_for_map(page)
    assert drawn_shapes(page) == 1  # the stored line is on the map, ready to edit

    with unit_of_work(live_server.app) as session:  # somebody else saves meanwhile
        current = get_work(session, work.id)
        data = WorkData(
            title="Gewijzigd door een collega",
            discipline=current.discipline_code,
            phase=current.phase_code,
            geometry=__import__("kip.geo", fromlist=["from_db"]).from_db(current.geom),
            start_date=current.start_date,
            end_date=current.end_date,
        )
        update_work(session, Actor.system("colleague"), current, data, current.version)

    page.fill("#title", "Mijn wijziging")
    with page.expect_response(
        lambda r: r.url.endswith("/edit") and r.request.method == "POST"
    ) as r:
        page.click("form.draw-form button[type=submit]")
    assert r.value.status == 409
    page.wait_for_load_state()
    assert "Iemand anders heeft dit werk opgeslagen" in page.inner_text("main")
    assert page.input_value("#title") == "Mijn wijziging"
    with live_server.engine.connect() as conn:
        title = conn.execute(text("SELECT title FROM works WHERE id = :id"), {"id": work.id})
        assert title.scalar_one() == "Gewijzigd door een collega"


def test_a_planner_of_another_organisation_gets_403(page, live_server, login, planner):
    work = live_server.make_work(live_server.make_org(), visibility="partners")
    login(page, planner)
    response = page.goto(f"{live_server.url}/works/{work.id}/edit")
    assert response.status == 403
    page.goto(f"{live_server.url}/works/{work.id}")
    assert page.locator("text=Bewerken").count() == 0


def test_no_request_leaves_for_another_host(page, live_server, login, planner, foreign_requests):
    work = live_server.make_work(planner.organisation)
    login(page, planner)
    page.goto(f"{live_server.url}/works/{work.id}/edit")
    wait_for_map(page)
    # The works show although no tile could load.
    assert page.locator(".kip-map .leaflet-overlay-pane path").count() == 1
    tiles = [u for u in page.kip_requests if live_server.tile_host in u]
    assert tiles, "the map should have asked for tiles (and been refused)"
    page.goto(f"{live_server.url}/works/new")
    wait_for_map(page)
    draw_point(page, 0.5, 0.5)
    _fill_and_save(page, "Alleen eigen host")
    assert foreign_requests(page) == []
    assert all(
        u.startswith(live_server.url) or live_server.tile_host in u for u in page.kip_requests
    )
