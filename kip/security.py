"""Logins, tokens, CSRF, rate limits and security headers, set up once for the whole app.

Views ask :func:`current_actor` who is acting. It is a partner system when the request
carries ``Authorization: Bearer <token>``, a person when they are logged in, else the
public. Sessions end when the password changes (the session id includes its time).

Every request passes the same gates in the same order: its rate limit, then — for a write —
:func:`login_first` (who is asking), then the CSRF check, and only then does a view read its
body, its ``If-Match`` or the record it names.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db, policy
from .actors import Actor
from .errors import Unauthorized
from .models import User

# Flask-Login and Flask-WTF keep no per-app state in these objects; the rate limiter does,
# so each app gets its own (:func:`limiter`).
login_manager = LoginManager()
csrf = CSRFProtect()


class SessionUser(UserMixin):
    """The logged-in person as Flask-Login sees them."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.password_changed_at.timestamp()}"

    @property
    def is_active(self) -> bool:
        return self.user.active


@login_manager.user_loader
def _load_user(session_id: str) -> SessionUser | None:
    user_id, _, changed = session_id.partition(":")
    if not user_id.isdigit() or g.get("database_down"):
        return None  # with the database down, nobody can be looked up: show the public page
    user = db.session().get(User, int(user_id))
    if user is None or not user.active or str(user.password_changed_at.timestamp()) != changed:
        return None
    return SessionUser(user)


def current_actor() -> Actor:
    """Who is acting in this request (resolved once, on first use).

    A bad token is refused with :class:`~kip.errors.Unauthorized` on every call, without
    asking the database again.
    """
    if "actor" not in g:
        if g.get("database_down"):
            return Actor.public()  # rendering the 503 page: nobody can be looked up
        if "actor_refused" in g:
            raise Unauthorized(g.actor_refused)
        try:
            g.actor = _resolve_actor()
        except Unauthorized as refusal:
            g.actor_refused = refusal.message
            raise
    return g.actor


def valid_token_id() -> int | None:
    """The id of the live API token this request carries; None without one, or when it is
    unknown, revoked, expired or malformed."""
    if not request.headers.get("Authorization"):
        return None
    try:
        return current_actor().token_id
    except Unauthorized:
        return None


View = TypeVar("View", bound=Callable[..., object])


def open_to_strangers(view: View) -> View:
    """Mark a view whose writes are meant for people who are not logged in (logging in,
    asking for and using a password reset link): :func:`login_first` lets them through."""
    view.open_to_strangers = True  # type: ignore[attr-defined]
    return view


def login_first() -> None:
    """A write needs a known caller, and that is checked before anything else.

    Runs before every request (after its rate limit): a POST, PUT, PATCH or DELETE by the
    public or with a bad token is refused here with 401 (a page sends the caller to the login
    page), before the CSRF check, before the body is parsed and before the record it names
    or its ``If-Match`` is looked at, so a stranger learns nothing from the answer. Only the
    views marked :func:`open_to_strangers` take writes from anyone.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint is None:
        return  # reads decide in their views; an unknown URL or method gets its 404/405
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "open_to_strangers", False):
        return
    policy.require_login(current_actor())


def _resolve_actor() -> Actor:
    from .services.accounts import actor_for_token, actor_for_user, authenticate_token

    header = request.headers.get("Authorization")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
        token = authenticate_token(db.session(), secret.strip())
        if token is None:
            raise Unauthorized("the token is unknown, revoked or expired")
        return actor_for_token(token)
    if current_user.is_authenticated:
        return actor_for_user(current_user.user)
    return Actor.public()


def csp_nonce() -> str:
    """A per-response nonce for the few inline scripts KIP writes itself."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _tile_origin(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def _security_headers(response: Response) -> Response:
    config = current_app.config
    scripts = f"'self' 'nonce-{csp_nonce()}'"
    response.headers["Content-Security-Policy"] = "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: {_tile_origin(config['TILE_URL'])}".strip(),
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    if config["HTTPS"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if g.get("actor") is not None and not g.actor.is_public:
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
        response.vary.add("Authorization")
    return response


def init_app(app: Flask) -> None:
    config = app.config
    config.setdefault("SESSION_COOKIE_NAME", "kip_session")
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = bool(config["HTTPS"])
    config["REMEMBER_COOKIE_SECURE"] = bool(config["HTTPS"])
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        seconds=int(config["PERMANENT_SESSION_LIFETIME"])
    )
    if int(config["TRUSTED_PROXIES"]):
        n = int(config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    # The order of these three is the order of the checks (see the module's docstring).
    app.extensions["kip.limiter"] = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=config["RATELIMIT_STORAGE_URI"],
        headers_enabled=True,
    )
    app.before_request(login_first)
    csrf.init_app(app)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["current_actor"] = current_actor


def limiter(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions["kip.limiter"]


def rate_limit(app: Flask, endpoint: str, limit_setting: str, **kw: object) -> None:
    """Apply the limit in config ``limit_setting`` to a registered view (POST only unless
    ``methods`` says otherwise). Limits live in configuration, not in decorators."""
    kw.setdefault("methods", ["POST"])
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter(app).limit(app.config[limit_setting], **kw)(view)


def csrf_for_session_writes() -> None:
    """For API blueprints: a write by a logged-in browser needs the CSRF token (header
    ``X-CSRFToken``), as a form does. Tokens need none; nobody at all got 401 already
    (:func:`login_first`)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("Authorization") or not current_user.is_authenticated:
        return
    csrf.protect()
