"""The public map and the integrated plan in a real browser: what a resident and a
coordinator see, what the time filter and the layer control change, and what never leaks."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pyproj import Transformer
from shapely import LineString, Point

TO_WGS84 = Transformer.from_crs(28992, 4326, always_xy=True)
# A corner of RD space no other browser test uses.
X0, Y0 = 181000.0, 441000.0
LON, LAT = TO_WGS84.transform(X0 + 50, Y0)


@pytest.fixture(scope="module")
def town(live_server):
    """Public works now and in three weeks, and two that the public must never see."""
    tag = uuid.uuid4().hex[:6]
    today = date.today()
    roads = live_server.make_org(f"Gemeente Kaartdorp Wegen {tag}")
    grid = live_server.make_org(f"Netwerk Kaartdorp {tag}", kind="grid_operator")
    now = live_server.make_work(
        roads,
        title=f"Nu-asfalt-{tag}",
        discipline="road",
        visibility="public",
        phase="planned",
        geometry=Point(X0, Y0),
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=10),
        traffic_impact="closure",
        excavation=True,
        contact_name="Jan de Vries",
        contact_email="wegen@example.org",
    )
    later = live_server.make_work(
        grid,
        title=f"Straks-kabel-{tag}",
        discipline="electricity",
        visibility="public",
        phase="planned",
        geometry=LineString([(X0, Y0 + 20), (X0 + 100, Y0 + 20)]),
        start_date=today + timedelta(days=20),
        end_date=today + timedelta(days=40),
    )
    secret = live_server.make_work(
        grid,
        title=f"GEHEIM-trace-{tag}",
        discipline="electricity",
        visibility="partners",
        phase="planned",
        geometry=LineString([(X0, Y0 + 10), (X0 + 100, Y0 + 10)]),
        start_date=today - timedelta(days=1),
        end_date=today + timedelta(days=30),
    )
    draft = live_server.make_work(
        grid,
        title=f"ONTWERP-nog-niet-{tag}",
        discipline="electricity",
        visibility="public",
        phase="design",
        geometry=Point(X0 + 30, Y0 - 10),
        start_date=today,
        end_date=today + timedelta(days=20),
    )
    return {"now": now, "later": later, "secret": secret, "draft": draft, "today": today}


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".kip-map[data-state=ready]")


def _reloaded(page, before: int) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('.kip-map');"
        " return e.dataset.state === 'ready' && Number(e.dataset.loads) > n; }",
        arg=before,
    )


def _type_period(page, start: str, end: str) -> None:
    """Type a period into the map's filter, as a visitor does, and let the page react."""
    page.evaluate(
        """([start, end]) => {
            const form = document.querySelector('form.map-filters');
            form.start.value = start;
            form.end.value = end;
            form.end.dispatchEvent(new Event('change', {bubbles: true}));
        }""",
        [start, end],
    )


def _loads(page) -> int:
    return int(page.locator(".kip-map").get_attribute("data-loads"))


def _listed(page) -> list[str]:
    return page.locator("#map-list li a").all_inner_texts()


def _drawn(page, work) -> int:
    return page.locator(f".kip-work-{work.id}").count()


def _here(period: str = "now", z: int = 17, **more: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in more.items())
    return f"/?lat={LAT:.5f}&lon={LON:.5f}&z={z}&period={period}{extra}"


def test_the_public_map_shows_current_works_with_a_popup(page, live_server, town, foreign_requests):
    _open(page, live_server.url + _here("now"))
    assert town["now"].title in _listed(page)
    assert town["later"].title not in _listed(page)
    assert _drawn(page, town["now"]) == 1
    assert _drawn(page, town["later"]) == 0
    page.locator(f".kip-work-{town['now'].id}").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert town["now"].title in text
    assert "Gemeente Kaartdorp Wegen" in text
    assert "weg afgesloten" in text and "opengebroken" in text  # the hindrance, in Dutch
    assert "Jan de Vries" in text and "wegen@example.org" in text
    assert foreign_requests(page) == []


def test_the_time_filter_changes_what_is_visible(page, live_server, town):
    _open(page, live_server.url + _here("now"))
    assert _drawn(page, town["later"]) == 0
    before = _loads(page)
    page.get_by_label("Komende 4 weken").check()
    _reloaded(page, before)
    assert {town["now"].title, town["later"].title} <= set(_listed(page))
    assert _drawn(page, town["later"]) >= 1
    # A chosen period after the current work: only the later one.
    start = (town["today"] + timedelta(days=15)).isoformat()
    end = (town["today"] + timedelta(days=50)).isoformat()
    before = _loads(page)
    _type_period(page, start, end)
    _reloaded(page, before)
    assert town["later"].title in _listed(page)
    assert town["now"].title not in _listed(page)
    query = parse_qs(urlsplit(page.url).query)
    assert query["period"] == ["custom"] and query["start"] == [start] and query["end"] == [end]


def test_a_period_that_ends_before_it_starts_shows_what_the_server_shows(page, live_server, town):
    """The server refuses such a period and the page shows the four weeks from today; the
    map shows and asks for those too (it swapped the dates once, showing another period)."""
    today = town["today"]
    start = (today + timedelta(days=50)).isoformat()
    end = (today + timedelta(days=15)).isoformat()
    four_weeks = [today.isoformat(), (today + timedelta(days=27)).isoformat()]

    def shown() -> list:
        return [
            page.locator("input[name=period][value='4w']").is_checked(),
            page.locator("input[name=start]").input_value(),
            page.locator("input[name=end]").input_value(),
        ]

    _open(page, live_server.url + _here("custom", start=start, end=end))
    assert shown() == [True, *four_weeks]
    assert {town["now"].title, town["later"].title} <= set(_listed(page))
    # The same when the visitor types such a period.
    _open(page, live_server.url + _here("now"))
    before = _loads(page)
    _type_period(page, start, end)
    _reloaded(page, before)
    assert shown() == [True, *four_weeks]
    assert {town["now"].title, town["later"].title} <= set(_listed(page))
    assert parse_qs(urlsplit(page.url).query)["period"] == ["4w"]


def test_a_non_public_work_never_reaches_the_public_map(page, live_server, town):
    bodies: list[str] = []
    own = urlsplit(live_server.url).netloc

    def keep(response) -> None:
        if urlsplit(response.url).netloc == own:
            # A redirect or an aborted request has no body.
            with contextlib.suppress(Exception):
                bodies.append(response.text())

    page.on("response", keep)
    wide = (town["today"] + timedelta(days=60)).isoformat()
    start = (town["today"] - timedelta(days=30)).isoformat()
    for z in (13, 17):
        _open(page, live_server.url + _here("custom", z=z, start=start, end=wide))
        shown = page.evaluate("() => document.querySelector('.kip-map').kipShown")
        assert town["now"].id in shown
        for hidden in ("secret", "draft"):
            assert town[hidden].id not in shown
            assert _drawn(page, town[hidden]) == 0
            assert town[hidden].title not in page.content()
    assert any(town["now"].title in body for body in bodies), "the map did fetch the works"
    for hidden in ("secret", "draft"):
        assert not [b for b in bodies if town[hidden].title in b]


def test_the_url_keeps_the_view_and_period(page, live_server, town):
    start = (town["today"] + timedelta(days=15)).isoformat()
    end = (town["today"] + timedelta(days=50)).isoformat()
    shared = _here("custom", z=16, start=start, end=end, discipline="electricity")
    _open(page, live_server.url + shared)
    state = page.evaluate(
        """() => { const m = document.querySelector('.kip-map').kipMap;
                   const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }"""
    )
    assert state[0] == pytest.approx(LAT, abs=1e-4)
    assert state[1] == pytest.approx(LON, abs=1e-4)
    assert state[2] == 16
    assert page.locator("input[name=period][value=custom]").is_checked()
    assert page.locator("input[name=start]").input_value() == start
    assert page.locator("input[name=discipline][value=road]").is_checked() is False
    assert _listed(page) == [town["later"].title]
    # Moving the map writes the new view into the URL; opening that URL shows it again.
    page.evaluate("() => document.querySelector('.kip-map').kipMap.setZoom(15)")
    page.wait_for_function("() => new URL(location.href).searchParams.get('z') === '15'")
    moved = page.url
    other = page.context.new_page()
    other.goto(moved)
    other.wait_for_selector(".kip-map[data-state=ready]")
    assert other.evaluate("() => document.querySelector('.kip-map').kipMap.getZoom()") == 15
    assert other.locator("input[name=end]").input_value() == end
    assert other.locator("#map-list li a").all_inner_texts() == [town["later"].title]
    other.close()


def test_the_list_is_there_without_javascript(browser, live_server, town):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/?period=now")
        items = page.locator("#map-list li a").all_inner_texts()
        assert town["now"].title in items
        assert town["later"].title not in items
        assert town["secret"].title not in page.content()
    finally:
        context.close()


def test_the_plan_has_layers_clashes_and_hides_a_discipline(
    page, live_server, town, login, foreign_requests
):
    coordinator = live_server.make_user("coordinator")
    login(page, coordinator)
    start = (town["today"] - timedelta(days=5)).isoformat()
    end = (town["today"] + timedelta(days=50)).isoformat()
    url = f"/plan?lat={LAT:.5f}&lon={LON:.5f}&z=17&period=custom&start={start}&end={end}"
    _open(page, live_server.url + url)
    # The coordinator sees the partners' work the public never does.
    for key in ("now", "later", "secret"):
        assert _drawn(page, town[key]) >= 1, key
    # The secret cable and the current road work meet in space and time: a conflict.
    page.wait_for_selector(".kip-clash-conflict", state="attached")
    page.get_by_role("checkbox", name="Elektriciteit").uncheck()
    page.wait_for_function(
        "id => !document.querySelector('.kip-work-' + id)", arg=town["secret"].id
    )
    assert _drawn(page, town["later"]) == 0
    assert _drawn(page, town["now"]) == 1
    assert "discipline=" in page.url
    clash = page.locator(".kip-clash-conflict").first
    with page.expect_navigation():
        clash.dispatch_event("click")
    assert "/clashes/" in page.url
    assert foreign_requests(page) == []
