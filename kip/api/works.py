"""``/api/v1/works``: the integrated plan as GeoJSON, and writing works with optimistic locking.

Reading needs no account (the public sees public works); writing needs a planner's login or
a write token of the work's organisation. PATCH and DELETE must say which version they
read (``If-Match`` with the ETag of GET): a stale version gets 412, a missing one 428.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request, url_for
from flask.views import MethodView
from shapely.geometry.base import BaseGeometry

from .. import db, policy
from ..errors import PreconditionFailed, PreconditionRequired
from ..security import csrf_for_session_writes, current_actor
from ..services import works as service
from ..services.search import WorkFilter, parse_bbox, search_works
from .parsing import Blueprint, geometry_in_project_crs
from .schemas import (
    CrsQuerySchema,
    HistoryEntrySchema,
    WorkCollectionSchema,
    WorkFeatureInSchema,
    WorkFeatureOutSchema,
    WorkFeaturePatchSchema,
    WorkQuerySchema,
    problem_responses,
    split_codes,
)

blp = Blueprint(
    "api_works", __name__, url_prefix="/api/v1/works", description="Planned works in public space"
)

blp.before_request(csrf_for_session_writes)

READ_ERRORS = (400, 401, 404, 422, 429)


def etag(version: int) -> str:
    return f'"v{version}"'


def _feature(work, geometry: str | dict) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": work.id,
        "geometry": json.loads(geometry) if isinstance(geometry, str) else geometry,
        "properties": {
            "title": work.title,
            "description": work.description,
            "organisation": {"id": work.organisation.id, "name": work.organisation.name},
            "discipline": work.discipline_code,
            "phase": work.phase_code,
            "start_date": work.start_date,
            "end_date": work.end_date,
            "precision": work.precision.value,
            "excavation": work.excavation,
            "traffic_impact": work.traffic_impact.value,
            "visibility": work.visibility.value,
            "external_ref": work.external_ref,
            "contact_name": work.contact_name,
            "contact_email": work.contact_email,
            "contact_phone": work.contact_phone,
            "budget": work.budget,
            "tags": list(work.tags or []),
            "version": work.version,
            "created_at": work.created_at,
            "updated_at": work.updated_at,
            "deleted": work.deleted_at is not None,
        },
    }


def work_data(properties: dict, geometry: BaseGeometry) -> service.WorkData:
    """A work's API properties, with its geometry in the project CRS, as the service's
    :class:`~kip.services.works.WorkData`."""
    return service.WorkData(
        title=properties["title"],
        discipline=properties["discipline"],
        phase=properties["phase"],
        geometry=geometry,
        start_date=properties["start_date"],
        end_date=properties["end_date"],
        description=properties.get("description") or "",
        precision=properties.get("precision", "day"),
        excavation=properties.get("excavation", False),
        traffic_impact=properties.get("traffic_impact", "none"),
        visibility=properties.get("visibility", "partners"),
        external_ref=properties.get("external_ref"),
        contact_name=properties.get("contact_name"),
        contact_email=properties.get("contact_email"),
        contact_phone=properties.get("contact_phone"),
        budget=properties.get("budget"),
        tags=list(properties.get("tags") or []),
    )


def _stored_feature(work) -> tuple[dict, dict]:
    geometry = service.geometry_geojson(db.session(), work.id)
    return _feature(work, geometry), {"ETag": etag(work.version)}


@blp.route("")
class Works(MethodView):
    @blp.arguments(WorkQuerySchema, location="query")
    @blp.response(200, WorkCollectionSchema)
    @problem_responses(blp, *READ_ERRORS)
    def get(self, args: dict):
        """The works you may see, filtered, one page at a time (GeoJSON, EPSG:4326)."""
        filters = WorkFilter(
            bbox=parse_bbox(args["bbox"]) if args.get("bbox") else None,
            start=args.get("start"),
            end=args.get("end"),
            disciplines=split_codes(args.get("discipline")),
            phases=split_codes(args.get("phase")),
            organisation_id=args.get("organisation"),
            q=(args.get("q") or "").strip() or None,
        )
        limit, offset = args["limit"], args["offset"]
        rows, total = search_works(
            db.session(), current_actor(), filters, limit=limit, offset=offset
        )
        links = [{"href": request.full_path.rstrip("?"), "rel": "self"}]
        query = {k: v for k, v in request.args.items() if k not in ("offset",)}
        if offset + limit < total:
            links.append({"href": url_for(".Works", **query, offset=offset + limit), "rel": "next"})
        if offset > 0:
            prev = max(0, offset - limit)
            links.append({"href": url_for(".Works", **query, offset=prev), "rel": "prev"})
        return {
            "type": "FeatureCollection",
            "features": [_feature(work, geometry) for work, geometry in rows],
            "numberMatched": total,
            "numberReturned": len(rows),
            "links": links,
        }

    @blp.arguments(CrsQuerySchema, location="query")
    @blp.arguments(WorkFeatureInSchema)
    @blp.response(201, WorkFeatureOutSchema)
    @problem_responses(blp, 400, 401, 403, 409, 413, 422, 429)
    def post(self, query: dict, feature: dict):
        """Register a work of your organisation. Geometry in EPSG:4326 unless ``crs`` says."""
        actor = current_actor()
        policy.require_login(actor)
        geometry = geometry_in_project_crs(feature["geometry"], query.get("crs"))
        work = service.create_work(
            db.session(),
            actor,
            actor.organisation_id or 0,
            work_data(feature["properties"], geometry),
        )
        body, headers = _stored_feature(work)
        headers["Location"] = url_for(".Work", work_id=work.id)
        return body, 201, headers


@blp.route("/<int:work_id>")
class Work(MethodView):
    @blp.response(200, WorkFeatureOutSchema)
    @problem_responses(blp, 401, 404, 429)
    def get(self, work_id: int):
        """One work (404 when it does not exist or you may not see it)."""
        work = service.get_visible_work(db.session(), current_actor(), work_id)
        return _stored_feature(work)

    @blp.arguments(CrsQuerySchema, location="query")
    @blp.arguments(WorkFeaturePatchSchema)
    @blp.response(200, WorkFeatureOutSchema)
    @problem_responses(blp, 400, 401, 403, 404, 409, 412, 413, 422, 428, 429)
    def patch(self, query: dict, patch: dict, work_id: int):
        """Change some fields (and/or the geometry). Send ``If-Match`` with the ETag you read."""
        actor = current_actor()
        session = db.session()
        work = service.get_visible_work(session, actor, work_id)
        version = _expected_version(work)
        data = service.data_of(work)
        for key, value in (patch.get("properties") or {}).items():
            setattr(data, key, value)
        if patch.get("geometry") is not None:
            data.geometry = geometry_in_project_crs(patch["geometry"], query.get("crs"))
        work = service.update_work(session, actor, work, data, version)
        return _stored_feature(work)

    @blp.response(204)
    @problem_responses(blp, 401, 403, 404, 409, 412, 428, 429)
    def delete(self, work_id: int):
        """Delete a work (softly: a coordinator can restore it). Send ``If-Match``."""
        actor = current_actor()
        session = db.session()
        work = service.get_visible_work(session, actor, work_id)
        service.delete_work(session, actor, work, _expected_version(work))
        return ""


def expected_version(what: str, current: int) -> int:
    """The version the client says it read (``If-Match``), checked against ``current``.

    No If-Match is 428 (a write must say what it read); another version is 412.
    """
    if not request.if_match or request.if_match.star_tag:
        raise PreconditionRequired(
            f"send If-Match with the ETag of the version of {what} you read (GET it first)",
            current_version=current,
        )
    if not request.if_match.contains(etag(current).strip('"')):
        raise PreconditionFailed(
            f"{what} has changed since you read it (now version {current}); "
            "GET it again and re-apply your change",
            current_version=current,
        )
    return current


def _expected_version(work) -> int:
    return expected_version(f"work {work.id}", work.version)


@blp.route("/<int:work_id>/history")
class History(MethodView):
    @blp.response(200, HistoryEntrySchema(many=True))
    @problem_responses(blp, 401, 404, 429)
    def get(self, work_id: int):
        """Every change of the work, oldest first (for logged-in partners)."""
        actor = current_actor()
        policy.require_login(actor)
        session = db.session()
        work = service.get_visible_work(session, actor, work_id)
        return [
            {
                "version": c.version,
                "action": c.action.value,
                "actor": c.actor,
                "changed_at": c.changed_at,
                "changes": c.changes,
            }
            for c in service.history(session, work)
        ]
