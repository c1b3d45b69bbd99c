"""The ticket's API contract."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.engine.forms import FIELD_TYPES
from service.fields import Choice, Code, Email, Line, Text
from service.incidents.schemas import IncidentSchema
from service.paging import PageArgs, page_of
from service.sla.schemas import TicketSlaSchema

SEVERITIES = ("critical", "high", "normal", "low")
CATEGORIES = ("hardware", "software", "configuration", "maintenance")
CHANNELS = ("portal", "email", "mobile", "phone", "api", "planned")
#: The process sets status and route (a process owner may add values), so they are not enums in the contract.
STATUS_NOTE = (
    "Set by the process; the shipped one uses new, clarifying, estimating, awaiting_payment, in_progress, "
    "ordering_parts, waiting_parts, onsite, manager_review, closed and declined; `incident` while a failed step "
    "stops the process (see /incidents)."
)
ROUTE_NOTE = "Set by the entitlement decision; the shipped rules use contract and per_call."


class TicketCreateSchema(Schema):
    """A new ticket, from any intake channel."""

    client = Code(metadata={"description": "Client code; implied for a client user."})
    contact_email = Email(required=True)
    equipment_serial = Code(load_default=None, metadata={"description": "May be unknown at intake."})
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    summary = Line(required=True, min_length=1, max_length=200)
    description = Text(load_default="")
    severity = fields.String(load_default="normal", validate=validate.OneOf(SEVERITIES))
    category = fields.String(load_default="hardware", validate=validate.OneOf(CATEGORIES))


class IdempotencySchema(Schema):
    """The optional header that makes a retried create safe."""

    idempotency_key = Line(data_key="Idempotency-Key", max_length=200)


class TicketQuerySchema(PageArgs):
    """Filters and page of the ticket list (newest first)."""

    status = Code(metadata={"description": "Only tickets in this status."})
    team = Code(metadata={"description": "Only tickets of this team."})
    client = Code(metadata={"description": "Only tickets of this client (its code)."})
    severity = Choice(SEVERITIES, metadata={"description": "Only tickets of this severity."})


class FormOptionSchema(Schema):
    """One option of an enum form field."""

    id = fields.String()
    label = fields.String()


class FormFieldSchema(Schema):
    """One field of a task's form."""

    id = fields.String()
    label = fields.String()
    type = Choice(FIELD_TYPES)
    required = fields.Boolean()
    readonly = fields.Boolean()
    values = fields.List(
        fields.Nested(FormOptionSchema), metadata={"description": "The options of an enum field: id and label."}
    )
    default = fields.String(allow_none=True)
    constraints = fields.Dict()
    labels = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "The label per language (`ru`, `en`) when the diagram gives them; else `label`."},
    )


class TaskSummarySchema(Schema):
    """An open user task."""

    id = fields.String()
    name = fields.String()
    title = fields.String()
    candidate_groups = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    claimed_by = fields.String(allow_none=True)
    priority = fields.Integer(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class DecisionSchema(Schema):
    """A rule decision taken for the ticket."""

    ruleset = fields.String()
    outcome = fields.Dict()
    rule = fields.String()
    version = fields.String()
    facts = fields.Dict(metadata={"description": "The facts the decision saw, as the ruleset declares them."})
    element_id = fields.String()
    at = fields.DateTime()


class TicketSchema(Schema):
    """A ticket as the API shows it."""

    number = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": STATUS_NOTE})
    client = fields.Function(lambda ticket: ticket.client.code)
    contact_email = fields.Function(lambda ticket: ticket.contact.email)
    contact_confirmed = fields.Function(
        lambda ticket: ticket.contact.confirmed,
        metadata={"description": "False for an address intake did not know: a duty officer confirms it."},
    )
    equipment_serial = fields.Function(lambda ticket: ticket.equipment.serial if ticket.equipment else None)
    channel = Choice(CHANNELS)
    summary = fields.String()
    description = fields.String()
    severity = Choice(SEVERITIES)
    category = Choice(CATEGORIES)
    route = fields.String(allow_none=True, metadata={"description": ROUTE_NOTE})
    paid = fields.Boolean()
    team = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True)
    circle = fields.Integer(allow_none=True)
    folder_url = fields.String(allow_none=True)
    external_ref = fields.String(
        allow_none=True,
        metadata={"description": "The ticket's number in the system it was imported from (see imports); else null."},
    )


class TicketDetailSchema(TicketSchema):
    """A ticket with its open tasks and decisions."""

    open_tasks = fields.List(fields.Nested(TaskSummarySchema))
    decisions = fields.List(fields.Nested(DecisionSchema))
    process_version = fields.Integer(
        allow_none=True, metadata={"description": "The version of the process the ticket runs (see /migrations)."}
    )
    sla = fields.Nested(TicketSlaSchema, allow_none=True, metadata={"description": "Reaction and resolution clocks."})
    one_off_contract = fields.String(
        allow_none=True, metadata={"description": "The number of the one-off contract of its accepted estimate."}
    )
    open_incidents = fields.List(
        fields.Nested(IncidentSchema),
        metadata={"description": "While the ticket's status is `incident`: what stopped it (retry at /incidents)."},
    )


class TicketListItemSchema(Schema):
    """A ticket as the list shows it: its summary without the description (that is in `GET /tickets/{number}`)."""

    number = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": STATUS_NOTE})
    client = fields.String()
    contact_email = fields.String()
    contact_confirmed = fields.Boolean()
    equipment_serial = fields.String(allow_none=True)
    channel = Choice(CHANNELS)
    summary = fields.String()
    severity = Choice(SEVERITIES)
    category = Choice(CATEGORIES)
    route = fields.String(allow_none=True, metadata={"description": ROUTE_NOTE})
    paid = fields.Boolean()
    team = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True)
    circle = fields.Integer(allow_none=True)
    folder_url = fields.String(allow_none=True)


TicketPageSchema = page_of(TicketListItemSchema, "TicketPage")


class HistoryEventSchema(Schema):
    """One event of a ticket's history."""

    at = fields.DateTime()
    actor = fields.String()
    kind = fields.String()
    detail = fields.Dict()


HistoryEventPageSchema = page_of(HistoryEventSchema, "TicketHistoryPage")
