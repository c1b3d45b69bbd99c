"""The request's edge: one session and one transaction per request, and the caller."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.api import problems
from service.api.guard import check_request
from service.api.problems import CONCURRENT_CHANGE, problem
from service.auth.login import CSRF_HEADER, SESSION_COOKIE, UNSAFE_METHODS, check_csrf, session_caller
from service.auth.models import Caller
from service.auth.services import authenticate
from service.context import Context
from service.errors import ProcessFailed
from service.incidents.records import record_failure_apart

#: Routes anyone may call: the health checks, the document, and signing in (logout ends whatever the request carries).
PUBLIC = {
    "/api/v1/health",
    "/api/v1/health/ready",
    "/api/v1/openapi.json",
    "/metrics",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
}


def context() -> Context:
    """The process's context."""
    return current_app.extensions["orchestrator"]


def session() -> Session:
    """The request's session, opened on first use."""
    if "session" not in g:
        g.session = context().sessions()
    return g.session


def user() -> Caller:
    """The authenticated caller."""
    return g.user


def register(app: Flask) -> None:
    """Refuse unreadable paths and query strings, authenticate API requests before the view; commit or roll back
    after it."""

    @app.before_request
    def _guard() -> None:
        check_request(request)

    @app.before_request
    def _authenticate() -> None:
        if request.path.startswith("/api/v1/") and request.path not in PUBLIC and not _is_docs(request.path):
            g.user = _caller()

    @app.after_request
    def _commit(response: Response) -> Response:
        db = g.pop("session", None)
        if db is None:
            return response
        try:
            if response.status_code < 400:
                db.commit()
            else:
                db.rollback()
        except (IntegrityError, StaleDataError):
            db.rollback()
            return problem(409, "Conflict", CONCURRENT_CHANGE)
        finally:
            db.close()
        return response

    @app.errorhandler(ProcessFailed)
    def _process_failed(error: ProcessFailed) -> Response:
        # The step's transaction is lost; the incident is kept in one of its own, so a person sees what stopped,
        # and the answer (409) names it.
        db = g.get("session")
        if db is not None:
            db.rollback()
        record_failure_apart(context(), error)
        return problems.answer(error)

    @app.teardown_request
    def _close(_error: BaseException | None) -> None:
        db = g.pop("session", None)
        if db is not None:
            db.rollback()
            db.close()


def _caller() -> Caller:
    """The caller of a bearer token, else of the session cookie; a change by cookie needs the session's CSRF value."""
    authorization = request.headers.get("Authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    if authorization is not None or not cookie:
        return authenticate(session(), authorization=authorization)
    caller = session_caller(session(), token=cookie)
    if request.method in UNSAFE_METHODS:
        check_csrf(cookie, request.headers.get(CSRF_HEADER))
    return caller


def _is_docs(path: str) -> bool:
    return path.startswith("/api/v1/docs")
