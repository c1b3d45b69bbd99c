"""The contract of process, message and incident routes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.fields import Code, Int, Line
from service.paging import PageArgs, page_of


class MessageSchema(Schema):
    """A message for the instance of a ticket."""

    name = Code(required=True)
    ticket = Code(
        metadata={"description": "The ticket whose instance gets it; none: the message starts a process that waits."}
    )
    data = fields.Dict(keys=Code(), load_default=dict)


class MessageResultSchema(Schema):
    """Where the message went: the ticket (its status), or the instance it started (belonging to the ticket)."""

    ticket = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    instance = fields.Integer(allow_none=True, metadata={"description": "The instance the message started."})


class DefinitionSchema(Schema):
    """A deployed version of a diagram."""

    key = fields.String()
    version = fields.Integer()
    hash = fields.String(attribute="content_hash")
    name = fields.String()
    filename = fields.String()
    deployed_at = fields.DateTime()
    deployed_by = fields.String()


class DiagramProblemSchema(Schema):
    """Something the check of a diagram found: the element (or the one holding it), its XML line, what, and what to
    do instead."""

    element = fields.String(attribute="element_id", allow_none=True)
    line = fields.Integer(allow_none=True)
    detail = fields.String()
    hint = fields.String(allow_none=True)


class DeployedSchema(DefinitionSchema):
    """A deployment's answer: the version, and the warnings of the diagram's check (none if deployed before)."""

    warnings = fields.List(fields.Nested(DiagramProblemSchema))

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "warnings":
            return obj.warnings
        return super().get_attribute(obj.definition, attr, default)


class UploadQuerySchema(Schema):
    """How to name a diagram sent as the raw body."""

    filename = Line(
        load_default="upload.bpmn", metadata={"description": "Named in refusals; a multipart `file` brings its own."}
    )


class DefinitionVersionSchema(DefinitionSchema):
    """A deployed version and the tickets that run it."""

    latest = fields.Boolean(metadata={"description": "New tickets start this version."})
    tickets_open = fields.Integer(metadata={"description": "Open tickets running this version."})
    tickets_total = fields.Integer(metadata={"description": "Tickets that ever ran it (open and closed)."})


DefinitionVersionPageSchema = page_of(DefinitionVersionSchema, "DefinitionVersionPage")


class MigrationTargetSchema(Schema):
    """The version to move tickets onto."""

    key = Code(required=True, metadata={"description": "The process id, e.g. `ticket`."})
    version = Int(required=True, minimum=1)


class MigrationFilterSchema(Schema):
    """Running tickets to move (every criterion given must hold); tickets already on the target are left out."""

    status = Code()
    team = Code()
    from_version = Int(minimum=1)


class MigrationRequestSchema(Schema):
    """What to move where; `tickets` or `filter`, not both."""

    target = fields.Nested(MigrationTargetSchema, required=True)
    tickets = fields.List(Code(), validate=validate.Length(min=1, max=1000))
    filter = fields.Nested(MigrationFilterSchema)
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Check and report; change nothing."})

    @validates_schema
    def _one_selection(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("tickets" in data) == ("filter" in data):
            raise ValidationError("give either `tickets` (numbers) or `filter`", field_name="tickets")


class TicketMoveSchema(Schema):
    """One ticket's outcome."""

    ticket = fields.String()
    status = fields.String(metadata={"description": "`migrated`, `would_migrate` (dry run) or `refused`."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it was refused."})
    from_version = fields.Integer(allow_none=True)
    to_version = fields.Integer(allow_none=True)
    position = fields.List(fields.String(), metadata={"description": "The elements the ticket waits at."})
    added = fields.List(fields.String(), metadata={"description": "Elements the target has and its version lacks."})
    removed = fields.List(fields.String(), metadata={"description": "Elements its version has and the target lacks."})
    changed = fields.List(fields.String(), metadata={"description": "Elements of another kind or asking otherwise."})


class MigrationReportSchema(Schema):
    """What moved, what would move, and what was refused."""

    target = fields.Function(lambda report: {"key": report.key, "version": report.version})
    dry_run = fields.Boolean()
    migrated = fields.Function(lambda report: report.count("migrated"))
    would_migrate = fields.Function(lambda report: report.count("would_migrate"))
    refused = fields.Function(lambda report: report.count("refused"))
    results = fields.List(fields.Nested(TicketMoveSchema))


class StartSchema(Schema):
    """What to start a process beside the ticket flow with."""

    variables = fields.Dict(keys=Code(), load_default=dict, metadata={"description": "The instance's variables."})
    ticket = Code(metadata={"description": "The number of the ticket the instance belongs to, if any."})


class InstanceSchema(Schema):
    """A process instance: its process and version, whether it runs, and its ticket."""

    id = fields.Integer()
    key = fields.String()
    version = fields.Integer()
    state = fields.Function(lambda row: "completed" if row["completed"] else "running")
    ticket = fields.Function(
        lambda row: row["flow_ticket"] or row["owner_ticket"],
        metadata={"description": "The ticket whose flow it is, or the one it belongs to; null for none."},
    )
    ticket_flow = fields.Function(lambda row: row["flow_ticket"] is not None)
    started_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class InstanceQuerySchema(PageArgs):
    """Which instances of processes beside the ticket flow to list."""

    key = Code(metadata={"description": "Only this process's."})


InstancePageSchema = page_of(InstanceSchema, "InstancePage")
