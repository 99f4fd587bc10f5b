"""No markup from data reaches a page as markup (issue 13, point 3).

Every text field of a work (title, description, contact name, e-mail and phone, external
reference, tags), of an organisation (name and contacts) and of a dig ban (title and reason,
also the title a ban proposed from a road work takes from it) holds HTML that describes
elements: a link to evil.example, a ``<b>`` and an ``<img>``, each with an id. Every page
that shows them is opened in a real browser, and on the maps every feature's tooltip
(hovered) and the works' popups (clicked) are opened: none of those elements may exist,
while the payload must be on the page as text, so the test looked where the value is shown.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from pyproj import Transformer
from shapely import LineString, box
from sqlalchemy import or_, select

from kip.actors import Actor
from kip.db import unit_of_work
from kip.models import Clash

TO_WGS84 = Transformer.from_crs(28992, 4326, always_xy=True)
# A corner of RD space no other browser test uses.
X0, Y0 = 187000.0, 437000.0
LON, LAT = TO_WGS84.transform(X0 + 30, Y0 + 30)
SYSTEM = Actor.system("test")

# What a payload would become if it were taken as markup.
INJECTED = (
    "#kip-injected, #kip-injected-b, #kip-injected-img, #kip-injected-q, "
    'a[href^="https://evil.example"]'
)


def payload(name: str) -> str:
    """HTML describing a link, a bold text and an image, around ``name``, after quotes that
    would end an attribute the value was put in."""
    return (
        f'"\'><b id="kip-injected-q">q</b>'
        f'<a id="kip-injected" href="https://evil.example/">{name}</a>'
        f'<b id="kip-injected-b">{name}</b><img id="kip-injected-img" src="x">'
    )


def short(name: str) -> str:
    """A payload for the short fields (a phone number, a tag)."""
    return f'<b id="kip-injected-b">{name}</b>'


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, Any]:
    """A public work with a payload in every field, its neighbour, dig bans (one derived
    from a completed road work's title), a pending proposal, and the clashes they make."""
    from kip.services.digbans import DigBanData, accept_proposal, create_dig_ban
    from kip.services.organisations import add_organisation

    tag = uuid.uuid4().hex[:6]
    today = date.today()
    texts = {
        "org_name": payload(f"organisatie-{tag}"),
        "org_contact_name": payload(f"org-contact-{tag}"),
        "org_contact_email": payload(f"org-mail-{tag}"),
        "org_contact_phone": short(f"orgtel-{tag}"),
        "title": payload(f"titel-{tag}"),
        "description": payload(f"omschrijving-{tag}"),
        "contact_name": payload(f"contact-{tag}"),
        "contact_email": payload(f"mail-{tag}"),
        "contact_phone": short(f"tel-{tag}"),
        "external_ref": payload(f"ref-{tag}"),
        "tag": short(f"label-{tag}"),
        "road_title": payload(f"weg-{tag}"),
        "proposed_title": payload(f"voorstel-{tag}"),
        "ban_title": payload(f"verbod-{tag}"),
        "ban_reason": payload(f"reden-{tag}"),
    }
    with unit_of_work(live_server.app) as session:
        org = add_organisation(
            session,
            SYSTEM,
            texts["org_name"],
            "grid_operator",
            contact_name=texts["org_contact_name"],
            contact_email=texts["org_contact_email"],
            contact_phone=texts["org_contact_phone"],
        )
        session.flush()
    neighbour_org = live_server.make_org(f"Buren {tag}")
    work = live_server.make_work(
        org,
        title=texts["title"],
        description=texts["description"],
        contact_name=texts["contact_name"],
        contact_email=texts["contact_email"],
        contact_phone=texts["contact_phone"],
        external_ref=texts["external_ref"],
        tags=[texts["tag"]],
        discipline="sewer",
        phase="planned",
        visibility="public",
        excavation=True,
        geometry=LineString([(X0, Y0), (X0 + 60, Y0)]),
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=30),
    )
    neighbour = live_server.make_work(
        neighbour_org,
        title=f"Buurkabel-{tag}",
        discipline="electricity",
        phase="planned",
        visibility="public",
        geometry=LineString([(X0 + 70, Y0 + 20), (X0 + 130, Y0 + 20)]),
        start_date=today - timedelta(days=1),
        end_date=today + timedelta(days=20),
    )
    # Two completed road works: the first one's proposed dig ban is imposed, the other waits.
    road, _proposed = (
        live_server.make_work(
            org,
            title=texts[key],
            discipline="road",
            phase="completed",
            visibility="public",
            geometry=LineString([(X0, Y0 + y), (X0 + 60, Y0 + y)]),
            start_date=today - timedelta(days=60),
            end_date=today - timedelta(days=5),
        )
        for key, y in (("road_title", 100), ("proposed_title", 160))
    )
    with unit_of_work(live_server.app) as session:
        derived = accept_proposal(session, SYSTEM, road.id)
        ban = create_dig_ban(
            session,
            SYSTEM,
            DigBanData(
                organisation_id=org.id,
                title=texts["ban_title"],
                reason=texts["ban_reason"],
                area=box(X0 - 30, Y0 - 40, X0 + 10, Y0 + 10),
                start_date=today - timedelta(days=2),
                end_date=today + timedelta(days=365),
            ),
        )
        session.flush()
        derived_title, ban_id = derived.title, ban.id
    with live_server.engine.connect() as conn:
        clashes = dict(
            conn.execute(
                select(Clash.kind, Clash.id).where(
                    or_(Clash.work_a_id == work.id, Clash.work_b_id == work.id)
                )
            ).all()
        )
    assert set(clashes) == {"conflict", "violation"}, clashes
    return {
        "texts": texts,
        "organisation": org,
        "derived_title": derived_title,
        "work": work,
        "neighbour": neighbour,
        "ban_id": ban_id,
        "clashes": clashes,
        "today": today,
    }


# --- looking -------------------------------------------------------------------------------


def no_markup(page, where: str) -> None:
    found = page.eval_on_selector_all(INJECTED, "els => els.map(e => e.outerHTML)")
    assert found == [], f"{where}: values from data became elements: {found}"


def shows(text: str, *values: str) -> None:
    missing = [v for v in values if v not in text]
    assert not missing, f"not shown as text: {missing}"


def open_features(page, selector: str) -> str:
    """Hover every map feature matching ``selector`` (its tooltip opens), checking the page
    after each; the texts of the tooltips shown."""
    shown = []
    features = page.locator(selector).all()
    assert features, f"no {selector} on {page.url}"
    for feature in features:
        feature.dispatch_event("mouseover")
        no_markup(page, f"{page.url}, a tooltip of {selector}")
        shown += page.locator(".leaflet-tooltip").all_inner_texts()
    return "\n".join(shown)


def open_popup(page, selector: str) -> str:
    """Click a work on the map; the text of its popup."""
    page.locator(selector).first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    no_markup(page, f"{page.url}, the popup of {selector}")
    return popup.inner_text()


def visit(page, url: str, ready: str) -> str:
    page.goto(url)
    page.wait_for_selector(ready, state="attached")
    no_markup(page, url)
    return page.locator("body").inner_text()


def map_view(path: str, world: dict[str, Any]) -> str:
    start = (world["today"] - timedelta(days=10)).isoformat()
    end = (world["today"] + timedelta(days=40)).isoformat()
    return f"{path}?lat={LAT:.5f}&lon={LON:.5f}&z=17&period=custom&start={start}&end={end}"


# --- the pages ---------------------------------------------------------------------------


def test_the_public_map(page, live_server, world) -> None:
    t, work = world["texts"], world["work"]
    text = visit(page, live_server.url + map_view("/", world), ".kip-map[data-state=ready]")
    shows(page.locator("#map-list").inner_text(), t["title"], t["org_name"])
    shows(text, t["title"])
    popup = open_popup(page, f".kip-work-{work.id}")
    shows(popup, t["title"], t["org_name"], t["contact_name"], t["contact_phone"])
    shows(popup, t["contact_email"])


def test_the_anonymous_work_pages_and_their_neighbours(page, live_server, world) -> None:
    t = world["texts"]
    url = f"{live_server.url}/works/{world['neighbour'].id}"
    visit(page, url, ".kip-map path.leaflet-interactive")
    shows(open_features(page, ".kip-map path.leaflet-interactive"), t["title"], t["org_name"])

    url = f"{live_server.url}/works/{world['work'].id}"
    text = visit(page, url, ".kip-map path.leaflet-interactive")
    shows(text, t["title"], t["org_name"], t["description"], t["contact_name"])
    shows(text, t["contact_email"])
    open_features(page, ".kip-map path.leaflet-interactive")


def test_the_plan(page, live_server, world, login) -> None:
    t, work = world["texts"], world["work"]
    login(page, live_server.make_user("coordinator"))
    text = visit(page, live_server.url + map_view("/plan", world), ".kip-map[data-state=ready]")
    shows(text, t["org_name"])  # the organisations' layer control
    shows(page.locator("#map-list").inner_text(), t["title"], t["org_name"])
    page.wait_for_selector(".kip-digban", state="attached")
    shows(open_features(page, "path.kip-digban"), t["ban_title"], world["derived_title"])
    page.wait_for_selector(".kip-clash", state="attached")
    open_features(page, "path.kip-clash")
    popup = open_popup(page, f".kip-work-{work.id}")
    shows(popup, t["title"], t["org_name"], t["contact_name"], t["contact_phone"])


def test_the_clash_pages(page, live_server, world, login) -> None:
    t = world["texts"]
    login(page, live_server.make_user("coordinator"))
    text = visit(page, f"{live_server.url}/clashes?organisation=", "table.clashes")
    shows(text, t["title"], t["ban_title"])
    url = f"{live_server.url}/clashes/{world['clashes']['conflict']}"
    text = visit(page, url, ".kip-map path.leaflet-interactive")
    shows(text, t["title"], t["org_name"])
    shows(open_features(page, ".kip-map path.leaflet-interactive"), t["title"], t["org_name"])
    url = f"{live_server.url}/clashes/{world['clashes']['violation']}"
    text = visit(page, url, ".kip-map path.leaflet-interactive")
    shows(text, t["title"], t["ban_title"], t["ban_reason"])
    shows(open_features(page, ".kip-map path.leaflet-interactive"), t["title"], t["org_name"])


def test_the_dig_ban_pages(page, live_server, world, login) -> None:
    t = world["texts"]
    login(page, live_server.make_user("coordinator"))
    text = visit(page, f"{live_server.url}/digbans", "table.list")
    shows(text, t["ban_title"], t["ban_reason"], world["derived_title"], t["proposed_title"])
    visit(page, f"{live_server.url}/digbans/{world['ban_id']}/edit", ".draw-map[data-ready]")
    assert page.locator("#title").input_value() == t["ban_title"]
    assert page.locator("#reason").input_value() == t["ban_reason"]


def test_the_work_as_a_coordinator_sees_it(page, live_server, world, login) -> None:
    t, work = world["texts"], world["work"]
    login(page, live_server.make_user("coordinator"))
    text = visit(page, f"{live_server.url}/works/{work.id}", ".kip-map path.leaflet-interactive")
    shows(text, t["title"], t["org_name"], t["description"], t["contact_name"])
    open_features(page, ".kip-map path.leaflet-interactive")


def test_the_work_form(page, live_server, world, login) -> None:
    t, work = world["texts"], world["work"]
    login(page, live_server.make_user("planner", world["organisation"]))
    text = visit(page, f"{live_server.url}/works/{work.id}/edit", ".draw-map[data-ready]")
    shows(text, t["org_name"])
    for name in ("title", "description", "contact_name", "contact_email", "contact_phone"):
        assert page.locator(f"#{name}").input_value() == t[name], name
    assert page.locator("#external_ref").input_value() == t["external_ref"]
    assert t["tag"] in page.locator("#tags").input_value()


def test_the_organisations_list(page, live_server, world, login) -> None:
    login(page, live_server.make_user("administrator"))
    text = visit(page, f"{live_server.url}/admin/organisations", "table.list")
    shows(text, world["texts"]["org_name"])
