"""The workspace registered on the app: its pages at `/`, its languages, the vendored htmx, its error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, request, send_from_directory
from flask_babel import format_datetime, format_timedelta, get_locale
from werkzeug.exceptions import HTTPException

from service.errors import ServiceError
from service.web import (
    dashboard,
    desk,
    field,
    i18n,
    incident_notice,
    labels,
    offline,
    pages,
    portal,
    workspace_extras,
)
from service.web.signin import CSRF_FIELD, csrf_value, keep_form_cookie, signed_in

#: The npm packages the pages load, served at `/assets/vendor/<name>` from node_modules (`npm install` puts them
#: there: `make run` and `make test` run it); nothing comes from a CDN.
VENDOR = {"htmx.min.js": Path("htmx.org") / "dist" / "htmx.min.js"}
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
#: The pages load only what this site serves.
POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"


def is_page(path: str) -> bool:
    """A request for a page (not the API, the metrics or the API's documents)."""
    return not (path.startswith("/api/") or path == "/metrics")


def register(app: Flask) -> None:
    """The pages at `/`, answered as pages even when they fail; the API's answers stay problem+json."""
    i18n.register(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(field.bp)
    app.register_blueprint(offline.bp)
    app.register_blueprint(workspace_extras.bp)
    app.register_blueprint(incident_notice.bp)

    @app.get("/assets/vendor/<name>")
    def vendor(name: str) -> Response:
        if name not in VENDOR:
            return pages.error_page(404)
        found = VENDOR[name]
        response = send_from_directory(NODE_MODULES / found.parent, found.name, max_age=3600)
        return response

    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        if not is_page(request.path):
            return {}
        return {
            "person": signed_in(),
            "csrf_field": CSRF_FIELD,
            "csrf_value": csrf_value,
            "when": lambda moment: format_datetime(moment, "short") if moment is not None else "—",
            "left": _left,
            "word": labels.word,
            "diagram_word": labels.diagram_word,
            "get_locale": get_locale,
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        if is_page(request.path) and response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Cache-Control", "no-store")
            keep_form_cookie(response)
        return response

    # After the API's handlers (`problems.register`): a page's failure is a page, the API's stays problem+json.
    handlers = app.error_handler_spec[None][None]
    for kind in (ServiceError, HTTPException, Exception):
        _page_or_problem(app, kind, handlers[kind])


def _page_or_problem(app: Flask, kind: type[Exception], api_handler: Any) -> None:
    def handle(error: Exception) -> Any:
        if not is_page(request.path):
            return api_handler(error)
        if isinstance(error, ServiceError):
            status = error.status
        elif isinstance(error, HTTPException):
            status = error.code or 500
        else:
            api_handler(error)  # logged as the API logs it
            status = 500
        return pages.error_page(status)

    app.register_error_handler(kind, handle)


def _left(seconds: int | None) -> str:
    """Time left to a deadline, in words of the person's language (`-` in front once it has passed)."""
    if seconds is None:
        return "—"
    words = format_timedelta(abs(seconds), granularity="minute", threshold=1.1)
    return words if seconds >= 0 else f"−{words}"
