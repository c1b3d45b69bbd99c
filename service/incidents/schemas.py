"""The contract of incidents and of the correction of an instance's variables."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.engine.instructions import TYPES
from service.fields import Choice, Code, Text
from service.incidents.models import ACTIONS, OPEN, RESOLVED
from service.jobs.models import DONE, FAILED, PENDING, RUNNING
from service.paging import page_of


class IncidentSchema(Schema):
    """A failed step, or a job that failed every attempt, waiting for a person."""

    id = fields.Integer()
    ticket = fields.String(attribute="ticket_number", allow_none=True)
    instance = fields.Integer(
        attribute="instance_id",
        allow_none=True,
        metadata={"description": "The failed instance of a process beside the ticket flow (its ticket is null)."},
    )
    kind = Choice(
        ACTIONS,
        metadata={"description": "What failed: opening the ticket, completing a task, a message, a step, a job."},
    )
    detail = fields.Dict(metadata={"description": "The data the failed action was given, kept for its retry."})
    element_id = fields.String(allow_none=True, metadata={"description": "The diagram element that failed."})
    last_error = fields.String()
    process = fields.String(allow_none=True, metadata={"description": "The process key the step ran."})
    version = fields.Integer(allow_none=True, metadata={"description": "The process version the step ran."})
    state = Choice((OPEN, RESOLVED))
    job = fields.Integer(attribute="job_id", allow_none=True, metadata={"description": "The failed job's id."})
    topic = fields.String(allow_none=True, metadata={"description": "The failed job's topic."})
    attempts = fields.Integer(allow_none=True, metadata={"description": "The failed job's attempts."})
    status = fields.String(
        allow_none=True, metadata={"description": f"The failed job's status: {PENDING}, {RUNNING}, {DONE} or {FAILED}."}
    )
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)


IncidentPageSchema = page_of(IncidentSchema, "IncidentPage")


class VariablesChangeSchema(Schema):
    """Variables of a running instance to overwrite, by name."""

    variables = fields.Dict(
        keys=Code(),
        values=fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Each named variable gets the value given (JSON data)."},
    )


class VariablesChangedSchema(Schema):
    """What the correction changed."""

    ticket = fields.String()
    before = fields.Dict()
    after = fields.Dict()


class InstructionSchema(Schema):
    """One of Camunda's modification instructions."""

    type = Choice(
        TYPES,
        required=True,
        metadata={"description": "Cancel the tokens at, or start one before or after, an element."},
    )
    activity_id = Code(required=True, data_key="activityId", metadata={"description": "The element's id."})


class ModificationSchema(Schema):
    """Where to move the ticket's token: one move (`cancel` and `start_before`), or Camunda's `instructions`."""

    instructions = fields.List(
        fields.Nested(InstructionSchema),
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Camunda's instruction list, applied in one step (instead of cancel/start_before)."},
    )
    annotation = Text(max_length=1000, metadata={"description": "Why: kept in the history with the move."})
    cancel = fields.List(
        Code(),
        validate=validate.Length(min=1, max=20),
        metadata={"description": "The elements whose tokens (open tasks, waiting events) are cancelled."},
    )
    start_before = Code(metadata={"description": "The element a new token starts before."})
    resolve_incidents = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Resolve the open incidents at the cancelled elements and the one stopping the ticket "
            "(required to move a ticket in the status `incident`)."
        },
    )

    @validates_schema
    def one_shape(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Either `instructions`, or `cancel` with `start_before`."""
        if "instructions" in data:
            if "cancel" in data or "start_before" in data:
                raise ValidationError("give instructions, or cancel and start_before, not both", "instructions")
            return
        missing = {
            name: ["Missing data for required field."] for name in ("cancel", "start_before") if name not in data
        }
        if missing:
            raise ValidationError(missing)


class ModifiedSchema(Schema):
    """What the move did: the elements holding a token before and after it."""

    ticket = fields.String()
    before = fields.List(fields.String())
    after = fields.List(fields.String())
    resolved_incidents = fields.List(fields.Integer())
