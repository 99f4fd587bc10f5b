"""``GET /healthz``: is KIP able to serve? (for load balancers, Docker and monitoring).

Everyone learns up or down: ``{"status": "ok"}`` with 200, or ``{"status": "unavailable"}``
with 503. What is wrong (the database's state, its driver's message) is for a logged-in
coordinator or administrator, and for a monitor that sends the configured ``HEALTH_TOKEN`` as
``Authorization: Bearer <token>`` (a header, not a query parameter, so that it stays out of
access logs). While the database is down nobody's login can be checked, so then only the
token shows the details.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from .. import db, policy
from ..security import current_actor
from ..services.health import database_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    state = database_health(db.database().engine)
    body: dict = {"status": "ok" if state.ok else "unavailable"}
    if _may_see_details(database_up=state.ok):
        body["database"] = state.as_dict()
    response = jsonify(body)
    response.status_code = 200 if state.ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _may_see_details(*, database_up: bool) -> bool:
    header = request.headers.get("Authorization")
    if header:  # a monitor's token, never an API token (those carry no role)
        expected = current_app.config.get("HEALTH_TOKEN")
        scheme, _, secret = header.partition(" ")
        return (
            bool(expected)
            and scheme.lower() == "bearer"
            and hmac.compare_digest(secret.strip().encode(), str(expected).encode())
        )
    return database_up and policy.can_see_health_details(current_actor())
