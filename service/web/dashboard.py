"""The managers' dashboard: open tickets per team, level and status, tickets whose SLA is at risk, breach reviews
waiting (with their review page), incidents to retry, and charts of compliance, breaches and utilisation over a
period.

Every figure comes from the service function the API's route calls (`/reports/...`, `/sla/reviews`, `/incidents`),
so who may see it is the API's rule: anyone else gets the API's refusal as a page. Each chart links to its CSV,
the API's own answer for the same filters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from service.api.edge import context, session
from service.auth.permissions import Permission, allowed
from service.db import utcnow
from service.errors import Conflict
from service.incidents import services as incident_service
from service.sla import overview, reports, reviews
from service.sla.labour import staff_day
from service.sla.models import BREACH_REASONS, CLOCKS
from service.sla.schemas import ReportQuerySchema, ReviewCompleteSchema
from service.web import charts
from service.web.labels import word
from service.web.signin import needs_sign_in, signed_in

bp = Blueprint("dashboard", __name__, template_folder="templates")
#: Breach reviews and incidents shown on the dashboard (the oldest first, as their lists give them).
LIST_SIZE = 20
#: Months the period covers by default: this one and the five before it.
DEFAULT_MONTHS = 6
REASONS = {
    "parts_delay": _l("Parts delay"),
    "client_unavailable": _l("Client unavailable"),
    "wrong_routing": _l("Wrong routing"),
    "capacity": _l("Capacity"),
    "vendor_delay": _l("Vendor delay"),
    "other": _l("Other"),
    "unreviewed": _l("Not reviewed yet"),
}


@bp.app_context_processor
def _dashboard_globals() -> dict[str, Any]:
    person = signed_in() if request.blueprint in ("web", "dashboard") else None
    return {"sees_dashboard": person is not None and allowed(person, Permission.READ_REPORTS), "reason_word": _reason}


def _reason(code: str | None) -> str:
    return str(REASONS.get(code or "", code or "—"))


def _default_from(today: date) -> date:
    month = today.month - DEFAULT_MONTHS + 1
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def _period() -> tuple[reports.Filters, dict[str, str], dict[str, str]]:
    """The period of the query string, read by the reports' own schema (what it refuses is said on the page)."""
    today = staff_day(session(), utcnow())  # the day hours are booked on, in the staff calendar's time zone
    args = {key: request.args.get(key, "").strip()[:40] for key in ("from", "to", "hours")}
    errors: dict[str, str] = {}
    try:
        loaded = ReportQuerySchema().load({key: args[key] for key in ("from", "to") if args[key]})
    except ValidationError as refused:
        loaded = {}
        errors = {key: _("Enter a day, e.g. %(day)s.", day=today.isoformat()) for key in refused.messages}
        for key in refused.messages:
            args[str(key)] = ""
    first = loaded.get("date_from") or (_default_from(today) if not args["from"] else None)
    last = loaded.get("date_to") or (today if not args["to"] else None)
    if first and last and last < first:
        errors["to"] = _("The end of the period is before its start.")
        first, last = _default_from(today), today
    args["from"], args["to"] = (first.isoformat() if first else ""), (last.isoformat() if last else "")
    return reports.Filters(date_from=first, date_to=last), args, errors


def _hours(args: dict[str, str], errors: dict[str, str]) -> int:
    try:
        hours = int(args["hours"]) if args["hours"] else overview.RISK_HOURS
    except ValueError:
        hours = 0
    if not 1 <= hours <= overview.MAX_RISK_HOURS:
        errors["hours"] = _("Enter whole hours from 1 to %(most)s.", most=overview.MAX_RISK_HOURS)
        hours = overview.RISK_HOURS
    args["hours"] = str(hours)
    return hours


def _grouped(filters: reports.Filters, *group: str) -> reports.Filters:
    return reports.Filters(date_from=filters.date_from, date_to=filters.date_to, group_by=group)


def _compliance(filters: reports.Filters) -> tuple[charts.Lines, list[dict[str, Any]]]:
    rows = reports.sla_report(session(), user=g.web_caller, filters=_grouped(filters, "period")).rows
    periods = sorted({row["period"] for row in rows if row["period"]})
    series = {
        str(word("clock", clock)): {row["period"]: row["compliance_percent"] for row in rows if row["clock"] == clock}
        for clock in CLOCKS
    }
    return charts.percent_lines(periods, series), rows


def _utilisation(filters: reports.Filters) -> dict[str, tuple[charts.Bars, list[dict[str, Any]]]]:
    """The utilisation charts per engineer and per team, from one reading of the hours."""
    groups = ("engineer", "team")
    found = reports.utilisation_reports(session(), user=g.web_caller, filters=_grouped(filters, *groups), groups=groups)
    charted = {}
    for group, report in found.items():
        items = [
            (str(row[group] or "—"), float(row["utilisation_percent"] or 0), _percent(row["utilisation_percent"]))
            for row in report.rows
        ]
        charted[group] = charts.bar_chart(items, maximum=max(100.0, *(value for _n, value, _t in items))), report.rows
    return charted


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def _csv(report: str, filters: reports.Filters, **more: Any) -> str:
    """The address of the API's CSV answer of a report for the page's period."""
    period = {"from": filters.date_from, "to": filters.date_to}
    query: dict[str, Any] = {key: value.isoformat() for key, value in period.items() if value is not None}
    return url_for(f"sla.{report}", **query, **more, format="csv")


def _dashboard(*, status: int = 200, notice: str | None = None) -> Any:
    filters, args, errors = _period()
    hours = _hours(args, errors)
    caller = g.web_caller
    opened = overview.open_tickets(session(), user=caller, filters=reports.Filters())
    risky = overview.at_risk(session(), user=caller, hours=hours)
    waiting = reviews.list_reviews(session(), user=caller, state=reviews.OPEN, page_size=LIST_SIZE)
    incidents = incident_service.list_incidents(session(), user=caller, page_size=LIST_SIZE)
    compliance, compliance_rows = _compliance(filters)
    breaches = reports.breach_reasons(session(), user=caller, filters=filters)
    by_reason = charts.bar_chart([(_reason(code), count, str(count)) for code, count in sorted(breaches.items())])
    utilisation = _utilisation(filters)
    links = {
        "open": _csv("OpenTicketReport", reports.Filters()),
        "sla": _csv("SlaReport", filters, group_by="period"),
        "breaches": _csv("BreachReport", filters),
        "engineer": _csv("UtilisationReport", filters, group_by="engineer"),
        "team": _csv("UtilisationReport", filters, group_by="team"),
    }
    page = render_template(
        "dashboard_main.html",
        args=args,
        errors=errors,
        opened=opened,
        risky=risky,
        waiting=waiting.items,
        incidents=incidents.items,
        compliance=compliance,
        compliance_rows=compliance_rows,
        by_reason=by_reason,
        utilisation=utilisation,
        links=links,
        notice=notice or _retried(),
        **_chart_constants(),
    )
    return page, status


def _chart_constants() -> dict[str, Any]:
    return {
        "chart_width": charts.WIDTH,
        "bar_left": charts.BAR_LEFT,
        "plot": (charts.PLOT_LEFT, charts.PLOT_RIGHT, charts.PLOT_TOP, charts.PLOT_BOTTOM),
    }


def _retried() -> str | None:
    job = request.args.get("retried", "")
    return _("Incident %(job)s was queued again.", job=job) if job.isdigit() else None


@bp.get("/dashboard")
@needs_sign_in
def dashboard() -> Any:
    """The managers' figures for a period (the last six months by default) and what waits for them."""
    return _dashboard()


@bp.post("/dashboard/incidents/<int:incident_id>/retry")
@needs_sign_in
def retry(incident_id: int) -> Any:
    """Retry an incident (a failed job queued again, a failed step done again), as `POST /incidents/{id}/retry`."""
    try:
        incident_service.retry_incident(session(), context(), user=g.web_caller, incident_id=incident_id)
    except Conflict:
        session().rollback()
        return _dashboard(
            status=409, notice=_("Incident %(job)s is no longer waiting: someone retried it.", job=incident_id)
        )
    return redirect(url_for("dashboard.dashboard", retried=incident_id), 303)


def _review_page(review_id: int, *, status: int = 200, **more: Any) -> Any:
    review = reviews.get_review(session(), user=g.web_caller, review_id=review_id)
    more.setdefault("errors", {})
    more.setdefault("values", {})
    page = render_template("dashboard_review.html", review=review, reasons=BREACH_REASONS, OPEN=reviews.OPEN, **more)
    return page, status


def _review_refused(review_id: int) -> Any:
    session().rollback()
    review = reviews.get_review(session(), user=g.web_caller, review_id=review_id)
    if review.state != reviews.OPEN:
        notice = _("This review is already done: %(who)s completed it.", who=review.reviewed_by or "—")
    else:
        notice = _("%(who)s has taken this review.", who=review.claimed_by or "—")
    return _review_page(review_id, status=409, notice=notice)


@bp.get("/dashboard/reviews/<int:review_id>")
@needs_sign_in
def review(review_id: int) -> Any:
    """A breach review: the breach, and the form that records why the deadline was missed."""
    return _review_page(review_id)


@bp.post("/dashboard/reviews/<int:review_id>/claim")
@needs_sign_in
def claim_review(review_id: int) -> Any:
    """Take the review so that nobody else works on it."""
    try:
        reviews.claim_review(session(), user=g.web_caller, review_id=review_id)
    except Conflict:
        return _review_refused(review_id)
    return redirect(url_for("dashboard.review", review_id=review_id), 303)


@bp.post("/dashboard/reviews/<int:review_id>/complete")
@needs_sign_in
def complete_review(review_id: int) -> Any:
    """Record the reason and the comment, checked by the API's schema of the review form."""
    values = {key: request.form.get(key, "") for key in ("reason", "comment")}
    try:
        body = ReviewCompleteSchema().load({"data": values})
    except ValidationError as refused:
        wrong = refused.messages.get("data", {}) if isinstance(refused.messages, dict) else {}
        errors = {
            key: text
            for key, text in (
                ("reason", _("Choose why the deadline was missed.")),
                ("comment", _("Say what happened.")),
            )
            if key in wrong
        }
        return _review_page(review_id, status=422, errors=errors, values=values)
    try:
        reviews.complete_review(session(), user=g.web_caller, review_id=review_id, data=body["data"])
    except Conflict:
        return _review_refused(review_id)
    return redirect(url_for("dashboard.review", review_id=review_id, done=1), 303)
