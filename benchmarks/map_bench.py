"""The public map with 50,000 works: KIP's map (loaded by bbox + period) against the naive
page that embeds every feature, in headless Chromium.

    .venv/bin/python benchmarks/map_bench.py --url postgresql://postgres@127.0.0.1:5432/postgres

A throwaway database (created on the server, dropped afterwards) gets N works of the
synthetic town (``synthtown``, by COPY; four in five public), a live KIP server starts on
it, and Chromium (Debian's ``/usr/bin/chromium``) opens:

* KIP's public map at its default view (zoom 13, the next 4 weeks) and zoomed out over the
  whole town for this year (zoom 12): time until the map says it has drawn the works
  (``data-ready-ms``, from navigation start) and the bytes of every response;
* the naive page: the same base map with ``folium.GeoJson`` of every public work embedded,
  time until its features are drawn and the bytes.

Tiles are refused, as in the tests. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthtown

from kip import create_app, migrate
from kip.config import normalise_database_url

SRID = 28992
ORIGIN = (100000.0, 400000.0)
CHROMIUM = "/usr/bin/chromium"


def load(url: str, n: int) -> tuple[float, float]:
    """N works in the database at ``url``; returns the town's centre as (lat, lon)."""
    engine = create_engine(url)
    migrate.upgrade(engine, SRID)
    engine.dispose()
    raw = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    orgs = [
        raw.execute(
            "INSERT INTO organisations (name, kind) VALUES (%s, 'other') RETURNING id",
            [f"Organisatie {i}"],
        ).fetchone()[0]
        for i in range(12)
    ]
    town = synthtown.generate(n, origin=ORIGIN)
    t = time.perf_counter()
    with raw.cursor() as cur, cur.copy(f"COPY works ({synthtown.COPY_COLUMNS}) FROM STDIN") as cp:
        cp.write(synthtown.copy_text(town, SRID, orgs))
    raw.execute(
        "UPDATE works SET visibility = 'public', contact_name = 'Loket', "
        "contact_email = 'loket@example.org' WHERE id % 5 <> 0"
    )
    raw.execute("VACUUM ANALYZE works")
    half = synthtown.grid_size(n) * synthtown.BLOCK_M / 2
    lon, lat = raw.execute(
        "SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_Point(%s, %s), %s), 4326) p",
        [ORIGIN[0] + half, ORIGIN[1] + half, SRID],
    ).fetchone()
    public = raw.execute(
        "SELECT count(*) FROM works w JOIN phases p ON p.code = w.phase_code "
        "WHERE visibility = 'public' AND p.is_firm AND p.takes_part"
    ).fetchone()[0]
    print(f"loaded {n:,} works ({public:,} public and firm) in {time.perf_counter() - t:.1f} s")
    raw.close()
    return lat, lon


NAIVE_SQL = """
SELECT json_build_object(
  'type', 'Feature', 'id', w.id,
  'geometry', ST_AsGeoJSON(ST_Transform(w.geom, 4326), 6)::json,
  'properties', json_build_object(
    'title', w.title, 'organisation', o.name, 'discipline', w.discipline_code,
    'start', w.start_date, 'end', w.end_date, 'traffic', w.traffic_impact,
    'excavation', w.excavation, 'contact', w.contact_name))
FROM works w JOIN organisations o ON o.id = w.organisation_id
JOIN phases p ON p.code = w.phase_code
WHERE w.deleted_at IS NULL AND w.visibility = 'public' AND p.is_firm AND p.takes_part
"""


def naive_page() -> str:
    """Every public work embedded in the page as one folium.GeoJson (the approach KIP avoids)."""
    import folium
    from flask import current_app
    from sqlalchemy import text

    from kip import db, maps
    from kip.security import csp_nonce

    features = list(db.session().execute(text(NAIVE_SQL)).scalars())
    m = maps.base_map(current_app.config, zoom=13)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="works",
        marker=folium.CircleMarker(radius=4, fill=True),
        popup=folium.GeoJsonPopup(fields=["title", "organisation", "start", "end"]),
    ).add_to(m)
    parts = maps.embed(m, csp_nonce())
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>{parts.head}</head>"
        f"<body>{parts.html}{parts.script}</body></html>"
    )


def serve(url: str, centre: tuple[float, float]):
    from werkzeug.serving import make_server

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "MAP_CENTRE": list(centre),
        }
    )
    app.add_url_rule("/naive", "naive", naive_page)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


def measure(browser, url: str, ready: str, tile_host: str) -> tuple[float, int, int]:
    """(ms until drawn, bytes received, requests) for one fresh page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(120_000)
    context.route(re.compile(rf"^https?://([^/]*\.)?{re.escape(tile_host)}/"), lambda r: r.abort())
    page = context.new_page()
    sizes: list[int] = []
    api_ms: list[float] = []

    def finished(request) -> None:
        s = request.sizes()
        sizes.append(s["responseBodySize"] + s["responseHeadersSize"])
        if "/api/v1/map/works" in request.url:
            t = request.timing
            api_ms.append(t["responseEnd"] - t["requestStart"])

    page.on("requestfinished", finished)
    page.goto(url, wait_until="commit")
    page.wait_for_function(ready, polling=20)
    if ready.startswith("() => document.querySelector('.kip-map[data-state=ready]')"):
        ms = float(page.locator(".kip-map").get_attribute("data-ready-ms"))
    else:
        ms = page.evaluate("() => performance.now()")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let late responses finish, so their bytes count
    context.close()
    if api_ms:
        print(f"    (map API answered in {', '.join(f'{t:.0f}' for t in api_ms)} ms)")
    return ms, sum(sizes), len(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("-n", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    name = f"kip_mapbench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(args.url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = normalise_database_url(args.url.rsplit("/", 1)[0] + "/" + name)
    try:
        centre = load(url, args.n)
        server, thread, base = serve(url, centre)
        from playwright.sync_api import sync_playwright

        tile_host = "tile.openstreetmap.org"
        kip_ready = "() => document.querySelector('.kip-map[data-state=ready]')"
        naive_ready = "() => document.querySelectorAll('.leaflet-interactive').length > 0"
        scenarios = [
            ("KIP map, default view (zoom 13, next 4 weeks)", "/", kip_ready),
            (
                "KIP map, whole town, this year (zoom 12)",
                f"/?lat={centre[0]:.5f}&lon={centre[1]:.5f}&z=12&period=year",
                kip_ready,
            ),
            ("naive: every public work embedded (folium.GeoJson)", "/naive", naive_ready),
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            measure(browser, base + "/", kip_ready, tile_host)  # warm up the server
            for label, path, ready in scenarios:
                results = [
                    measure(browser, base + path, ready, tile_host) for _ in range(args.runs)
                ]
                best = min(r[0] for r in results)
                median = sorted(r[0] for r in results)[len(results) // 2]
                size = results[-1][1]
                print(
                    f"{label}: features drawn after {median / 1000:.2f} s (median of "
                    f"{args.runs}, best {best / 1000:.2f} s), {size / 1e6:.2f} MB in "
                    f"{results[-1][2]} responses"
                )
            browser.close()
        server.shutdown()
        thread.join()
        from kip.db import database

        database(server.app).dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
