"""``GET /healthz``: is KIP able to serve? (for load balancers and Docker)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import db
from ..services.health import database_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    state = database_health(db.database().engine)
    body = {"status": "ok" if state.ok else "unavailable", "database": state.as_dict()}
    return jsonify(body), (200 if state.ok else 503)
