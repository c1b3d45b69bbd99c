"""Routes for messages, incidents, deployed process versions and health."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import text

from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.errors import Invalid
from service.incidents import services as incidents
from service.incidents.schemas import IncidentPageSchema, IncidentSchema
from service.jobs.topics import ServedTopics
from service.paging import Page, PageArgs
from service.processes import apart, versions
from service.processes.messages import send_message
from service.processes.migration import MigrationReport, TicketFilter, migrate_tickets
from service.processes.schemas import (
    DefinitionSchema,
    DefinitionVersionPageSchema,
    DeployedSchema,
    InstancePageSchema,
    InstanceQuerySchema,
    InstanceSchema,
    MessageResultSchema,
    MessageSchema,
    MigrationReportSchema,
    MigrationRequestSchema,
    StartSchema,
    UploadQuerySchema,
)

blp = Blueprint("processes", __name__, description="Messages, incidents, process versions and health.")


@blp.route("/messages")
class Messages(MethodView):
    @blp.arguments(MessageSchema)
    @blp.response(200, MessageResultSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Deliver a message (e.g. `parts_delivered`) to the ticket's instance; when nothing there waits for it, or no
        `ticket` is named, a process whose start event catches it starts (belonging to the ticket); 404 when none."""
        sent = send_message(
            session(), context(), user=user(), name=body["name"], number=body.get("ticket"), data=body["data"]
        )
        ticket = sent.ticket
        return {
            "ticket": ticket.number if ticket is not None else None,
            "status": ticket.status if ticket is not None else None,
            "instance": sent.instance.id if sent.instance is not None else None,
        }


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, IncidentPageSchema)
    def get(self, args: dict[str, Any]) -> Page[Any]:
        """A page of the open incidents (failed steps, and jobs that failed every attempt), oldest first; `next` is
        the cursor of the page after it."""
        return incidents.list_incidents(session(), user=user(), **args)


@blp.route("/incidents/<int:incident_id>/retry")
class Retry(MethodView):
    @blp.response(200, IncidentSchema)
    def post(self, incident_id: int) -> Any:
        """Resolve an incident by doing the failed action again on the ticket's current process version: a job is
        queued again with a fresh count of attempts, a step is done again with the data it was given (409 with
        the new error when it fails again; the incident stays open)."""
        return incidents.retry_incident(session(), context(), user=user(), incident_id=incident_id)


UPLOAD = {
    "required": True,
    "content": {
        "application/xml": {"schema": {"type": "string"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
    },
}


XML_CONTENT = {
    "description": "The diagram as deployed.",
    "content": {"application/xml": {"schema": {"type": "string"}}},
}


def _filename(name: str | None) -> str | None:
    """The multipart file's own name, checked like the `filename` argument."""
    try:
        return UploadQuerySchema().load({"filename": name})["filename"] if name else None
    except ValidationError as error:
        raise Invalid(
            "the file's name is not acceptable", errors={"file": error.normalized_messages().get("filename", [])}
        ) from error


def _diagram(filename: str) -> tuple[bytes, str]:
    """The uploaded diagram: a multipart `file`, or else the raw body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("the multipart body has no `file`", errors={"file": ["Missing data for required field."]})
        return upload.read(), _filename(upload.filename) or filename
    body = request.get_data()
    if not body.strip():
        raise Invalid("send the diagram as the body (application/xml) or as a multipart `file`")
    return body, filename


@blp.route("/process-definitions")
class Definitions(MethodView):
    @blp.response(200, DefinitionSchema(many=True))
    def get(self) -> list[Any]:
        """Every deployed version of every process, newest first."""
        return versions.list_deployed(session(), user=user())

    @blp.arguments(UploadQuerySchema, location="query")
    @blp.doc(requestBody=UPLOAD)
    @blp.response(201, DeployedSchema)
    @blp.alt_response(200, schema=DeployedSchema, description="A version with the same content was deployed before.")
    def post(self, args: dict[str, Any]) -> tuple[Any, int]:
        """Deploy a diagram (role `process_owner`): 422 lists every problem found (`problems`: element, line, detail,
        hint); a deployed diagram's answer lists what its check warns about (`warnings`)."""
        xml, filename = _diagram(args["filename"])
        topics = ServedTopics.of(context().config.external_topics)
        ticket_process = context().config.ticket_process
        deployed = versions.upload_definition(
            session(), user=user(), xml=xml, filename=filename, topics=topics, ticket_process=ticket_process
        )
        context().definitions.forget_latest()
        return deployed, 201 if deployed.created else 200


@blp.route("/process-definitions/<key>/versions")
class DefinitionVersions(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DefinitionVersionPageSchema)
    def get(self, args: dict[str, Any], key: str) -> Page[Any]:
        """A page of the versions of a process, newest first, with how many tickets run it."""
        return versions.list_versions(session(), user=user(), key=key, **args)


@blp.route("/process-definitions/<key>/versions/<int:version>/xml")
class DefinitionXml(MethodView):
    @blp.response(200)
    @blp.doc(responses={"200": XML_CONTENT})
    def get(self, key: str, version: int) -> Response:
        """The BPMN XML of one version, to open in Camunda Modeler or bpmn.io."""
        row = versions.get_version(session(), user=user(), key=key, version=version)
        disposition = f'attachment; filename="{key}-v{version}.bpmn"'
        return Response(row.xml, mimetype="application/xml", headers={"Content-Disposition": disposition})


@blp.route("/process-definitions/<key>/start")
class StartProcess(MethodView):
    @blp.arguments(StartSchema)
    @blp.response(201, InstanceSchema)
    def post(self, body: dict[str, Any], key: str) -> tuple[Any, int]:
        """Start the newest version of a process beside the ticket flow (role `process_owner`), with `variables` and
        optionally the `ticket` it belongs to; 404 for an unknown process, 409 for the ticket flow itself."""
        started = apart.start_by_request(
            session(), context(), user=user(), key=key, variables=body["variables"], ticket=body.get("ticket")
        )
        return started, 201


@blp.route("/process-instances")
class Instances(MethodView):
    @blp.arguments(InstanceQuerySchema, location="query")
    @blp.response(200, InstancePageSchema)
    def get(self, args: dict[str, Any]) -> Page[Any]:
        """A page of the instances of processes beside the ticket flow, newest first (`key`: of one process)."""
        return apart.list_instances(session(), user=user(), **args)


@blp.route("/process-instances/<int:instance_id>")
class Instance(MethodView):
    @blp.response(200, InstanceSchema)
    def get(self, instance_id: int) -> Any:
        """One process instance, of any process: to follow one started through the API."""
        return apart.get_instance(session(), user=user(), instance_id=instance_id)


@blp.route("/migrations")
class Migrations(MethodView):
    @blp.arguments(MigrationRequestSchema)
    @blp.response(200, MigrationReportSchema)
    def post(self, body: dict[str, Any]) -> MigrationReport:
        """Move running tickets onto another version (role `process_owner`), each ticket in its own transaction."""
        where = TicketFilter(**body["filter"]) if "filter" in body else None
        return migrate_tickets(
            session(),
            context(),
            user=user(),
            key=body["target"]["key"],
            version=body["target"]["version"],
            numbers=body.get("tickets"),
            where=where,
            dry_run=body["dry_run"],
        )


@blp.route("/health")
class Health(MethodView):
    @blp.response(200)
    def get(self) -> dict[str, Any]:
        """Liveness and database reachability; needs no token."""
        session().execute(text("SELECT 1"))
        return {"status": "ok"}
