"""The import page in a real browser: a GIS file is chosen, sent once, and reported."""

from __future__ import annotations

import numpy as np
import pyogrio.raw
import shapely
from sqlalchemy import func, select

from kip.models import Work

SEND = "form[enctype='multipart/form-data'] button[type=submit]"  # not the header's log-out


def write_plan(path, n: int) -> None:
    """A GeoJSON file as GDAL writes it: n lamp posts in Ede (EPSG:4326)."""
    points = shapely.points(np.full(n, 5.66), 52.04 + 0.0005 * np.arange(n))
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(points),
        [
            np.array([f"LP-{i + 1}" for i in range(n)], dtype=object),
            np.array(["Lantaarnpaal"] * n, dtype=object),
            np.array(["verlichting"] * n, dtype=object),
            np.array(["gepland"] * n, dtype=object),
            np.array(["2027-05-01"] * n, dtype=object),
            np.array(["2027-05-02"] * n, dtype=object),
        ],
        fields=["kenmerk", "titel", "vakdiscipline", "fase", "startdatum", "einddatum"],
        geometry_type="Point",
        crs="EPSG:4326",
        driver="GeoJSON",
    )


def test_the_file_is_sent_once_and_its_rows_reported(page, live_server, login, tmp_path):
    planner = live_server.make_user("planner")
    login(page, planner)
    path = tmp_path / "lantaarnpalen.geojson"
    write_plan(path, 3)

    # While the server reads the file the button says so and cannot be pressed again
    # (the server's answer is held back here: 204 leaves the page as it is).
    page.route(
        "**/works/import",
        lambda route: (
            route.fulfill(status=204) if route.request.method == "POST" else route.continue_()
        ),
    )
    page.goto(f"{live_server.url}/works/import")
    page.set_input_files("#file", str(path))
    page.click(SEND)
    button = page.locator(SEND)
    page.wait_for_function("send => document.querySelector(send).disabled", arg=SEND)
    assert button.get_attribute("aria-busy") == "true"
    assert "gecontroleerd" in button.inner_text()
    page.unroute("**/works/import")

    page.goto(f"{live_server.url}/works/import")
    page.set_input_files("#file", str(path))
    page.uncheck("#dry_run")
    with page.expect_navigation():
        page.click(SEND)

    assert "Geïmporteerd" in page.inner_text("h2#report")
    lines = page.locator("section table.list tbody tr")
    assert lines.count() == 1
    assert "1–3" in lines.first.inner_text() and "LP-1 … LP-3" in lines.first.inner_text()
    with live_server.engine.connect() as conn:
        imported = conn.execute(
            select(func.count()).where(Work.organisation_id == planner.organisation_id)
        ).scalar_one()
    assert imported == 3
