"""The JSON API under ``/api/v1``: parse → one service call → serialise.

The OpenAPI document at ``/api/v1/openapi.json`` is generated from the code (flask-smorest
and the marshmallow schemas in :mod:`kip.api.schemas`); ``/api/v1/docs`` shows it with
Swagger UI served from ``static/``. Partner systems send ``Authorization: Bearer <token>``;
a browser that uses its login session must send the CSRF token (``X-CSRFToken``) on writes.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_smorest import Api

from ..security import csrf, limiter, valid_token_id

API_PREFIX = "/api/v1"


def _rate_key() -> str:
    """The bucket a request counts against: a live token's own (a partner's systems share
    their limit wherever they call from), else the caller's address.

    An unknown, revoked or expired token counts against the address it came from, so junk
    that merely starts like a partner's token (its prefix is shown in the token list) cannot
    use up that partner's limit.
    """
    token_id = valid_token_id()
    if token_id is not None:
        return f"token:{token_id}"
    return f"address:{request.remote_addr or 'unknown'}"


def init_app(app: Flask) -> Api:
    from . import clashes, digbans, maps, transfer, works

    app.config.update(
        API_TITLE="KIP",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "Works planned in public space, their clashes and chances to "
                "combine. Reading is open for public works; partners log in or send a token.",
            },
            "servers": [{"url": "/"}],
        },
    )
    api.spec.components.security_scheme(
        "bearerToken", {"type": "http", "scheme": "bearer", "description": "an API token"}
    )
    for blueprint in (works.blp, transfer.blp, clashes.blp, digbans.blp, maps.blp):
        csrf.exempt(blueprint)  # tokens need none; sessions are checked in the blueprint
        limiter(app).limit(lambda: app.config["RATELIMIT_API"], key_func=_rate_key)(blueprint)
        api.register_blueprint(blueprint)

    @app.get(f"{API_PREFIX}/docs")
    def api_docs():
        return render_template("api_docs.html")

    return api
