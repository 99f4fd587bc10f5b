"""KIP's errors: each carries its HTTP status and a machine-readable code.

Services raise them; the API turns them into an RFC 9457 problem body, the pages into a
message, the CLI into a one-line error. Nothing below a view needs to know about HTTP.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from psycopg.errors import QueryCanceled
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

# How long a client is asked to wait before trying again while the database is down.
RETRY_AFTER_SECONDS = 30


class KipError(Exception):
    status = 400
    code = "bad-request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://kip.invalid/problems/{self.code}",
            "title": self.message,
            "status": self.status,
            "code": self.code,
        }
        body.update(self.details)
        return body


class NotFound(KipError):
    status = 404
    code = "not-found"


class ValidationError(KipError):
    """Input that cannot be accepted; ``errors`` maps a field (or row) to its message."""

    status = 422
    code = "invalid"


class Conflict(KipError):
    status = 409
    code = "conflict"


class StaleVersion(Conflict):
    """Somebody changed the record since it was read: reload, then apply the change again."""

    code = "stale-version"


def _problem_response(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _named(messages: Any) -> Any:
    """Field messages with every key a string: a multipart field whose name cannot be read
    comes as ``None``, which JSON (sorted keys) cannot take.

    >>> _named({"form": {None: ["Unknown field."], "a": ["x"]}})
    {'form': {'': ['Unknown field.'], 'a': ['x']}}
    """
    if isinstance(messages, dict):
        return {"" if k is None else str(k): _named(v) for k, v in messages.items()}
    return messages


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(KipError)
    def handle_kip_error(error: KipError):
        if wants_json():
            response = _problem_response(error.status, error.problem())
            if error.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="kip"'
        elif error.status == 401:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        else:
            page = render_template(
                "error.html", status=error.status, message=error.message, code=error.code
            )
            response = app.make_response((page, error.status))
        if error.status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.TimeoutError)
    def handle_database_down(error: sa_exc.SQLAlchemyError):
        """While the database is down every page and endpoint answers 503 (with Retry-After),
        saying no more than that; the details go to the log (and to ``/healthz`` for those
        who may see them)."""
        from .db import unavailable

        if not unavailable(error):
            raise error  # a statement that failed: not ours to explain away
        g.database_down = True  # rendering the answer must not ask the database again
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        app.logger.warning("database unavailable: %s", detail[0] if detail else type(error))
        return handle_kip_error(DatabaseUnavailable("KIP cannot reach its database; try again"))

    @app.errorhandler(StatementTimeout)
    def handle_timeout(error: StatementTimeout):
        from .db import abandon_transaction

        abandon_transaction()  # what was done is undone; the page may ask the database again
        return handle_kip_error(error)

    @app.errorhandler(QueryCanceled)
    def handle_cancelled(error: QueryCanceled):
        """A statement cancelled past its timeout that reached the request past SQLAlchemy
        (which turns the others into :class:`StatementTimeout` itself)."""
        from .db import statement_timeout, timeout_in_force

        return handle_timeout(statement_timeout(*timeout_in_force()))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if not wants_json():
            return render_template(
                "error.html", status=error.code, message=error.description
            ), error.code or 500
        body = {
            "type": "about:blank",
            "title": error.name,
            "status": error.code,
            "detail": error.description,
        }
        messages = (getattr(error, "data", None) or {}).get("messages")
        if messages:  # webargs: per location, per field
            body["errors"] = _named(messages)
            body["title"] = "the request is not valid"
        response = _problem_response(error.code or 500, body)
        if error.code == 405 and (allowed := error.get_headers()):
            for name, value in allowed:
                if name == "Allow":
                    response.headers["Allow"] = value
        return response


class StatementTimeout(KipError):
    """The database cancelled a statement that ran past its ``statement_timeout``:
    nothing was written; the same request may succeed when the database is less busy."""

    status = 503
    code = "statement-timeout"


class PreconditionFailed(KipError):
    """The version the request says it read is not the current one (If-Match)."""

    status = 412
    code = "precondition-failed"


class PreconditionRequired(KipError):
    """A write that does not say which version it read (no If-Match)."""

    status = 428
    code = "precondition-required"


class Unauthorized(KipError):
    """Who you are is not known (no or a bad login or token)."""

    status = 401
    code = "unauthorized"


class Forbidden(KipError):
    """Who you are is known, and you may not do this."""

    status = 403
    code = "forbidden"


class DatabaseUnavailable(KipError):
    """The database is down or not taking connections: try again later."""

    status = 503
    code = "database-unavailable"
