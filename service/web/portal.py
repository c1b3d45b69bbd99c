"""The client portal: a client user opens a ticket on their installed base, lists their company's tickets with the
reaction and resolution clocks, and reads a ticket's page with its history as a client sees it.

Each page calls the service functions the API's views call (`open_ticket`, `list_tickets`, `get_ticket`,
`ticket_sla`, `ticket_history`, `upload_files` for the files attached to a new ticket), so which tickets a client
sees, what they may open and which events they read are the API's own rules; another company's ticket is the
not-found page, as it is a 404 in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from service.api.edge import context, session
from service.db import utcnow
from service.equipment.services import installed_base
from service.errors import Forbidden, Invalid, TooLarge
from service.sla.models import SlaClock
from service.sla.services import ticket_sla
from service.tickets import files, services
from service.tickets.file_views import store, upload_limit
from service.tickets.history import ClientEvent
from service.tickets.schemas import CATEGORIES, SEVERITIES, TicketCreateSchema
from service.web.cards import Clock
from service.web.labels import word
from service.web.signin import needs_sign_in

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")
#: Tickets per page of the list, and events per page of a ticket's history.
PAGE_SIZE = 20
#: The fields of the new-ticket form, named as the API names them (the channel is the portal's).
FORM_FIELDS = ("equipment_serial", "contact_email", "summary", "description", "severity", "category")
#: What a refused field is told, in the person's language (the API's own texts stay English).
FIELD_ERRORS = {
    "equipment_serial": _l("Choose equipment of your company."),
    "contact_email": _l("Enter an e-mail address to reach you at."),
    "summary": _l("Say in a line what is wrong (at most 200 characters)."),
    "description": _l("The description is too long."),
    "severity": _l("Choose one of the severities."),
    "category": _l("Choose one of the categories."),
}
#: What a refused attachment is told (nothing is opened then: the ticket and its files go together or not at all).
FILE_ERRORS = {
    "too_big": _l("A file is too large: at most %(megabytes)s MB each."),
    "bad_file": _l("Give each file an acceptable name."),
}
OTHER_ERROR = _l("The ticket could not be opened. Check the fields and try again.")
#: The mails a client's history shows, by the job that sent them.
MAILS = {
    "mail.ticket_opened": _l("We mailed you that the ticket is open."),
    "mail.estimate": _l("We mailed you an estimate of the work."),
    "mail.ticket_declined": _l("We mailed you that the ticket is closed as declined."),
    "mail.ticket_closed": _l("We mailed you that the ticket is solved and closed."),
}


def _client() -> Any:
    """The signed-in client user (anyone else is refused: the portal is the clients' own)."""
    caller = g.web_caller
    if caller.client_id is None:
        raise Forbidden("the portal is for client users")
    return caller


def _seconds_left(due_at: datetime | None, now: datetime) -> int | None:
    return int((due_at - now).total_seconds()) if due_at is not None else None


def _listed_clocks(ticket_ids: Iterable[int]) -> dict[int, list[Clock]]:
    """The clocks of the listed tickets as last computed, in one query (reaction before resolution)."""
    now = utcnow()
    found: dict[int, list[Clock]] = {}
    query = select(SlaClock).where(SlaClock.ticket_id.in_(list(ticket_ids))).order_by(SlaClock.kind)
    for row in session().scalars(query):
        clock = Clock(row.kind, row.state, row.due_at, _seconds_left(row.due_at, now))
        found.setdefault(row.ticket_id, []).append(clock)
    return found


def _ticket_clocks(ticket: Any) -> list[Clock]:
    """The ticket's clocks now, as `GET /tickets/<number>` answers them."""
    sla = ticket_sla(session(), ticket)
    if sla is None:
        return []
    now = utcnow()
    return [
        Clock(kind, sla[kind]["state"], sla[kind]["due_at"], _seconds_left(sla[kind]["due_at"], now))
        for kind in ("reaction", "resolution")
    ]


def event_text(event: ClientEvent) -> str:
    """What a client history event says, in the person's language."""
    detail = event.detail
    if event.kind == "ticket_opened":
        return _("Ticket opened (channel: %(channel)s).", channel=word("channel", detail.get("channel")))
    if event.kind == "status_changed":
        old, new = word("ticket_status", detail.get("old")), word("ticket_status", detail.get("new"))
        return _("Status changed from %(old)s to %(new)s.", old=old, new=new)
    if event.kind == "job_done" and detail.get("topic") in MAILS:
        return str(MAILS[detail["topic"]])
    return word("history", event.kind)


@bp.get("")
@needs_sign_in
def tickets() -> Any:
    """The company's tickets, newest first, with status and clocks; paged by the API's cursor."""
    _client()
    cursor = request.args.get("cursor", "")[:600] or None
    try:
        page = services.list_tickets(session(), user=g.web_caller, cursor=cursor, page_size=PAGE_SIZE)
    except Invalid:  # a cursor of another list, or none at all: the first page
        page = services.list_tickets(session(), user=g.web_caller, page_size=PAGE_SIZE)
    clocks = _listed_clocks(item["id"] for item in page.items)
    opened = request.args.get("opened", "")[:20]
    return render_template("portal_list.html", page=page, clocks=clocks, opened=opened)


def _form_page(*, values: MultiDict[str, str] | dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    equipment = installed_base(session(), user=g.web_caller)
    page = render_template(
        "portal_new.html",
        equipment=equipment,
        values=values,
        errors=errors,
        focus=next((name for name in FORM_FIELDS if name in errors), None),
        severities=SEVERITIES,
        categories=CATEGORIES,
        upload_mb=f"{context().config.upload_mb:g}",
    )
    return page, status


@bp.get("/new")
@needs_sign_in
def new_ticket() -> Any:
    """The form to open a ticket: equipment from the company's installed base, the contact the person's address."""
    _client()
    email = g.web_user.email if g.web_user is not None else ""
    return _form_page(values={"contact_email": email, "severity": "normal", "category": "hardware"}, errors={})


def _field_errors(messages: dict[str, Any]) -> dict[str, str]:
    """The refused fields, each with its text in the person's language."""
    errors = {name: str(FIELD_ERRORS[name]) for name in messages if name in FIELD_ERRORS}
    if "files" in messages:
        errors["files"] = str(FILE_ERRORS["bad_file"])
    return errors or {"_": str(OTHER_ERROR)}


@bp.post("/new")
@needs_sign_in
def new_ticket_post() -> Any:
    """Open the ticket through the API's schema and service; refused fields are shown beside themselves."""
    _client()
    form = {name: request.form.get(name, "") for name in FORM_FIELDS}
    typed = {name: value for name, value in form.items() if value.strip()}
    try:
        fields = TicketCreateSchema().load({**typed, "channel": "portal"})
        opened = services.open_ticket(session(), context(), user=g.web_caller, fields=fields, idempotency_key=None)
        _attach(opened.ticket.number)
    except TooLarge:
        session().rollback()
        too_big = str(FILE_ERRORS["too_big"]) % {"megabytes": f"{context().config.upload_mb:g}"}
        return _form_page(values=form, errors={"files": too_big}, status=413)
    except ValidationError as refused:
        messages = refused.messages if isinstance(refused.messages, dict) else {}
        return _form_page(values=form, errors=_field_errors(messages), status=422)
    except Invalid as refused:
        session().rollback()
        return _form_page(values=form, errors=_field_errors(refused.extra.get("errors") or {}), status=422)
    return redirect(url_for("portal.tickets", opened=opened.ticket.number), 303)


def _attach(number: str) -> None:
    """Store the form's files in the new ticket's folder through the API's upload (the store makes the folder when
    the worker's `files.create_folder` job has not run yet: that job then finds it there)."""
    uploads = [files.Upload(part.filename or "", part.read()) for part in request.files.getlist("files") if part]
    if not uploads:
        return
    files.upload_files(session(), store(), user=g.web_caller, number=number, uploads=uploads, max_bytes=upload_limit())


@bp.get("/tickets/<number>")
@needs_sign_in
def ticket(number: str) -> Any:
    """One ticket of the company: its facts, clocks, the history a client reads and the folder's files."""
    caller = _client()
    found = services.get_ticket(session(), user=caller, number=number)
    cursor = request.args.get("cursor", "")[:600] or None
    try:
        history = services.ticket_history(session(), user=caller, ticket=found, cursor=cursor, page_size=PAGE_SIZE)
    except Invalid:
        history = services.ticket_history(session(), user=caller, ticket=found, page_size=PAGE_SIZE)
    return render_template(
        "portal_ticket.html",
        ticket=found,
        clocks=_ticket_clocks(found),
        history=history,
        files=services.folder_files(context(), found),
        event_text=event_text,
    )
