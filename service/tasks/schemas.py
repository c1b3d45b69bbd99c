"""The task API's contract."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from service.fields import Choice, Code, Int, Moment
from service.prices.schemas import PriceItemSchema
from service.tasks.inbox import Cursor, TaskSort
from service.tasks.models import CANCELLED, COMPLETED, OPEN
from service.tickets.schemas import SEVERITIES, FormFieldSchema, TaskSummarySchema

#: The largest page of the inbox.
MAX_PAGE_SIZE = 500
#: A cursor is far shorter than this; anything longer is refused before it is decoded.
MAX_CURSOR = 400
#: The widest `breach_soon` window: thirty days.
MAX_BREACH_HOURS = 720


class TaskSchema(TaskSummarySchema):
    """A user task with its ticket and form."""

    ticket = fields.Function(lambda task: task.ticket_number)
    state = Choice((OPEN, COMPLETED, CANCELLED))
    form = fields.List(fields.Nested(FormFieldSchema))
    candidate_users = fields.List(
        fields.String(), metadata={"description": "People who may work on it outside its queues (candidateUsers)."}
    )


class TaskSiteSchema(Schema):
    """Where the ticket's equipment stands: what an engineer on site needs to get there and in."""

    code = fields.String()
    name = fields.String()
    address = fields.String()
    city = fields.String()
    time_zone = fields.String(metadata={"description": "The IANA zone the working hours are read in."})
    access_notes = fields.String()
    working_hours = fields.String()


class TaskDetailSchema(TaskSchema):
    """A task with what its form needs: for `estimate`, the prices of the ticket's equipment valid on the day it was
    opened (per item the most specific: of its vendor and model, of its vendor, of its class); the site of the ticket's
    equipment when it has one."""

    price_list = fields.List(fields.Nested(PriceItemSchema))
    site = fields.Nested(TaskSiteSchema, allow_none=True, metadata={"description": "Null when none is known."})


class TaskListItemSchema(Schema):
    """An open task as the inbox lists it: no form (that is in `GET /tasks/{id}`)."""

    id = fields.String()
    name = fields.String()
    title = fields.String()
    candidate_groups = fields.List(fields.String(), metadata={"description": "The queues the task is in."})
    assignee = fields.String(allow_none=True)
    claimed_by = fields.String(allow_none=True)
    priority = fields.Integer(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    ticket = fields.String(metadata={"description": "The ticket's number."})
    ticket_summary = fields.String()
    severity = Choice(SEVERITIES)
    sla_due_at = fields.DateTime(allow_none=True, metadata={"description": "When the running resolution clock is due."})
    sla_seconds_left = fields.Integer(
        allow_none=True, metadata={"description": "Seconds to that deadline (negative once it has passed)."}
    )


class TaskPageSchema(Schema):
    """A page of the inbox."""

    items = fields.List(fields.Nested(TaskListItemSchema))
    next = fields.String(
        allow_none=True,
        metadata={"description": "Pass it as `cursor`, with the same filters and sort, for the next page."},
    )


class CursorField(fields.String):
    """The opaque `next` of a previous page, decoded (422 when it is not one this service wrote)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Cursor:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_CURSOR:
            raise ValidationError("not a cursor of this list")
        try:
            return Cursor.decode(text)
        except ValueError:
            raise ValidationError("not a cursor of this list") from None


class TaskQuerySchema(Schema):
    """Filters, order and page of the inbox."""

    name = Code(metadata={"description": "Only tasks of this BPMN element, e.g. `resolve` (`breach_review`: reviews)."})
    queue = Code(metadata={"description": "Only tasks of this candidate group, e.g. `storage-L1`."})
    ticket = Code(metadata={"description": "Only tasks of this ticket, e.g. `SD-000042`."})
    severity = Choice(SEVERITIES, metadata={"description": "Only tasks of tickets of this severity."})
    due_before = Moment(metadata={"description": "Only tasks due before this time."})
    status = Code(metadata={"description": "Only tasks of tickets in this status, e.g. `in_progress`."})
    team = Code(metadata={"description": "Only tasks of tickets of this team, e.g. `storage`."})
    client = Code(metadata={"description": "Only tasks of tickets of the client with this code."})
    breach_soon = Int(
        minimum=1,
        maximum=MAX_BREACH_HOURS,
        metadata={
            "description": "Hours: only tasks of tickets with a running SLA clock due within them (or overdue), "
            "or a breached clock."
        },
    )
    sort = Choice(
        tuple(s.value for s in TaskSort),
        load_default=TaskSort.CREATED.value,
        metadata={
            "description": "`created`: oldest first; `due`: soonest due first, tasks without a due time last; "
            "`severity`: most severe first, oldest first within a severity; `sla`: least SLA time left first (the "
            "running resolution clock's deadline as each page is read), tickets without a running clock last."
        },
    )
    page_size = Int(load_default=50, minimum=1, maximum=MAX_PAGE_SIZE)
    cursor = CursorField(metadata={"description": "The `next` of the previous page."})


class CompleteSchema(Schema):
    """The form's values."""

    data = fields.Dict(keys=Code(), required=True)


class CompletedSchema(Schema):
    """The ticket after the completion."""

    ticket = fields.String()
    status = fields.String()


class AssignSchema(Schema):
    """Whom the task goes to: a person of its team, or another level queue of its team (one of the two)."""

    user = Code(metadata={"description": "The username of a person of the task's team; they hold the task at once."})
    group = Code(metadata={"description": "Another level queue of the task's team, e.g. `storage-L2`."})

    @validates_schema
    def _one_of_them(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("user" in data) == ("group" in data):
            raise ValidationError("give either user or group", field_name="_schema")
