"""The front page (the residents' public map of works) and the coordinator's integrated plan.

Both pages embed a Folium base map (:mod:`kip.maps`); ``static/kip-map.js`` fills it from
``/api/v1/map/works`` by bounding box and period as the view moves, and keeps the view's
state in the URL. Without JavaScript the front page still lists the public works of the
chosen period, rendered here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import db, maps, policy
from ..actors import Actor
from ..errors import ValidationError
from ..models import Discipline
from ..security import csp_nonce, current_actor
from ..services.mapdata import DETAIL_ZOOM, PERIODS, period_bounds
from ..services.organisations import list_organisations
from ..services.overview import public_overview
from ..services.search import WorkFilter, search_works

bp = Blueprint("home", __name__)

LIST_LIMIT = 100
PERIOD_LABELS = {
    "now": _l("Now"),
    "4w": _l("Next 4 weeks"),
    "year": _l("This year"),
    "custom": _l("Chosen period"),
}
TRAFFIC_LABELS = {
    "none": _l("no closure"),
    "lane": _l("a lane closed"),
    "closure": _l("road closed"),
}


def _strings() -> dict[str, str]:
    """What ``static/kip-map.js`` writes, in the page's language."""
    return {
        "who": str(_l("Who")),
        "when": str(_l("When")),
        "hindrance": str(_l("Hindrance")),
        "excavation": str(_l("opens the ground")),
        "contact": str(_l("Contact")),
        "more": str(_l("More about this work")),
        "show": str(_l("Show on map")),
        "inView": str(_l("Works in this view and period")),
        "truncated": str(_l("Not every work is shown: zoom in or choose a shorter period.")),
        "listCut": str(_l("The list shows the first works; zoom in to see the others.")),
        "failed": str(_l("The works could not be loaded. Try again later.")),
        "loading": str(_l("Loading works…")),
        "clash": str(_l("Open the clash")),
        "digban": str(_l("Dig ban")),
        "kind_conflict": str(_l("Conflict")),
        "kind_opportunity": str(_l("Chance to combine")),
        "kind_violation": str(_l("Dig ban violated")),
        **{f"traffic_{k}": str(v) for k, v in TRAFFIC_LABELS.items()},
    }


def _disciplines() -> list[Discipline]:
    active = select(Discipline).where(Discipline.active.is_(True))
    return list(db.session().execute(active.order_by(Discipline.sort_order)).scalars())


def _chosen_period(today: date) -> tuple[str, date, date, date | None, date | None]:
    """The period in the query string (as the map's URL and the no-script form give it)."""
    period = request.args.get("period", "4w")
    if period not in PERIODS:
        period = "4w"
    start = request.args.get("start", type=date.fromisoformat)
    end = request.args.get("end", type=date.fromisoformat)
    try:
        first, last = period_bounds(period, today, start, end)
    except ValidationError:
        period, (first, last) = "4w", period_bounds("4w", today)
    return period, first, last, start, end


def _map_page(mode: str) -> dict[str, Any]:
    locale = str(get_locale())
    today = date.today()
    disciplines = _disciplines()
    m = maps.base_map(current_app.config, zoom=13)
    maps.cluster_layer(m, detail_zoom=DETAIL_ZOOM)
    period, first, last, start, end = _chosen_period(today)
    shown = {
        code
        for value in request.args.getlist("discipline")
        for code in value.split(",")
        if code.strip()
    }
    return {
        "map": maps.embed(m, csp_nonce()),
        "mode": mode,
        "today": today,
        "period": period,
        "first": first,
        "last": last,
        "start": start,
        "end": end,
        "periods": PERIOD_LABELS,
        "traffic_labels": TRAFFIC_LABELS,
        "disciplines": disciplines,
        "shown": shown or {d.code for d in disciplines},
        "colours": {d.code: d.colour for d in disciplines},
        "map_config": {
            "api": url_for("api_map.MapWorks"),
            "workUrl": url_for("works.show", work_id=0),
            "today": today.isoformat(),
            "detailZoom": DETAIL_ZOOM,
            "disciplines": {
                d.code: {"colour": d.colour, "label": d.label(locale)} for d in disciplines
            },
            "strings": _strings(),
        },
    }


@bp.get("/")
def index() -> str:
    """The public map: public works in a firm phase, the same for everyone."""
    page = _map_page("public")
    works, total = search_works(
        db.session(),
        Actor.public(),
        WorkFilter(
            start=page["first"],
            end=page["last"],
            disciplines=tuple(sorted(page["shown"])),
        ),
        limit=LIST_LIMIT,
        offset=0,
    )
    overview = public_overview(db.session(), page["today"])
    return render_template(
        "home.html",
        overview=overview,
        counts={d.code: d.works for d in overview.by_discipline},
        works=[w for w, _geometry in works],
        total=total,
        **page,
    )


@bp.get("/plan")
def plan() -> str:
    """The coordinator's integrated plan: every work the user may see, clashes, dig bans."""
    actor = current_actor()
    policy.require_login(actor)
    page = _map_page("plan")
    organisations = [org for org, _count in list_organisations(db.session())]
    page["map_config"].update(
        clashes=url_for("api_clashes.Clashes"),
        digbans=url_for("api_digbans.DigBans"),
        clashUrl=url_for("clashes.show", clash_id=0),
    )
    return render_template("plan.html", organisations=organisations, **page)
