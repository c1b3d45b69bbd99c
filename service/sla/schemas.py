"""The SLA API's contract: calendars, service levels, clocks, time entries, breach reviews and reports."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate
from webargs.fields import DelimitedList

from service.fields import Choice, Code, Day, Int, Line, Text
from service.paging import PageArgs, page_of
from service.sla.calendars import WEEKDAYS
from service.sla.models import (
    BREACH,
    BREACH_REASONS,
    BREACHED,
    CANCELLED,
    CLOCKS,
    ENTRY_KINDS,
    MET,
    PAUSED,
    RUNNING,
    WARNING,
)
from service.sla.reviews import FORM, GROUP, NAME

SEVERITIES = ("critical", "high", "normal", "low")
#: A target longer than a year of minutes is a typing error.
MAX_TARGET_MINUTES = 527_040


def _within_a_day(hours: Decimal) -> None:
    """Hours of one day: 0 to 24 (the schema documents the bounds as numbers, which a Range of decimals does not)."""
    if not 0 <= hours <= 24:
        raise ValidationError("between 0 and 24 hours")


TIME = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", error="HH:MM, 00:00 to 24:00")
SPAN = fields.List(fields.String(validate=TIME), validate=validate.Length(equal=2))


class CalendarDaySchema(Schema):
    """An extra day off, or an extra working day (with its own hours, or the calendar's standard day)."""

    day = Day(required=True)
    working = fields.Boolean(load_default=False)
    start = fields.String(load_default="", validate=validate.Regexp(r"^$|^\d\d:\d\d$"))
    end = fields.String(load_default="", validate=validate.Regexp(r"^$|^\d\d:\d\d$"))
    note = Line(load_default="", max_length=200)


class CalendarSchema(Schema):
    """A business calendar: working hours per weekday, time zone, country of the public holidays, extra days."""

    name = fields.String(dump_only=True)
    title = Line(load_default="", max_length=200)
    timezone = Code(required=True, metadata={"description": "IANA name, e.g. Europe/Moscow."})
    country = Code(
        load_default="",
        metadata={"description": "ISO code whose public holidays and transferred working days apply; '' for none."},
    )
    hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
        values=fields.List(SPAN),
        required=True,
        metadata={"description": 'Working spans per weekday: {"mon": [["09:00", "18:00"]], ...}; absent is off.'},
    )
    days = fields.List(fields.Nested(CalendarDaySchema), load_default=list)
    updated_at = fields.DateTime(dump_only=True)


class CalendarCreateSchema(CalendarSchema):
    """A new calendar, with its name."""

    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,79}$"))


class YearDaySchema(Schema):
    """A day that differs from its weekday's rule."""

    day = fields.Date()
    kind = fields.String(metadata={"description": "holiday, transferred (a working weekend day) or extra"})
    working = fields.Boolean()
    hours = fields.List(fields.List(fields.String()))


class CalendarYearSchema(Schema):
    """How a calendar counts a year: its exceptional days and its working hours per month."""

    calendar = fields.String()
    year = fields.Integer()
    days = fields.List(fields.Nested(YearDaySchema))
    working_hours = fields.Dict(keys=fields.String(), values=fields.Float())


class TargetSchema(Schema):
    """Reaction and resolution targets of one severity, in minutes of the service level's calendar."""

    reaction_minutes = Int(required=True, minimum=1, maximum=MAX_TARGET_MINUTES)
    resolution_minutes = Int(required=True, minimum=1, maximum=MAX_TARGET_MINUTES)


class ServiceLevelSchema(Schema):
    """A service level: targets per severity, the calendar they count in, and what pauses its clocks."""

    name = fields.String(dump_only=True)
    title = Line(load_default="", max_length=200)
    calendar = Code(required=True, attribute="calendar_name")
    start_on = fields.String(
        load_default="created",
        validate=validate.OneOf(("created", "paid")),
        metadata={"description": "The clocks count from the ticket's creation, or from the moment it is paid."},
    )
    pause_for_parts = fields.Boolean(load_default=False)
    warn_percent = Int(load_default=80, minimum=1, maximum=99)
    targets = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SEVERITIES)),
        values=fields.Nested(TargetSchema),
        required=True,
        attribute="targets_by_severity",
    )
    updated_at = fields.DateTime(dump_only=True)
    updated_by = fields.String(dump_only=True)


class ServiceLevelCreateSchema(ServiceLevelSchema):
    """A new service level, with its name (the name contracts use)."""

    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,39}$"))


class ClockSchema(Schema):
    """A clock of a ticket at the moment of the request; seconds are working seconds of its calendar."""

    state = Choice((RUNNING, PAUSED, MET, BREACHED, CANCELLED), metadata={"description": "cancelled: declined"})
    due_at = fields.DateTime(allow_none=True, metadata={"description": "ISO 8601 with offset; null while paused."})
    warn_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime()
    stopped_at = fields.DateTime(allow_none=True)
    breached_at = fields.DateTime(allow_none=True)
    target_seconds = fields.Integer()
    elapsed_seconds = fields.Integer()
    paused_seconds = fields.Integer(metadata={"description": "elapsed + paused = working time since the start"})
    remaining_seconds = fields.Integer(metadata={"description": "target - elapsed; negative when overdue"})


class TicketSlaSchema(Schema):
    """The ticket's reaction and resolution clocks."""

    reaction = fields.Nested(ClockSchema)
    resolution = fields.Nested(ClockSchema)
    service_level = fields.String()
    calendar = fields.String()


class PauseSchema(Schema):
    """A stretch in which the clocks stood still."""

    reason = fields.String(metadata={"description": "client, parts or unpaid"})
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)


class HoldSchema(Schema):
    """How long a team at a level held the ticket."""

    team = fields.String()
    level = fields.Integer(allow_none=True)
    held_seconds = fields.Integer(metadata={"description": "wall-clock seconds"})
    working_seconds = fields.Integer(metadata={"description": "working seconds of the service level's calendar"})
    waiting_seconds = fields.Integer(metadata={"description": "of those, waiting for the client or for parts"})


class SlaEventSchema(Schema):
    """A warning or breach: when it is due and whether it went out."""

    clock = Choice(CLOCKS)
    kind = Choice((WARNING, BREACH))
    due_at = fields.DateTime(allow_none=True)
    status = fields.String()
    fired_at = fields.DateTime(allow_none=True)


class TimeEntrySchema(Schema):
    """Hours an engineer spent on a ticket on a day."""

    id = fields.Integer(dump_only=True)
    ticket = fields.Function(lambda entry: entry.ticket_number, dump_only=True)
    engineer = fields.String()
    team = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True, dump_only=True)
    day = fields.Date()
    hours = fields.Float()
    kind = Choice(ENTRY_KINDS)
    source = fields.String(dump_only=True)
    note = fields.String()
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True)


TimeEntryPageSchema = page_of(TimeEntrySchema, "TimeEntryPage")


class TimeEntryCreateSchema(Schema):
    """A time entry; `engineer` defaults to the caller (only a manager books for someone else)."""

    ticket = Code(required=True)
    engineer = Code()
    team = Code()
    day = Day(required=True, years_ahead=1)
    hours = fields.Decimal(
        required=True, places=2, validate=_within_a_day, as_string=True, metadata={"minimum": 0, "maximum": 24}
    )
    kind = Choice(ENTRY_KINDS, required=True)
    note = Text(load_default="", max_length=300)


class TimeEntryQuerySchema(PageArgs):
    """Filters and page of the time entries (oldest day first)."""

    ticket = Code()
    engineer = Code()
    date_from = Day(data_key="from")
    date_to = Day(data_key="to")


class SlaDetailsSchema(Schema):
    """Everything about a ticket's SLA: clocks, pauses, who held it, warnings and breaches, time entries."""

    ticket = fields.String()
    service_level = fields.String(allow_none=True)
    calendar = fields.String()
    clocks = fields.Dict(keys=fields.String(), values=fields.Nested(ClockSchema))
    pauses = fields.List(fields.Nested(PauseSchema))
    holds = fields.List(fields.Nested(HoldSchema))
    events = fields.List(fields.Nested(SlaEventSchema))
    time_entries = fields.List(fields.Nested(TimeEntrySchema))


class RecomputedSchema(Schema):
    """How many open tickets had their clocks recomputed."""

    tickets = fields.Integer()


class ReviewSchema(Schema):
    """A breach review, in the shape of a task of the `managers` queue."""

    id = fields.Integer()
    name = fields.Constant(NAME)
    title = fields.Function(lambda review: f"Why was the {review.clock} deadline of {review.ticket_number} missed?")
    ticket = fields.Function(lambda review: review.ticket_number)
    candidate_groups = fields.Constant([GROUP])
    clock = Choice(CLOCKS)
    due_at = fields.DateTime()
    team = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True)
    state = Choice(("open", "completed"))
    claimed_by = fields.String(allow_none=True)
    reason = Choice(BREACH_REASONS, allow_none=True)
    comment = fields.String()
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    form = fields.Constant(FORM, metadata={"description": "The review's form: reason and comment, both required."})


ReviewPageSchema = page_of(ReviewSchema, "ReviewPage")


class ReviewQuerySchema(PageArgs):
    """Which reviews, and the page (oldest first)."""

    state = fields.String(load_default="open", validate=validate.OneOf(("open", "completed", "all")))


class ReviewFormSchema(Schema):
    """Why the deadline was missed."""

    reason = Choice(BREACH_REASONS, required=True)
    comment = Text(required=True, min_length=1, max_length=4000)


class ReviewCompleteSchema(Schema):
    """The review form's values, as a task completion sends them."""

    data = fields.Nested(ReviewFormSchema, required=True)


class ReportQuerySchema(Schema):
    """Filters of a report: a period of days (both included), client, team, grouping and format."""

    date_from = Day(data_key="from")
    date_to = Day(data_key="to")
    client = Code()
    team = Code()
    group_by = DelimitedList(Code(), load_default=list)
    calendar = Code(metadata={"description": "utilisation: the calendar of available hours"})
    format = fields.String(validate=validate.OneOf(("json", "csv")), metadata={"description": "or Accept: text/csv"})


class SlaRowSchema(Schema):
    """Compliance of one clock in one group."""

    client = fields.String()
    team = fields.String(allow_none=True)
    service_level = fields.String()
    period = fields.String(metadata={"description": "YYYY-MM of the clock's start"})
    severity = fields.String()
    clock = fields.String()
    tickets = fields.Integer()
    met = fields.Integer()
    breached = fields.Integer()
    open = fields.Integer()
    compliance_percent = fields.Float(allow_none=True, metadata={"description": "met / (met + breached)"})
    average_elapsed_seconds = fields.Integer(allow_none=True, metadata={"description": "of the stopped clocks"})


class BreachRowSchema(Schema):
    """One breached clock and the reason its review gave."""

    ticket = fields.String()
    client = fields.String()
    service_level = fields.String()
    severity = fields.String()
    clock = fields.String()
    team = fields.String(allow_none=True)
    due_at = fields.DateTime()
    stopped_at = fields.DateTime(allow_none=True)
    target_seconds = fields.Integer()
    elapsed_seconds = fields.Integer()
    reason = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)


class LabourRowSchema(Schema):
    """Hours of one engineer, team or client."""

    engineer = fields.String()
    team = fields.String(allow_none=True)
    client = fields.String()
    hours = fields.Float()
    remote_hours = fields.Float()
    onsite_hours = fields.Float()
    travel_hours = fields.Float()
    entries = fields.Integer()
    tickets = fields.Integer()


class UtilisationRowSchema(Schema):
    """Productive over available hours of one engineer or team."""

    engineer = fields.String()
    team = fields.String()
    engineers = fields.Integer()
    available_hours = fields.Float()
    productive_hours = fields.Float()
    utilisation_percent = fields.Float(allow_none=True)


def _report(row: type[Schema], doc: str) -> type[Schema]:
    return type(
        f"{row.__name__.removesuffix('RowSchema')}ReportSchema",
        (Schema,),
        {
            "__doc__": doc,
            "report": fields.String(),
            "filters": fields.Dict(),
            "summary": fields.Dict(),
            "rows": fields.List(fields.Nested(row)),
        },
    )


SlaReportSchema = _report(SlaRowSchema, "SLA compliance per clock and group.")
BreachReportSchema = _report(BreachRowSchema, "The breaches with their reasons; the summary counts them by reason.")
LabourReportSchema = _report(LabourRowSchema, "Labour hours per engineer, team or client.")
UtilisationReportSchema = _report(UtilisationRowSchema, "Utilisation per engineer or team.")


class OpenTicketRowSchema(Schema):
    """How many open tickets one team holds at one level in one status."""

    team = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True)
    status = fields.String()
    tickets = fields.Integer()


OpenTicketReportSchema = _report(OpenTicketRowSchema, "Open tickets per team, level and status.")
