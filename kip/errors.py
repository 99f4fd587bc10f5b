"""KIP's errors: each carries its HTTP status and a machine-readable code.

Services raise them; the API turns them into an RFC 9457 problem body, the pages into a
message (both in :mod:`kip.web.errors`), the CLI into a one-line error. Nothing below a view
needs to know about HTTP: this module imports no Flask, so neither do the engine, the
policy and the readers that raise these errors.
"""

from __future__ import annotations

from typing import Any


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
