"""Maps are built with Folium, but every script and stylesheet comes from KIP itself."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import folium
import pytest
from folium.plugins import MarkerCluster, Search

from kip import maps

STATIC = Path(__file__).resolve().parent.parent / "static"
CONFIG = {
    "TILE_URL": "https://tiles.example.nl/{z}/{x}/{y}.png",
    "TILE_ATTRIBUTION": "Kaartgegevens &copy; Example",
    "MAP_CENTRE": [52.04, 5.665],
}
URL = re.compile(r"(?:https?:)?//[\w.-]+(?::\d+)?[^\s\"'<>)]*")


def _static(path: str) -> str:
    return "/static/" + path


def _foreign_urls(html: str, allowed_host: str) -> list[str]:
    return [u for u in URL.findall(html) if urlsplit(u).netloc not in ("", allowed_host)]


def test_every_vendored_asset_exists():
    for path in maps.ASSETS.values():
        assert (STATIC / path).is_file(), path
    for package in ("leaflet", "leaflet-draw", "leaflet.markercluster", "swagger-ui-dist"):
        assert (STATIC / "vendor" / package / "LICENSE").is_file()
    assert not list((STATIC / "vendor").rglob("*.map"))


def test_embedded_parts_name_no_other_host_than_the_tiles():
    m = maps.base_map(CONFIG)
    maps.draw_control(m)
    MarkerCluster().add_to(m)
    parts = maps.embed(m, "abc123", _static)
    html = parts.head + parts.html + parts.script
    assert _foreign_urls(html, "tiles.example.nl") == []
    assert "https://tiles.example.nl/{z}/{x}/{y}.png" in parts.script
    assert '<script src="/static/vendor/leaflet/leaflet.js"></script>' in parts.head
    assert "/static/vendor/leaflet.markercluster/MarkerCluster.css" in parts.head
    for dropped in ("jquery", "bootstrap", "awesome", "fontawesome"):
        assert dropped not in html.lower()
    assert parts.script.startswith('<script nonce="abc123">')
    assert parts.script.count("<script") == 1 and "<script" not in parts.head.replace(
        "<script src=", ""
    )
    assert "<iframe" not in html and "<html" not in html and "<body" not in html
    assert f'id="{parts.name}"' in parts.html


def test_folium_itself_is_left_alone():
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    maps.embed(maps.base_map(CONFIG), "n", _static)
    assert (folium.Map.default_js, folium.Map.default_css) == before
    plain = folium.Map(tiles=None).get_root().render()
    assert "cdn.jsdelivr.net" in plain  # another app's plain Folium map still uses its CDNs


def test_an_element_wanting_an_unknown_cdn_is_refused():
    m = maps.base_map(CONFIG)
    Search(folium.GeoJson({"type": "FeatureCollection", "features": []}).add_to(m)).add_to(m)
    with pytest.raises(maps.UnknownAsset, match="vendor it"):
        maps.embed(m, "n", _static)


def test_the_form_page_loads_nothing_from_another_host(client, make_user, password):
    from test_work_form import page_login

    page_login(client, make_user(), password)
    response = client.get("/works/new")
    html = response.get_data(as_text=True)
    tile_host = urlsplit(client.application.config["TILE_URL"]).netloc
    assert response.status_code == 200
    assert _foreign_urls(html, tile_host) == []
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    for src in re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html):
        assert src.startswith("/static/"), src
        asset = client.get(src)
        asset.close()
        assert asset.status_code == 200, src
