"""``/api/v1/digbans``: the dig bans (*graafverboden*) as GeoJSON Features (EPSG:4326).

Every partner (a login or a token) reads them; the public gets 401. Coordinators impose,
change and end them; a change says which version it read (``If-Match`` with the ETag).
Coordinators also see the bans completed road works call for (``/proposals``) and accept
one (``POST /proposals/<work_id>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, url_for
from flask.views import MethodView

from .. import db, geo
from ..db import bound_srid
from ..models import DigBan
from ..security import csrf_for_session_writes, current_actor
from ..services import digbans as bans
from .digban_schemas import (
    DigBanCollectionSchema,
    DigBanFeatureSchema,
    DigBanInSchema,
    DigBanPatchSchema,
    DigBanProposalCollectionSchema,
    DigBanQuerySchema,
)
from .parsing import Blueprint, geometry_in_project_crs
from .schemas import CrsQuerySchema, problem_responses
from .works import etag, expected_version

if TYPE_CHECKING:
    from ..engine.digbans import DigBanProposal

blp = Blueprint(
    "api_digbans",
    __name__,
    url_prefix="/api/v1/digbans",
    description="Dig bans: areas and periods in which the ground stays closed",
)

blp.before_request(csrf_for_session_writes)


def ban_feature(ban: DigBan) -> dict[str, Any]:
    source = bans.shown_source(db.session(), current_actor(), ban)
    return {
        "type": "Feature",
        "id": ban.id,
        "geometry": geo.geojson(geo.from_db(ban.geom), bound_srid()),
        "properties": {
            "title": ban.title,
            "reason": ban.reason,
            "organisation_id": ban.organisation_id,
            "source_work_id": source,
            "start_date": ban.start_date,
            "end_date": ban.end_date,
            "version": ban.version,
        },
    }


@blp.route("")
class DigBans(MethodView):
    @blp.arguments(DigBanQuerySchema, location="query")
    @blp.response(200, DigBanCollectionSchema)
    @problem_responses(blp, 400, 401, 422, 429)
    def get(self, args: dict):
        """The dig bans (current and coming; ``include_ended`` for all), for partners."""
        found = bans.list_dig_bans(
            db.session(), current_actor(), include_ended=args["include_ended"]
        )
        return {"type": "FeatureCollection", "features": [ban_feature(b) for b in found]}

    @blp.arguments(CrsQuerySchema, location="query")
    @blp.arguments(DigBanInSchema)
    @blp.response(201, DigBanFeatureSchema)
    @problem_responses(blp, 400, 401, 403, 413, 422, 429)
    def post(self, query: dict, feature: dict):
        """Impose a dig ban over an area and a period (coordinators); violations at once."""
        actor = current_actor()
        bans.require_may_manage(actor)
        props = feature["properties"]
        area = geometry_in_project_crs(feature["geometry"], query.get("crs"))
        ban = bans.create_dig_ban(
            db.session(),
            actor,
            bans.DigBanData(
                organisation_id=props.get("organisation") or actor.organisation_id or 0,
                title=props["title"],
                reason=props.get("reason") or "",
                start_date=props["start_date"],
                end_date=props["end_date"],
                area=area,
            ),
        )
        return _created(ban)


def proposal_feature(proposal: DigBanProposal) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": proposal.source_work_id,
        "geometry": geo.geojson(proposal.geometry, bound_srid()),
        "properties": {
            "source_work_id": proposal.source_work_id,
            "title": proposal.title,
            "reason": proposal.reason,
            "organisation_id": proposal.organisation_id,
            "start_date": proposal.start_date,
            "end_date": proposal.end_date,
        },
    }


def _created(ban: DigBan) -> tuple[dict[str, Any], int, dict[str, str]]:
    headers = {"ETag": etag(ban.version), "Location": url_for(".DigBanResource", ban_id=ban.id)}
    return ban_feature(ban), 201, headers


@blp.route("/<int:ban_id>")
class DigBanResource(MethodView):
    @blp.response(200, DigBanFeatureSchema)
    @problem_responses(blp, 401, 404, 429)
    def get(self, ban_id: int):
        """One dig ban, with its version in the ETag (for partners)."""
        ban = bans.get_dig_ban(db.session(), current_actor(), ban_id)
        return ban_feature(ban), {"ETag": etag(ban.version)}

    @blp.arguments(CrsQuerySchema, location="query")
    @blp.arguments(DigBanPatchSchema)
    @blp.response(200, DigBanFeatureSchema)
    @problem_responses(blp, 400, 401, 403, 404, 409, 412, 413, 422, 428, 429)
    def patch(self, query: dict, patch: dict, ban_id: int):
        """Change or end a dig ban (coordinators; an earlier ``end_date`` ends it).
        Send ``If-Match`` with the ETag of the version you read."""
        actor = current_actor()
        bans.require_may_manage(actor)
        session = db.session()
        ban = bans.get_dig_ban(session, actor, ban_id)
        expected_version(f"dig ban {ban.id}", ban.version)
        props = patch.get("properties") or {}
        area = None
        if patch.get("geometry") is not None:
            area = geometry_in_project_crs(patch["geometry"], query.get("crs"))
        ban = bans.update_dig_ban(
            session,
            actor,
            ban_id,
            ban.version,
            title=props.get("title"),
            reason=props.get("reason"),
            start_date=props.get("start_date"),
            end_date=props.get("end_date"),
            area=area,
        )
        return ban_feature(ban), {"ETag": etag(ban.version)}


@blp.route("/proposals")
class Proposals(MethodView):
    @blp.response(200, DigBanProposalCollectionSchema)
    @problem_responses(blp, 401, 403, 429)
    def get(self):
        """The dig bans completed road works call for, not imposed yet (coordinators)."""
        found = bans.pending_proposals(db.session(), current_actor(), current_app.config)
        return {"type": "FeatureCollection", "features": [proposal_feature(p) for p in found]}


@blp.route("/proposals/<int:work_id>")
class Proposal(MethodView):
    @blp.response(201, DigBanFeatureSchema)
    @problem_responses(blp, 400, 401, 403, 404, 429)
    def post(self, work_id: int):
        """Impose the dig ban proposed for the completed road work ``work_id`` (coordinators);
        ``Location`` names the new ban. A work without a pending proposal gets 404."""
        ban = bans.accept_proposal(db.session(), current_actor(), work_id, current_app.config)
        return _created(ban)
