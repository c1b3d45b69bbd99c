"""The engineer's day offline: the service worker at the site's root, and the completion key the task form carries.

`sw.js` (served at `/sw.js`, so its scope is the whole site) keeps the static assets, "My work" and the task pages
the person opened or that "My work" lists; with no connection it answers those from its cache (the page then shows
the "offline" banner), and keeps the completion and check-in/out forms sent meanwhile in IndexedDB, sending them
when the connection returns. Each task form carries a fresh `idempotency_key`, so a form sent twice (a replay whose
first answer was lost) completes its task once. `offline.js` registers the worker and shows what it reports.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, send_from_directory

bp = Blueprint("offline", __name__)
STATIC = Path(__file__).parent / "static"


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, from the root so that it may serve every page; always checked for a newer one."""
    response = send_from_directory(STATIC, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.app_context_processor
def _completion_key() -> dict[str, Any]:
    return {"completion_key": completion_key}


def completion_key() -> str:
    """A new key for one task form: the completion it sends is done once however often it is sent."""
    return secrets.token_urlsafe(16)
