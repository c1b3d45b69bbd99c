"""The task API's contract."""

from __future__ import annotations

from marshmallow import Schema, fields

from service.fields import Choice, Code
from service.tasks.models import CANCELLED, COMPLETED, OPEN
from service.tickets.schemas import FormFieldSchema, TaskSummarySchema


class TaskSchema(TaskSummarySchema):
    """A user task with its ticket and form."""

    ticket = fields.Function(lambda task: task.ticket_number)
    state = Choice((OPEN, COMPLETED, CANCELLED))
    form = fields.List(fields.Nested(FormFieldSchema))


class PriceItemSchema(Schema):
    """One line of the price list."""

    equipment_class = fields.String()
    item = fields.String()
    price = fields.Decimal(as_string=True)
    currency = fields.String()


class TaskDetailSchema(TaskSchema):
    """A task with what its form needs: for `estimate`, the price list of the ticket's equipment class."""

    price_list = fields.List(fields.Nested(PriceItemSchema))


class TaskQuerySchema(Schema):
    """Filters of the task list."""

    name = Code(metadata={"description": "Only tasks of this BPMN element, e.g. `resolve`."})


class CompleteSchema(Schema):
    """The form's values."""

    data = fields.Dict(keys=Code(), required=True)


class CompletedSchema(Schema):
    """The ticket after the completion."""

    ticket = fields.String()
    status = fields.String()
