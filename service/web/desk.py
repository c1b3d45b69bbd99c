"""The duty officer's desk: opening a ticket for a phone call, the contacts intake created to confirm or merge, and
reassigning a task from its page.

Like every page, these call the API's own schema and service functions: who may open tickets, search the directory,
confirm contacts or reassign tasks, and what a valid ticket is, are decided there; the page only says it in the
person's language, beside the field it is about.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from service.api.edge import context, session
from service.auth.permissions import Permission, allowed
from service.clients import contacts
from service.clients import services as clients
from service.clients.models import Contact
from service.directory.records import etag
from service.equipment import services as equipment
from service.errors import Conflict, Invalid, NotFound, PreconditionFailed
from service.tasks import assigning
from service.tickets import services as tickets
from service.tickets.schemas import CATEGORIES, CHANNELS, SEVERITIES, TicketCreateSchema
from service.web.pages import _task_page
from service.web.signin import needs_sign_in, signed_in

bp = Blueprint("desk", __name__, template_folder="templates")
#: How many clients a search shows, and how many contacts and items of a client the form offers.
CLIENTS_SHOWN = 20
PARTIES_SHOWN = 200
#: How many unconfirmed contacts the list shows at once (the oldest clients' first).
UNCONFIRMED_SHOWN = 100
#: What the page says of a field the server refused, in the person's language.
FIELD_ERRORS = {
    "client": _l("Choose a client from the search."),
    "contact_email": _l("Enter the e-mail address of the person who called."),
    "equipment_serial": _l("This client has no such equipment."),
    "summary": _l("Say in one line (up to 200 characters) what is wrong."),
    "description": _l("The description is too long or holds characters that are not allowed."),
    "severity": _l("Choose one of the options."),
    "category": _l("Choose one of the options."),
    "channel": _l("Choose one of the options."),
    "into": _l("Choose another contact of the same client."),
    "user": _l("Choose a person of the task's team."),
    "group": _l("Choose a queue of the task's team."),
}
WORDS = {
    "category": {"hardware": _l("hardware"), "software": _l("software"), "configuration": _l("configuration")},
    "channel": {
        "phone": _l("phone"),
        "email": _l("e-mail"),
        "portal": _l("portal"),
        "mobile": _l("mobile app"),
        "api": _l("API"),
    },
}
#: The fields of the new-ticket form, by the API's names.
TICKET_FIELDS = ("client", "contact_email", "equipment_serial", "summary", "description", "severity", "category")


@bp.app_context_processor
def _links() -> dict[str, Any]:
    return {"desk_links": desk_links}


def desk_links() -> list[tuple[str, str]]:
    """The desk's pages in the top bar, for the people who may use them."""
    person = signed_in()
    if person is None:
        return []
    links = []
    if allowed(person, Permission.OPEN_TICKETS) and allowed(person, Permission.READ_DIRECTORY):
        links.append((url_for("desk.new_ticket"), _("New ticket")))
    if allowed(person, Permission.EDIT_CONTACTS):
        links.append((url_for("desk.unconfirmed"), _("Unconfirmed contacts")))
    return links


def field_errors(errors: dict[str, Any]) -> dict[str, str]:
    """The server's refusal as one message per field (a field the page has no word for keeps the server's text)."""
    shown: dict[str, str] = {}
    for name, messages in errors.items():
        text = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        shown[name] = str(FIELD_ERRORS[name]) if name in FIELD_ERRORS else text
    return shown


def _contacts_of(code: str, *, confirmed: bool | None) -> Sequence[Contact]:
    """The client's active contacts (only the confirmed ones, or all), by address."""
    return contacts.list_contacts(
        session(), user=g.web_caller, client=code, q=None, active=True, confirmed=confirmed, cursor=None,
        page_size=PARTIES_SHOWN,
    ).items  # fmt: skip


def _ticket_form(values: dict[str, str], errors: dict[str, str], *, status: int = 200) -> Any:
    """The form, with the clients the search found and the chosen client's contacts and equipment."""
    query = values.get("q", "").strip()[:80]
    found = clients.list_clients(
        session(), user=g.web_caller, q=query or None, active=True, cursor=None, page_size=CLIENTS_SHOWN
    )
    chosen = values.get("client", "").strip()
    client = people = items = None
    if chosen:
        try:
            client = clients.get_client(session(), user=g.web_caller, code=chosen)
        except NotFound:  # said beside the search, as the API refuses an unknown client
            errors = {**errors, "client": str(FIELD_ERRORS["client"])}
        else:
            people = _contacts_of(client.code, confirmed=None)
            items = equipment.list_equipment(
                session(), user=g.web_caller, q=None, client=client.code, site=None, equipment_class=None,
                status=None, cursor=None, page_size=PARTIES_SHOWN,
            ).items  # fmt: skip
    page = render_template(
        "desk_new_ticket.html",
        query=query,
        found=found.items,
        client=client,
        people=people or [],
        items=items or [],
        values=values,
        errors=errors,
        severities=SEVERITIES,
        categories=CATEGORIES,
        channels=CHANNELS,
        words=WORDS,
        key=values.get("idempotency_key") or secrets.token_urlsafe(16),
    )
    return page, status


@bp.get("/tickets/new")
@needs_sign_in
def new_ticket() -> Any:
    """The new-ticket form: the client search first (its results refresh as you type), then the rest."""
    values = {key: request.args.get(key, "") for key in ("q", "client")}
    return _ticket_form(values, {})


@bp.get("/tickets/new/clients")
@needs_sign_in
def client_results() -> Any:
    """The clients matching the search alone: what the search box swaps in as you type."""
    query = request.args.get("q", "").strip()[:80]
    found = clients.list_clients(
        session(), user=g.web_caller, q=query or None, active=True, cursor=None, page_size=CLIENTS_SHOWN
    )
    return render_template("desk_clients.html", found=found.items, query=query)


def _typed() -> dict[str, str]:
    """The form as typed: a new address, when one was typed, stands for the contact over the chosen one."""
    values = {key: request.form.get(key, "").strip() for key in (*TICKET_FIELDS, "channel", "idempotency_key")}
    chosen, *typed = [text.strip() for text in request.form.getlist("contact_email")] or [""]
    values["new_contact"] = typed[0] if typed else ""
    values["contact_email"] = values["new_contact"] or chosen
    return values


@bp.post("/tickets/new")
@needs_sign_in
def new_ticket_post() -> Any:
    """Open the ticket through the API's schema and service; the refusals come back beside their fields."""
    values = _typed()
    body = {key: values[key] for key in (*TICKET_FIELDS, "channel") if values[key]}
    try:
        fields = TicketCreateSchema().load(body)
    except ValidationError as refused:
        return _ticket_form(values, field_errors(dict(refused.messages)), status=422)  # type: ignore[arg-type]
    try:
        opened = tickets.open_ticket(
            session(), context(), user=g.web_caller, fields=fields, idempotency_key=values["idempotency_key"] or None
        )
    except Invalid as refused:
        session().rollback()
        errors = refused.extra.get("errors") or {"_": [refused.detail]}
        return _ticket_form(values, field_errors(errors), status=422)
    return redirect(url_for("desk.ticket_opened", number=opened.ticket.number), 303)


@bp.get("/tickets/<number>/opened")
@needs_sign_in
def ticket_opened(number: str) -> Any:
    """The new ticket's number, to tell the caller (404 for a ticket the person may not see)."""
    ticket = tickets.get_ticket(session(), user=g.web_caller, number=number)
    return render_template("desk_opened.html", ticket=ticket)


def _contacts_page(*, status: int = 200, notice: str = "", errors: dict[str, str] | None = None) -> Any:
    rows = contacts.unconfirmed_contacts(session(), user=g.web_caller, limit=UNCONFIRMED_SHOWN)
    others: dict[str, list[str]] = {}
    for code in dict.fromkeys(code for _contact, code in rows):
        others[code] = [item.email for item in _contacts_of(code, confirmed=True)]
    shown = [(contact, code, etag(contact), others[code]) for contact, code in rows]
    page = render_template("desk_contacts.html", rows=shown, notice=notice, errors=errors or {})
    return page, status


@bp.get("/contacts/unconfirmed")
@needs_sign_in
def unconfirmed() -> Any:
    """The contacts intake created, each to confirm or to merge into a known contact of its client."""
    return _contacts_page(notice=_said(request.args.get("done", "")))


def _said(done: str) -> str:
    if done == "confirmed":
        return _("The contact is confirmed.")
    if done == "merged":
        return _("The contact is merged.")
    return ""


def _changed_meanwhile() -> Any:
    session().rollback()
    return _contacts_page(status=409, notice=_("The contact changed meanwhile. Look at it again."))


@bp.post("/contacts/unconfirmed/confirm")
@needs_sign_in
def confirm_contact() -> Any:
    """Confirm a contact, from the version the list showed."""
    try:
        contacts.update_contact(
            session(),
            user=g.web_caller,
            client=request.form.get("client", ""),
            email=request.form.get("email", ""),
            changes={"confirmed": True},
            if_match=request.form.get("version") or None,
        )
    except (PreconditionFailed, Conflict):
        return _changed_meanwhile()
    return redirect(url_for("desk.unconfirmed", done="confirmed"), 303)


@bp.post("/contacts/unconfirmed/merge")
@needs_sign_in
def merge_contact() -> Any:
    """Merge a contact into another one of its client: its tickets move there."""
    email = request.form.get("email", "")
    try:
        contacts.merge_contact(
            session(),
            user=g.web_caller,
            client=request.form.get("client", ""),
            email=email,
            into=request.form.get("into", ""),
        )
    except Invalid as refused:
        session().rollback()
        shown = field_errors(refused.extra.get("errors") or {"into": [refused.detail]})
        return _contacts_page(status=422, errors={email: shown.get("into", refused.detail)})
    except Conflict:
        return _changed_meanwhile()
    return redirect(url_for("desk.unconfirmed", done="merged"), 303)


@bp.post("/tasks/<task_id>/assign")
@needs_sign_in
def assign(task_id: str) -> Any:
    """Give the task to a person of its team or move it to another queue of the team, as the API does."""
    person = request.form.get("user", "").strip() or None
    group = request.form.get("group", "").strip() or None
    try:
        if person is None and group is None:
            raise Invalid("give either user or group", errors={request.form.get("action", "group"): ["missing"]})
        assigning.assign_task(session(), user=g.web_caller, task_id=task_id, person=person, group=group)
    except Invalid as refused:
        session().rollback()
        errors = field_errors(refused.extra.get("errors") or {"group": [refused.detail]})
        return _task_page(task_id, status=422, assign_errors=errors)
    except Conflict:
        session().rollback()
        return _task_page(task_id, status=409, notice=_("The task changed meanwhile. Look at it again."))
    return redirect(url_for("web.task", task_id=task_id, assigned="1"), 303)
