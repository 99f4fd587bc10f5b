"""How an error answers over HTTP: the handlers ``create_app`` registers for every blueprint.

A :class:`~kip.errors.KipError` (and any HTTP error Werkzeug raises) becomes an RFC 9457
problem body (``application/problem+json``) for the API and for clients that ask for JSON,
an error page for a browser, and a redirect to the login page for a browser that is not
logged in. A database that is down, or a statement it cancelled past its time limit,
answers 503 with ``Retry-After``. The errors themselves (:mod:`kip.errors`) know nothing of
Flask; this is the one place that turns them into responses.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from psycopg.errors import QueryCanceled
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from ..db import abandon_transaction, statement_timeout, timeout_in_force, unavailable
from ..errors import DatabaseUnavailable, KipError, StatementTimeout

# How long a client is asked to wait before trying again while the database is down.
RETRY_AFTER_SECONDS = 30


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


def init_app(app: Flask) -> None:
    """Register the handlers (after the API's, so every error speaks problem+json)."""

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

        if not unavailable(error):
            raise error  # a statement that failed: not ours to explain away
        g.database_down = True  # rendering the answer must not ask the database again
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        app.logger.warning("database unavailable: %s", detail[0] if detail else type(error))
        return handle_kip_error(DatabaseUnavailable("KIP cannot reach its database; try again"))

    @app.errorhandler(StatementTimeout)
    def handle_timeout(error: StatementTimeout):

        abandon_transaction()  # what was done is undone; the page may ask the database again
        return handle_kip_error(error)

    @app.errorhandler(QueryCanceled)
    def handle_cancelled(error: QueryCanceled):
        """A statement cancelled past its timeout that reached the request past SQLAlchemy
        (which turns the others into :class:`StatementTimeout` itself)."""

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
