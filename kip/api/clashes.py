"""``/api/v1/clashes``, ``/combinations`` and ``/works/check``.

Clashes are for partners: without a login or a token every endpoint here answers 401. A
planner or token sees the clashes that involve a work they may see, with what they may not
see of the other side left out (see :mod:`kip.services.clashes`). The clash list is a
GeoJSON FeatureCollection of meeting places (EPSG:4326), highest score first, paged like
``/api/v1/works`` (``limit``, ``offset``, ``numberMatched``). Reviews (PATCH) are for
coordinators. Dig bans have their own module (:mod:`kip.api.digbans`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView

from .. import db, geo, policy
from ..db import bound_srid
from ..models import DigBan, Work
from ..security import csrf_for_session_writes, current_actor
from ..services import clashes as service
from ..services.search import parse_bbox
from .clash_schemas import (
    ClashCollectionSchema,
    ClashDetailSchema,
    ClashQuerySchema,
    CombinationListSchema,
    CombinationQuerySchema,
    DraftCheckSchema,
    ReviewInSchema,
)
from .parsing import Blueprint, geometry_in_project_crs
from .schemas import CrsQuerySchema, WorkFeatureInSchema, problem_responses
from .works import work_data

blp = Blueprint(
    "api_clashes",
    __name__,
    url_prefix="/api/v1",
    description="Clashes between works, combination proposals and draft checks",
)

blp.before_request(csrf_for_session_writes)

EARLIEST, LATEST = date(1, 1, 1), date(9999, 12, 31)


def work_side(work: Work | None) -> dict[str, Any]:
    if work is None:
        return {"visible": False}
    return {
        "visible": True,
        "id": work.id,
        "title": work.title,
        "organisation": {"id": work.organisation.id, "name": work.organisation.name},
        "discipline": work.discipline_code,
        "phase": work.phase_code,
        "start_date": work.start_date,
        "end_date": work.end_date,
        "excavation": work.excavation,
        "traffic_impact": work.traffic_impact.value,
    }


def ban_side(ban: DigBan) -> dict[str, Any]:
    return {
        "id": ban.id,
        "title": ban.title,
        "organisation_id": ban.organisation_id,
        "start_date": ban.start_date,
        "end_date": ban.end_date,
    }


def clash_feature(view: service.ClashView) -> dict[str, Any]:
    c, m = view.clash, view.measured
    whole = m is not None
    return {
        "type": "Feature",
        "id": c.id,
        "geometry": json.loads(view.meeting) if view.meeting else None,
        "properties": {
            "kind": c.kind.value,
            "status": c.status.value,
            "rule": {"code": c.rule.code, "name": c.rule.name},
            "score": m.score if m else None,
            "distance_m": m.distance_m if m else None,
            "overlap_days": m.overlap_days if m else None,
            "gap_days": m.gap_days if m else None,
            "shared_length_m": m.shared_length_m if m else None,
            "explanation": view.explanation,
            "redacted": view.redacted,
            "disclosed": view.clash.disclosed,
            "work_a": work_side(view.work_a),
            "work_b": None if c.dig_ban_id else work_side(view.work_b),
            "dig_ban": ban_side(view.dig_ban) if view.dig_ban is not None else None,
            "review": {
                "note": view.review_note,
                "by": c.reviewed_by if whole else None,
                "at": c.reviewed_at if whole else None,
            },
            "first_found_at": c.first_found_at if whole else None,
            "measured_at": c.measured_at if whole else None,
            "resolved_at": c.resolved_at if whole else None,
        },
    }


def _detail(clash_id: int) -> dict[str, Any]:
    session, actor = db.session(), current_actor()
    feature = clash_feature(service.get_clash(session, actor, clash_id))
    feature["properties"]["history"] = [
        {
            "action": e.action.value,
            "status_from": e.status_from.value,
            "status_to": e.status_to.value,
            "note": e.note,
            "actor": e.actor,
            "at": e.at,
        }
        for e in service.clash_history(session, actor, clash_id)
    ]
    return feature


@blp.route("/clashes")
class Clashes(MethodView):
    @blp.arguments(ClashQuerySchema, location="query")
    @blp.response(200, ClashCollectionSchema)
    @problem_responses(blp, 400, 401, 422, 429)
    def get(self, args: dict):
        """The clashes you may see, highest score first, as meeting places (GeoJSON)."""
        start, end = args.get("start"), args.get("end")
        filters = service.ClashFilters(
            kind=args.get("kind"),
            status=args.get("status"),
            organisation_id=args.get("organisation"),
            discipline=args.get("discipline"),
            bbox=parse_bbox(args["bbox"]) if args.get("bbox") else None,
            bbox_srid=4326,
            period=(start or EARLIEST, end or LATEST) if start or end else None,
        )
        limit, offset = args["limit"], args["offset"]
        page = service.list_clashes(
            db.session(), current_actor(), filters, limit=limit, offset=offset
        )
        links = [{"href": request.full_path.rstrip("?"), "rel": "self"}]
        query = {k: v for k, v in request.args.items() if k != "offset"}
        if offset + limit < page.total:
            links.append(
                {"href": url_for(".Clashes", **query, offset=offset + limit), "rel": "next"}
            )
        if offset > 0:
            prev = max(0, offset - limit)
            links.append({"href": url_for(".Clashes", **query, offset=prev), "rel": "prev"})
        return {
            "type": "FeatureCollection",
            "features": [clash_feature(v) for v in page.items],
            "numberMatched": page.total,
            "numberReturned": len(page.items),
            "links": links,
        }


@blp.route("/clashes/<int:clash_id>")
class ClashResource(MethodView):
    @blp.response(200, ClashDetailSchema)
    @problem_responses(blp, 401, 404, 429)
    def get(self, clash_id: int):
        """One clash: both sides as far as you may see them, its explanation and history."""
        return _detail(clash_id)

    @blp.arguments(ReviewInSchema)
    @blp.response(200, ClashDetailSchema)
    @problem_responses(blp, 400, 401, 403, 404, 409, 422, 429)
    def patch(self, review: dict, clash_id: int):
        """Review a clash (coordinators): open, combine, accepted or dismissed, with a note.

        A resolved clash cannot be reviewed (409); send ``expected_status`` to be told
        (409) when someone else reviewed it since you read it.
        """
        service.review_clash(
            db.session(),
            current_actor(),
            clash_id,
            review["status"],
            review.get("note") or "",
            expected_status=review.get("expected_status"),
        )
        if review.get("disclosed") is not None:
            service.disclose_clash(db.session(), current_actor(), clash_id, review["disclosed"])
        return _detail(clash_id)


@blp.route("/combinations")
class Combinations(MethodView):
    @blp.arguments(CombinationQuerySchema, location="query")
    @blp.response(200, CombinationListSchema)
    @problem_responses(blp, 400, 401, 422, 429)
    def get(self, args: dict):
        """Combination proposals holding a work you may see, largest saving first."""
        views = service.list_combinations(
            db.session(),
            current_actor(),
            current_app.config,
            organisation_id=args.get("organisation"),
        )
        out = []
        for v in views:
            c = v.combination
            out.append(
                {
                    "works": [work_side(w) for w in v.works],
                    "organisation_ids": v.organisation_ids,
                    "clash_ids": v.clash_ids,
                    "window": {"start": c.window[0], "end": c.window[1]} if c.window else None,
                    "no_window_reason": v.no_window_reason,
                    "shared_length_m": c.shared_length_m,
                    "trench_m_saved": c.trench_m_saved,
                    "repaving_m2_saved": c.repaving_m2_saved,
                    "closure_days_spared": c.closure_days_spared,
                    "estimated_saving_eur": c.estimated_saving_eur,
                }
            )
        return {"combinations": out, "numberMatched": len(out)}


@blp.route("/works/check")
class Check(MethodView):
    @blp.arguments(CrsQuerySchema, location="query")
    @blp.arguments(WorkFeatureInSchema)
    @blp.response(200, DraftCheckSchema)
    @problem_responses(blp, 400, 401, 413, 422, 429)
    def post(self, query: dict, feature: dict):
        """The clashes a draft work would have (nothing is saved): try dates before you submit."""
        actor = current_actor()
        policy.require_login(actor)
        geometry = geometry_in_project_crs(feature["geometry"], query.get("crs"))
        found = service.check_work(db.session(), actor, work_data(feature["properties"], geometry))
        out = []
        for d in found:
            out.append(
                {
                    "kind": d.found.kind,
                    "rule": {"code": d.rule.code, "name": d.rule.name},
                    "score": d.found.score,
                    "distance_m": d.distance_m,
                    "overlap_days": d.found.overlap_days,
                    "gap_days": d.found.gap_days,
                    "work": None if isinstance(d.other, DigBan) else work_side(d.other),
                    "dig_ban": ban_side(d.other) if isinstance(d.other, DigBan) else None,
                    "explanation": d.explanation,
                    "geometry": geo.geojson(d.meeting, bound_srid()),
                }
            )
        return {"clashes": out}
