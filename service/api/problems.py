"""Errors as application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from service.errors import ServiceError

log = logging.getLogger("orchestrator.api")
PROBLEM = "application/problem+json"
#: What a request is told when a concurrent one changed the same rows first (a unique key, a stale version).
CONCURRENT_CHANGE = "a concurrent request changed the same thing; try again"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({key: value for key, value in extra.items() if value is not None})
    return Response(json.dumps(body), status=status, mimetype=PROBLEM)


def register(app: Flask) -> None:
    """Answer every error of the app as problem+json; unknown ones are logged and answered as a bare 500."""

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response:
        if _from_the_database(error):
            # A database error's text names the statement and its parameters: it is logged, never answered.
            log.error("database error behind %s", type(error).__name__, exc_info=error)
            return problem(500, "Internal Server Error")
        return problem(error.status, error.title, error.detail, **error.extra)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        extra: dict[str, Any] = {}
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if messages:
            extra["errors"] = _field_errors(messages)
        detail = error.description if isinstance(error.description, str) else None
        cause = getattr(error, "exc", None)
        if isinstance(cause, ServiceError):
            detail = cause.detail
        elif error.code == 422 and messages:
            detail = "the request does not fit the schema"
        return problem(error.code or 500, error.name, detail, **extra)

    @app.errorhandler(IntegrityError)
    @app.errorhandler(StaleDataError)
    def _concurrent_change(error: Exception) -> Response:
        # The services give each race one winner; a constraint that still catches a loser is logged and answered
        # as the race it is, not as a failure of the service.
        log.warning("a concurrent change was refused by the database: %s", error)
        return problem(409, "Conflict", CONCURRENT_CHANGE)

    @app.errorhandler(Exception)
    def _unknown(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error")


def _from_the_database(error: BaseException) -> bool:
    """True when a database error (its text carries the SQL) is anywhere in the chain of causes of `error`."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, StatementError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _field_errors(messages: dict[str, Any]) -> dict[str, Any]:
    """Webargs nests the errors by location (json, query, headers); keep the fields of each."""
    errors: dict[str, Any] = {}
    for location, found in messages.items():
        if isinstance(found, dict):
            errors.update(found)
        else:
            errors[location] = found
    return errors
