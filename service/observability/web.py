"""The request's observable edge: its request id (taken or made, echoed back), its metrics and its access log line."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from service.observability import metrics, request_id

log = logging.getLogger("orchestrator.access")
#: The route label of a request that matched no URL rule (a 404 of an unknown path): raw paths would be unbounded.
UNMATCHED = "<unmatched>"


def register(app: Flask) -> None:
    """Bind the request id before anything else runs, and count and log every answer after everything else.

    Register this before the other hooks: Flask runs `before_request` hooks in order and `after_request` hooks in
    reverse, so the status counted is the one sent (after the commit may have turned it into a 409).
    """

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request_id.accept(request.headers.get(request_id.HEADER))
        g.request_id_token = request_id.bind(g.request_id)
        metrics.HTTP_IN_PROGRESS.inc()

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        response.headers[request_id.HEADER] = g.request_id
        metrics.request_answered(method=request.method, route=route, status=response.status_code, seconds=seconds)
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
        return response

    @app.teardown_request
    def _end(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            metrics.HTTP_IN_PROGRESS.dec()
            request_id.unbind(token)
