"""Routes for operators: readiness (under /api/v1/health) and Prometheus metrics (/metrics); neither needs a user."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from service.api.edge import context
from service.api.guard import Blueprint
from service.errors import Unauthorized
from service.observability.gauges import DatabaseGauges
from service.observability.metrics import registry_with
from service.observability.readiness import check_readiness

health = Blueprint("health", __name__, url_prefix="/health", description="Readiness of this process to serve.")
exposition = Blueprint("metrics", __name__, description="Prometheus metrics for operators.")


class CheckSchema(Schema):
    ok = fields.Boolean(required=True)
    detail = fields.String(required=True)


class ReadinessSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ready", "not_ready"]})
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(CheckSchema), required=True)


@health.route("/ready")
class Ready(MethodView):
    @health.response(200, ReadinessSchema)
    @health.alt_response(503, schema=ReadinessSchema, description="A check failed; `checks` says which.")
    def get(self) -> tuple[dict[str, Any], int]:
        """Readiness: the database answers, its schema is the newest, a worker was seen recently; needs no token."""
        ctx = context()
        result = check_readiness(ctx.engine, worker_within_seconds=ctx.config.ready_worker_seconds)
        body = {
            "status": "ready" if result.ready else "not_ready",
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in result.checks},
        }
        return body, 200 if result.ready else 503


TEXT = {"description": "The Prometheus text format.", "content": {"text/plain": {"schema": {"type": "string"}}}}


@exposition.route("/metrics")
class Metrics(MethodView):
    @exposition.response(200)
    @exposition.doc(responses={"200": TEXT})
    def get(self) -> Response:
        """Every process's metrics and the gauges counted in the database; a bearer token when one is configured."""
        ctx = context()
        expected = ctx.config.metrics_token
        offered = request.headers.get("Authorization", "")
        if expected and not hmac.compare_digest(offered.encode(), f"Bearer {expected}".encode()):
            raise Unauthorized("/metrics needs the metrics token (ORCHESTRATOR_METRICS_TOKEN) as a bearer token")
        registry = current_app.extensions["orchestrator.metrics"]
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def metrics_registry(app: Flask) -> None:
    """Give the app the registry its /metrics serves: every process's values and the database gauges."""
    ctx = app.extensions["orchestrator"]
    gauges = DatabaseGauges(ctx.sessions, cache_seconds=ctx.config.metrics_cache_seconds)
    app.extensions["orchestrator.metrics"] = registry_with(gauges)
