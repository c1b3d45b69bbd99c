"""SLA routes: calendars and service levels (administrators), a ticket's clocks, time entries, breach reviews, and
the reports (JSON, or CSV with `?format=csv` or `Accept: text/csv`)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from flask.views import MethodView
from marshmallow import Schema

from service.api.csv_answers import csv_attachment, wants_csv
from service.api.edge import session, user
from service.api.guard import Blueprint
from service.paging import Page
from service.sla import labour, overview, reports, reviews, services
from service.sla.schemas import (
    BreachReportSchema,
    BreachRowSchema,
    CalendarCreateSchema,
    CalendarSchema,
    CalendarYearSchema,
    LabourReportSchema,
    LabourRowSchema,
    OpenTicketReportSchema,
    OpenTicketRowSchema,
    RecomputedSchema,
    ReportQuerySchema,
    ReviewCompleteSchema,
    ReviewPageSchema,
    ReviewQuerySchema,
    ReviewSchema,
    ServiceLevelCreateSchema,
    ServiceLevelSchema,
    SlaDetailsSchema,
    SlaReportSchema,
    SlaRowSchema,
    TimeEntryCreateSchema,
    TimeEntryPageSchema,
    TimeEntryQuerySchema,
    TimeEntrySchema,
    UtilisationReportSchema,
    UtilisationRowSchema,
)
from service.tickets.services import get_ticket

blp = Blueprint("sla", __name__, description="SLA: service levels, calendars, clocks, labour, breach reviews, reports.")


def _with_csv(schema: str) -> dict[str, Any]:
    """The 200 answer of a report: its JSON schema, or CSV (one header line, then a line per row)."""
    json_body = {"schema": {"$ref": f"#/components/schemas/{schema}"}}
    csv_body = {"schema": {"type": "string"}}
    return {"200": {"description": "OK", "content": {"application/json": json_body, "text/csv": csv_body}}}


@blp.route("/sla/calendars")
class Calendars(MethodView):
    @blp.response(200, CalendarSchema(many=True))
    def get(self) -> list[Any]:
        """Every business calendar (managers and administrators)."""
        return services.list_calendars(session(), user=user())

    @blp.arguments(CalendarCreateSchema)
    @blp.response(201, CalendarSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a calendar (administrators)."""
        return services.save_calendar(session(), user=user(), name=body["name"], fields=body, create=True)


@blp.route("/sla/calendars/<name>")
class CalendarByName(MethodView):
    @blp.response(200, CalendarSchema)
    def get(self, name: str) -> Any:
        """One calendar."""
        return services.get_calendar(session(), user=user(), name=name)

    @blp.arguments(CalendarSchema)
    @blp.response(200, CalendarSchema)
    def put(self, body: dict[str, Any], name: str) -> Any:
        """Replace a calendar's data (administrators); open clocks counted in it are recomputed."""
        return services.save_calendar(session(), user=user(), name=name, fields=body, create=False)


@blp.route("/sla/calendars/<name>/years/<int:year>")
class CalendarYear(MethodView):
    @blp.response(200, CalendarYearSchema)
    def get(self, name: str, year: int) -> Any:
        """How the calendar counts a year: holidays, transferred working days, extra days, hours per month."""
        return services.calendar_year(session(), user=user(), name=name, year=year)


@blp.route("/sla/service-levels")
class ServiceLevels(MethodView):
    @blp.response(200, ServiceLevelSchema(many=True))
    def get(self) -> list[Any]:
        """Every service level (managers and administrators)."""
        return services.list_service_levels(session(), user=user())

    @blp.arguments(ServiceLevelCreateSchema)
    @blp.response(201, ServiceLevelSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a service level (administrators); contracts name it in `service_level`."""
        return services.save_service_level(session(), user=user(), name=body["name"], fields=body, create=True)


@blp.route("/sla/service-levels/<name>")
class ServiceLevelByName(MethodView):
    @blp.response(200, ServiceLevelSchema)
    def get(self, name: str) -> Any:
        """One service level."""
        return services.get_service_level(session(), user=user(), name=name)

    @blp.arguments(ServiceLevelSchema)
    @blp.response(200, ServiceLevelSchema)
    def put(self, body: dict[str, Any], name: str) -> Any:
        """Replace a service level (administrators); its open clocks are recomputed from their history."""
        return services.save_service_level(session(), user=user(), name=name, fields=body, create=False)


@blp.route("/sla/recompute")
class Recompute(MethodView):
    @blp.response(200, RecomputedSchema)
    def post(self) -> dict[str, int]:
        """Recompute every open ticket's clocks from its history (administrators), e.g. after a contract changed."""
        return {"tickets": services.recompute_all(session(), user=user())}


@blp.route("/sla/tickets/<number>")
class TicketSla(MethodView):
    @blp.response(200, SlaDetailsSchema)
    def get(self, number: str) -> Any:
        """A ticket's clocks, pauses, holding time per team and level, warnings and breaches, time entries."""
        return services.sla_details(session(), get_ticket(session(), user=user(), number=number))


@blp.route("/sla/time-entries")
class TimeEntries(MethodView):
    @blp.arguments(TimeEntryQuerySchema, location="query")
    @blp.response(200, TimeEntryPageSchema)
    def get(self, args: dict[str, Any]) -> Page[Any]:
        """A page of time entries, oldest day first: an engineer's own, or everyone's for managers."""
        return labour.list_entries(session(), user=user(), **args)

    @blp.arguments(TimeEntryCreateSchema)
    @blp.response(201, TimeEntrySchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Book time on a ticket: remote, onsite or travel."""
        return labour.add_entry(session(), user=user(), fields=body)


@blp.route("/sla/reviews")
class Reviews(MethodView):
    @blp.arguments(ReviewQuerySchema, location="query")
    @blp.response(200, ReviewPageSchema)
    def get(self, args: dict[str, Any]) -> Page[Any]:
        """A page of the managers' breach reviews, oldest first (open ones by default)."""
        state = None if args["state"] == "all" else args["state"]
        return reviews.list_reviews(
            session(), user=user(), state=state, cursor=args.get("cursor"), page_size=args["page_size"]
        )


@blp.route("/sla/reviews/<int:review_id>")
class ReviewById(MethodView):
    @blp.response(200, ReviewSchema)
    def get(self, review_id: int) -> Any:
        """One breach review."""
        return reviews.get_review(session(), user=user(), review_id=review_id)


@blp.route("/sla/reviews/<int:review_id>/claim")
class ReviewClaim(MethodView):
    @blp.response(200, ReviewSchema)
    def post(self, review_id: int) -> Any:
        """Take the review (409 when someone else holds it)."""
        return reviews.claim_review(session(), user=user(), review_id=review_id)


@blp.route("/sla/reviews/<int:review_id>/complete")
class ReviewComplete(MethodView):
    @blp.arguments(ReviewCompleteSchema)
    @blp.response(200, ReviewSchema)
    def post(self, body: dict[str, Any], review_id: int) -> Any:
        """Record why the deadline was missed: `reason` and `comment` are required."""
        return reviews.complete_review(session(), user=user(), review_id=review_id, data=body["data"])


def _filters(args: dict[str, Any]) -> reports.Filters:
    return reports.Filters(
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        client=args.get("client"),
        team=args.get("team"),
        group_by=tuple(args.get("group_by") or ()),
        extra={"calendar": args.get("calendar")},
    )


def _answer(report: reports.Report, row: type[Schema], args: dict[str, Any]) -> Any:
    """The report as JSON, or as CSV when the query or the Accept header asks for it."""
    if not wants_csv(args.get("format")):
        return report
    rows = row(many=True).dump(report.rows)
    present = {key for item in rows for key in item}
    columns = [name for name in row().fields if name in present]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for item in rows:
        writer.writerow(["" if item.get(name) is None else _cell(item.get(name)) for name in columns])
    return csv_attachment(out.getvalue(), f"{report.name}-report.csv")


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@blp.route("/reports/sla")
class SlaReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, SlaReportSchema)
    @blp.doc(responses=_with_csv("SlaReport"))
    def get(self, args: dict[str, Any]) -> Any:
        """SLA compliance per clock, grouped by `group_by` (client, team, service_level, period, severity)."""
        report = reports.sla_report(session(), user=user(), filters=_filters(args))
        return _answer(report, SlaRowSchema, args)


@blp.route("/reports/breaches")
class BreachReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, BreachReportSchema)
    @blp.doc(responses=_with_csv("BreachReport"))
    def get(self, args: dict[str, Any]) -> Any:
        """Every breach with the reason its review gave; the summary counts them by reason."""
        report = reports.breaches_report(session(), user=user(), filters=_filters(args))
        return _answer(report, BreachRowSchema, args)


@blp.route("/reports/labour")
class LabourReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, LabourReportSchema)
    @blp.doc(responses=_with_csv("LabourReport"))
    def get(self, args: dict[str, Any]) -> Any:
        """Labour hours per engineer, team or client (`group_by`), by kind."""
        report = reports.labour_report(session(), user=user(), filters=_filters(args))
        return _answer(report, LabourRowSchema, args)


@blp.route("/reports/utilisation")
class UtilisationReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, UtilisationReportSchema)
    @blp.doc(responses=_with_csv("UtilisationReport"))
    def get(self, args: dict[str, Any]) -> Any:
        """Productive hours over available working hours per engineer or team (`group_by`); this month by default."""
        report = reports.utilisation_report(session(), user=user(), filters=_filters(args))
        return _answer(report, UtilisationRowSchema, args)


@blp.route("/reports/open-tickets")
class OpenTicketReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, OpenTicketReportSchema)
    @blp.doc(responses=_with_csv("OpenTicketReport"))
    def get(self, args: dict[str, Any]) -> Any:
        """The open tickets (not closed or declined) counted per team, level and status (`team` narrows it)."""
        report = overview.open_tickets(session(), user=user(), filters=_filters(args))
        return _answer(report, OpenTicketRowSchema, args)
