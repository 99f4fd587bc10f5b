"""Folium maps for KIP's pages, with every script and stylesheet served from ``static/``.

Folium's elements name their scripts and stylesheets by CDN URL (jsDelivr, cdnjs, jQuery's
and Bootstrap's CDNs). Municipalities forbid third-party CDNs and installations may be
offline, so before a map is rendered :func:`localise` replaces, *on each element instance*
(never on Folium's classes, which other apps in the process share), every resource with the
copy in ``static/vendor/`` (see :data:`ASSETS`; ``scripts/vendor-assets`` refreshes them),
drops what KIP does not use (jQuery, Bootstrap, Font Awesome, awesome-markers) and refuses a
resource it does not know, so a new plugin cannot quietly bring a CDN back.

A map is embedded in a KIP page, not in an iframe: :func:`embed` returns the ``<link>`` and
``<script src>`` tags for the page's head, the map's ``<div>``, and one inline ``<script>``
that carries the response's CSP nonce.

No value from the data reaches a map as markup. Folium's tooltips and popups (and
Leaflet's, given a string) put their text into the page with ``innerHTML``, so a work titled
``<a href="https://evil.example/">`` became a live link. KIP's maps show values only through
``static/kip-text.js`` (loaded with every map, see :class:`KipMap`), which sets
``textContent``: :class:`TextTooltip` here, and ``static/kip-map.js`` for the public map and
the plan. :func:`embed` refuses Folium's own tooltips and popups (:class:`MarkupElement`),
so none can come back unnoticed.

The base map's tile URL and attribution are configuration (``TILE_URL``,
``TILE_ATTRIBUTION``). Works are vector layers drawn by the browser, so they still show when
the tiles cannot load.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink
from folium.elements import JSCSSMixin
from folium.features import GeoJsonDetail
from folium.plugins import Draw, MarkerCluster
from folium.template import Template
from markupsafe import Markup, escape

# Folium's resource names -> the file in static/ that replaces the CDN copy.
ASSETS: dict[str, str] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "leaflet_draw_js": "vendor/leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "vendor/leaflet-draw/leaflet.draw.css",
    "markerclusterjs": "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
    "kip_text": "kip-text.js",
}

# Resources Folium's Map asks for by default that no KIP map uses.
UNUSED: frozenset[str] = frozenset(
    {
        "jquery",
        "bootstrap",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers",
        "awesome_markers_css",
        "awesome_markers_font_css",
        "awesome_rotate_css",
    }
)


# Folium's elements that put their text into the page as HTML: a value from the data in
# them would become markup. KIP's maps use TextTooltip instead.
MARKUP_ELEMENTS: tuple[type, ...] = (
    folium.Popup,
    folium.Tooltip,
    GeoJsonDetail,  # GeoJsonTooltip and GeoJsonPopup
    folium.DivIcon,
)


class UnknownAsset(LookupError):
    """A Folium element wants a script or stylesheet KIP does not serve from ``static/``."""


class MarkupElement(TypeError):
    """A Folium element would put text into the page as HTML (see :data:`MARKUP_ELEMENTS`)."""


class KipMap(folium.Map):
    """Folium's map without what only suits a map that is a page of its own.

    Folium's ``Map`` writes page-wide styles (``html, body {height: 100%}``), a viewport tag
    that forbids zooming, and an inline script without a nonce into the head, and uses
    jQuery's ``$(document).ready``. KIP's page has its own head; the map's size comes from
    ``static/kip.css`` (``.kip-map``). The map object is also reachable from its element
    (``element.kipMap``) for KIP's own scripts, and every map loads ``static/kip-text.js``,
    the one way KIP's scripts show a value from the data (as text).
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}
            <div class="folium-map kip-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{ this.options|tojavascript }}
                }
            );
            document.getElementById({{ this.get_name()|tojson }}).kipMap = {{ this.get_name() }};
            {%- if this.control_scale %}
            L.control.scale({imperial: false}).addTo({{ this.get_name() }});
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_js = [*self.default_js, ("kip_text", "/static/kip-text.js")]


def base_map(
    config: Mapping[str, Any],
    *,
    location: tuple[float, float] | None = None,
    zoom: int = 14,
) -> KipMap:
    """A map with KIP's base layer from ``config`` (``TILE_URL``, ``TILE_ATTRIBUTION``).

    ``location`` is (lat, lon); by default the configured ``MAP_CENTRE``.

    >>> m = base_map({"TILE_URL": "https://tiles.example/{z}/{x}/{y}.png",
    ...               "TILE_ATTRIBUTION": "Example", "MAP_CENTRE": [52.0, 5.6]})
    >>> m.location
    [52.0, 5.6]
    """
    centre = location or tuple(config["MAP_CENTRE"])
    m = KipMap(location=list(centre), zoom_start=zoom, tiles=None, control_scale=True)
    folium.TileLayer(
        tiles=config["TILE_URL"],
        attr=config["TILE_ATTRIBUTION"],
        name="base",
        max_zoom=19,
        control=False,
    ).add_to(m)
    return m


# Leaflet.draw's tools KIP offers, with their options.
_DRAW_TOOLS: dict[str, Any] = {
    "polyline": {"shapeOptions": {"weight": 4}},
    # showArea trips over a bug in Leaflet.draw 1.0.4 with Leaflet 1.9.
    "polygon": {"allowIntersection": False, "showArea": False},
    "rectangle": {"showArea": False},
    "marker": True,
}
WORK_SHAPES = ("marker", "polyline", "polygon")
AREA_SHAPES = ("polygon", "rectangle")


def draw_control(m: folium.Map, shapes: Collection[str] = WORK_SHAPES) -> folium.FeatureGroup:
    """Add Leaflet.draw's tools for ``shapes`` (and for editing and deleting) to ``m``.

    ``shapes`` are Leaflet.draw's names: :data:`WORK_SHAPES` for a work (point, line,
    polygon), :data:`AREA_SHAPES` for a dig ban. Returns the layer that holds the drawn
    shapes; KIP's form script (``static/kip-draw-form.js``) finds it as the map element's
    ``kipDrawn``.
    """
    drawn = folium.FeatureGroup(name="drawn", control=False).add_to(m)
    tools = {name: options if name in shapes else False for name, options in _DRAW_TOOLS.items()}
    Draw(
        feature_group=drawn,
        show_geometry_on_click=False,
        draw_options={**tools, "circle": False, "circlemarker": False},
        edit_options={"poly": {"allowIntersection": False}},
    ).add_to(m)
    _Expose(m, drawn, "kipDrawn").add_to(m)
    return drawn


def cluster_layer(m: folium.Map, *, detail_zoom: int = 15) -> MarkerCluster:
    """Add an empty Leaflet.markercluster layer to ``m`` for KIP's map script to fill.

    ``static/kip-map.js`` finds it as the map element's ``kipCluster``. Clusters break up
    into single works before ``detail_zoom``, where the map shows works as shapes.
    """
    cluster = MarkerCluster(
        name="works",
        control=False,
        options={
            "disableClusteringAtZoom": detail_zoom - 1,
            "showCoverageOnHover": False,
            "chunkedLoading": True,
        },
    ).add_to(m)
    _Expose(m, cluster, "kipCluster").add_to(m)
    return cluster


def work_map(
    config: Mapping[str, Any],
    work: dict[str, Any],
    neighbours: list[dict[str, Any]],
    colours: Mapping[str, str],
) -> KipMap:
    """A small map of one work (``work``: a GeoJSON geometry in EPSG:4326) and its
    neighbours (compact features from :func:`kip.services.mapdata.neighbours`)."""
    m = base_map(config, zoom=17)
    if neighbours:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": neighbours},
            name="neighbours",
            style_function=lambda f: {
                "color": colours.get(f["properties"]["discipline"], "#777777"),
                "weight": 3,
                "opacity": 0.6,
                "fillOpacity": 0.15,
            },
            marker=folium.CircleMarker(radius=5, fill=True),
        ).add_child(TextTooltip(["title", "organisation"])).add_to(m)
    shape = folium.GeoJson(
        {"type": "Feature", "properties": {}, "geometry": work},
        name="work",
        style_function=lambda f: {"color": "#d40000", "weight": 6, "fillOpacity": 0.3},
        marker=folium.CircleMarker(radius=8, fill=True, color="#d40000"),
    ).add_to(m)
    _FitTo(m, shape).add_to(m)
    return m


class TextTooltip(folium.MacroElement):
    """A tooltip on a :class:`folium.GeoJson` layer: the feature's ``fields``, one line each,
    as text.

    Folium's ``GeoJsonTooltip`` writes the properties into the tooltip with ``innerHTML``;
    this one builds it with ``kipText.lines`` (``static/kip-text.js``), which sets
    ``textContent``, so a title that looks like HTML is shown as the text it is.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip(function (layer) {
                var properties = layer.feature.properties;
                return kipText.lines(
                    {{ this.fields|tojson }}.map(function (name) { return properties[name]; }),
                    "kip-tooltip");
            }, {sticky: true});
        {% endmacro %}
        """
    )

    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__()
        self._name = "TextTooltip"
        self.fields = list(fields)


class _FitTo(folium.MacroElement):
    """Fit the map to a layer's bounds once it is drawn (not closer than zoom 18)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this.map_name }}.fitBounds({{ this.layer_name }}.getBounds(),
                {maxZoom: 18, padding: [30, 30]});
        {% endmacro %}
        """
    )

    def __init__(self, m: folium.Map, layer: folium.MacroElement) -> None:
        super().__init__()
        self._name = "FitTo"
        self.map_name = m.get_name()
        self.layer_name = layer.get_name()


class _Expose(folium.MacroElement):
    """Make a layer reachable from its map's element (``element.<attribute>``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            document.getElementById({{ this.map_name|tojson }}).{{ this.attribute }} =
                {{ this.layer_name }};
        {% endmacro %}
        """
    )

    def __init__(self, m: folium.Map, layer: folium.MacroElement, attribute: str) -> None:
        super().__init__()
        self._name = "Expose"
        self.map_name = m.get_name()
        self.layer_name = layer.get_name()
        self.attribute = attribute


def _elements(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _elements(child)


def localise(m: folium.Map, static_url: Callable[[str], str]) -> None:
    """Point every script and stylesheet of ``m`` and its children at ``static/``.

    ``static_url`` turns a path under ``static/`` into a URL (``url_for('static', ...)``).
    Raises :class:`UnknownAsset` for a resource not in :data:`ASSETS` or :data:`UNUSED`.

    >>> m = KipMap(tiles=None)
    >>> localise(m, lambda path: "/static/" + path)
    >>> m.default_js
    [('leaflet', '/static/vendor/leaflet/leaflet.js'), ('kip_text', '/static/kip-text.js')]
    >>> m.default_css
    [('leaflet_css', '/static/vendor/leaflet/leaflet.css')]
    >>> folium.Map.default_js[0][1].startswith("https://")  # Folium's own class is untouched
    True
    """
    for element in _elements(m):
        if isinstance(element, JSCSSMixin):
            element.default_js = _local(element, element.default_js, static_url)
            element.default_css = _local(element, element.default_css, static_url)


def refuse_markup(m: folium.Map) -> None:
    """Raise :class:`MarkupElement` if ``m`` holds an element that puts text into the page
    as HTML (:data:`MARKUP_ELEMENTS`); show values with :class:`TextTooltip`.

    >>> m = KipMap(tiles=None)
    >>> _ = folium.Marker([52.0, 5.6], tooltip="<b>x</b>").add_to(m)
    >>> refuse_markup(m)
    Traceback (most recent call last):
    ...
    kip.maps.MarkupElement: Tooltip puts its text into the page as HTML; use kip.maps.TextTooltip
    """
    for element in _elements(m):
        if isinstance(element, MARKUP_ELEMENTS):
            raise MarkupElement(
                f"{type(element).__name__} puts its text into the page as HTML; "
                "use kip.maps.TextTooltip"
            )


def _local(
    element: Element, resources: list[tuple[str, str]], static_url: Callable[[str], str]
) -> list[tuple[str, str]]:
    local = []
    for name, url in resources:
        if name in UNUSED:
            continue
        if name in ASSETS:
            local.append((name, static_url(ASSETS[name])))
        elif url.startswith("/") and not url.startswith("//"):
            local.append((name, url))  # already local
        else:
            raise UnknownAsset(
                f"{type(element).__name__} wants {name!r} from {url}; vendor it "
                "(scripts/vendor-assets) and add it to kip.maps.ASSETS"
            )
    return local


@dataclass(frozen=True)
class MapParts:
    """What a page needs to show a map: put ``head`` in the head, ``html`` where the map
    goes, and ``script`` after it."""

    head: Markup
    html: Markup
    script: Markup
    name: str


def embed(m: folium.Map, nonce: str, static_url: Callable[[str], str] | None = None) -> MapParts:
    """Render ``m`` into the parts a KIP page embeds (see :class:`MapParts`).

    ``static_url`` defaults to Flask's ``url_for('static', filename=...)``. Raises
    :class:`MarkupElement` when ``m`` holds one of Folium's tooltips or popups.
    """
    refuse_markup(m)
    if static_url is None:
        from flask import url_for

        def static_url(path: str) -> str:
            return url_for("static", filename=path)

    localise(m, static_url)
    figure = m.get_root()
    assert isinstance(figure, Figure)
    for child in figure._children.values():
        child.render()
    head = []
    for name, child in figure.header._children.items():
        if isinstance(child, JavascriptLink | CssLink):
            head.append(child.render())
        elif name != "meta_http":  # Folium's content-type meta: the page has its own
            rendered = child.render()
            if "<script" in rendered:
                raise UnknownAsset(f"{name} puts an inline script in the head")
            head.append(rendered)
    html = figure.html.render()
    script = figure.script.render()
    return MapParts(
        head=Markup("\n".join(head)),
        html=Markup(html),
        script=Markup(f'<script nonce="{escape(nonce)}">\n{script}\n</script>'),
        name=m.get_name(),
    )


__all__ = [
    "AREA_SHAPES",
    "ASSETS",
    "MARKUP_ELEMENTS",
    "UNUSED",
    "WORK_SHAPES",
    "KipMap",
    "MapParts",
    "MarkupElement",
    "TextTooltip",
    "UnknownAsset",
    "base_map",
    "cluster_layer",
    "draw_control",
    "embed",
    "localise",
    "refuse_markup",
    "work_map",
]
