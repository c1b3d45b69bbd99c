"""Routes for messages, incidents, deployed process versions and health."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from service.api.edge import context, session, user
from service.auth.services import require_role
from service.jobs import services as jobs
from service.processes.definitions import list_definitions
from service.processes.messages import send_message
from service.processes.schemas import DefinitionSchema, IncidentSchema, MessageResultSchema, MessageSchema

blp = Blueprint("processes", __name__, description="Messages, incidents, process versions and health.")


@blp.route("/messages")
class Messages(MethodView):
    @blp.arguments(MessageSchema)
    @blp.response(200, MessageResultSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Deliver a message (e.g. `parts_delivered`) to the ticket's instance; 404 when nothing waits for it."""
        ticket = send_message(
            session(), context(), user=user(), name=body["name"], number=body["ticket"], data=body["data"]
        )
        return {"ticket": ticket.number, "status": ticket.status}


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.response(200, IncidentSchema(many=True))
    def get(self) -> list[Any]:
        """Jobs that failed every attempt."""
        require_role(user(), "manager", "duty", "process_owner")
        return jobs.list_incidents(session())


@blp.route("/incidents/<int:job_id>/retry")
class Retry(MethodView):
    @blp.response(200, IncidentSchema)
    def post(self, job_id: int) -> Any:
        """Queue the failed job again with a fresh count of attempts."""
        require_role(user(), "manager", "duty", "process_owner")
        return jobs.retry_incident(session(), job_id=job_id, actor=user().username)


@blp.route("/process-definitions")
class Definitions(MethodView):
    @blp.response(200, DefinitionSchema(many=True))
    def get(self) -> list[Any]:
        """Every deployed version of every process, newest first."""
        return list_definitions(session())


@blp.route("/health")
class Health(MethodView):
    @blp.response(200)
    def get(self) -> dict[str, Any]:
        """Liveness and database reachability; needs no token."""
        session().execute(text("SELECT 1"))
        return {"status": "ok"}
