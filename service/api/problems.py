"""Errors as application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from service.errors import ServiceError, from_the_database

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


def answer(error: ServiceError) -> Response:
    """The problem answer of a refusal; one caused by a database error is logged and answered as a bare 500."""
    if from_the_database(error):
        # A database error's text names the statement and its parameters: it is logged, never answered.
        log.error("database error behind %s", type(error).__name__, exc_info=error)
        return problem(500, "Internal Server Error")
    response = problem(error.status, error.title, error.detail, **error.extra)
    response.headers.update(getattr(error, "headers", {}))
    return response


def register(app: Flask) -> None:
    """Answer every error of the app as problem+json; unknown ones are logged and answered as a bare 500."""

    app.register_error_handler(ServiceError, answer)

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


def _field_errors(messages: dict[str, Any]) -> dict[str, Any]:
    """Webargs nests the errors by location (json, query, headers); keep the fields of each."""
    errors: dict[str, Any] = {}
    for location, found in messages.items():
        if isinstance(found, dict):
            errors.update(found)
        else:
            errors[location] = found
    return errors
