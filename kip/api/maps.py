"""``/api/v1/map/works``: what a map needs to draw the works in view, and nothing more.

The maps (``static/kip-map.js``) ask for the works in their bounding box and period as
they move; the answer is compact GeoJSON (see :mod:`kip.services.mapdata`): a point per
work below the detail zoom, simplified shapes from there, only the fields a popup shows,
at most ``limit`` features with ``truncated`` saying whether more match.
"""

from __future__ import annotations

import json

from flask import Response
from flask.views import MethodView

from .. import db
from ..security import current_actor
from ..services.mapdata import MapQuery, map_works
from ..services.search import parse_bbox
from .map_schemas import MapWorkCollectionSchema, MapWorkQuerySchema
from .parsing import Blueprint
from .schemas import problem_responses

blp = Blueprint("api_map", __name__, url_prefix="/api/v1/map", description="Light GeoJSON for maps")


@blp.route("/works")
class MapWorks(MethodView):
    @blp.arguments(MapWorkQuerySchema, location="query")
    @blp.response(200, MapWorkCollectionSchema)
    @problem_responses(blp, 400, 401, 422, 429)
    def get(self, args: dict) -> Response:
        """The works in a map's view and period, light (GeoJSON, EPSG:4326)."""
        disciplines = tuple(
            p.strip() for p in (args.get("discipline") or "").split(",") if p.strip()
        )
        query = MapQuery(
            bbox=parse_bbox(args["bbox"]) if args.get("bbox") else None,
            start=args.get("start"),
            end=args.get("end"),
            zoom=args["zoom"],
            disciplines=disciplines,
            organisation_id=args.get("organisation"),
            public=args["public"],
            limit=args["limit"],
        )
        found = map_works(db.session(), current_actor(), query)
        body = {
            "type": "FeatureCollection",
            "features": found.features,
            "numberReturned": len(found.features),
            "truncated": found.truncated,
            "detail": found.detail,
        }
        # Already in its documented shape: skip re-serialising thousands of features.
        return Response(
            json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            mimetype="application/json",
        )
