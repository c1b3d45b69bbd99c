"""On site and at the parts centre: the engineer's check-in and check-out, the photos of a ticket, parts delivered.

The task page of on-site work (`labour.on_site`) gets a section from here (`field_panel`, called by task.html):
"Check in" / "Check out" (`field.js` adds the position when the person ticks the box and the browser allows it)
and a file input that takes a picture into the ticket's folder, with the folder's files listed. `/parts` lists the
tickets waiting for delivery to the parts centre, each with a "Parts delivered" button that sends the
`parts_delivered` message. Every form calls the service functions of the API's views.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import ValidationError

from service.api.edge import context, session
from service.auth.permissions import Permission, authorize
from service.errors import Conflict, Invalid, NotFound, TooLarge
from service.processes.messages import send_message
from service.sla import visits
from service.sla.labour import on_site
from service.sla.visit_schemas import PositionSchema
from service.tasks.models import UserTask
from service.tasks.services import get_task
from service.tickets import files
from service.tickets.file_views import store, upload_limit
from service.tickets.services import list_tickets
from service.web.signin import needs_sign_in

bp = Blueprint("field", __name__, template_folder="templates")
#: The message the parts centre sends, and the ticket status of those waiting for it.
PARTS_DELIVERED, WAITING_PARTS = "parts_delivered", "waiting_parts"
#: What the task page says after one of this module's forms (by a code in the query string: no text from outside).
NOTICES = {
    "checked_in": _l("You are checked in."),
    "checked_out": _l("You are checked out; the time on site is booked."),
    "uploaded": _l("The files are in the ticket's folder."),
    "already_in": _l("You are checked in already."),
    "not_in": _l("You are not checked in."),
    "task_done": _l("This task is done: check in on an open task."),
    "too_big": _l("The file is too large."),
    "bad_file": _l("Choose a file with an acceptable name."),
    "bad_position": _l("The position was not usable; nothing was recorded."),
}
#: Notices that report a refusal (shown as an alert) rather than a success.
REFUSALS = frozenset({"already_in", "not_in", "task_done", "too_big", "bad_file", "bad_position"})


@bp.app_context_processor
def _panel() -> dict[str, Any]:
    return {"field_panel": field_panel}


def field_panel(task: Any) -> Markup:
    """The on-site section of a task page (empty for other tasks); the order-parts task points to `/parts`."""
    if not isinstance(task, UserTask):
        return Markup("")
    if task.name == "order_parts":
        return Markup(render_template("field_order_parts.html"))
    if not on_site(task):
        return Markup("")
    user = g.web_caller
    number = task.ticket.number
    notice = request.args.get("onsite", "")
    return Markup(
        render_template(
            "field_onsite.html",
            task=task,
            visit=visits.open_visit(session(), task_id=task.id, engineer=user.username),
            done_visits=[
                v for v in visits.visits_of(session(), task_id=task.id, engineer=user.username) if v.checked_out_at
            ],
            files=files.list_files(session(), store(), user=user, number=number),
            number=number,
            notice=NOTICES.get(notice),
            upload_mb=f"{context().config.upload_mb:g}",
            refused=notice in REFUSALS,
        )
    )


def _back(task_id: str, code: str) -> Any:
    return redirect(url_for("web.task", task_id=task_id, onsite=code, _anchor="onsite"), 303)


def _position() -> visits.Position | None:
    """The position the form carries (filled by field.js when allowed), checked by the API's schema."""
    given = {key: request.form[key] for key in ("lat", "lon") if request.form.get(key, "").strip()}
    body = PositionSchema().load(given)
    return visits.Position(body["lat"], body["lon"]) if "lat" in body else None


@bp.post("/tasks/<task_id>/check-in")
@needs_sign_in
def check_in(task_id: str) -> Any:
    """Check in on the on-site task."""
    return _visit(task_id, visits.check_in, "checked_in")


@bp.post("/tasks/<task_id>/check-out")
@needs_sign_in
def check_out(task_id: str) -> Any:
    """Check out of the on-site task: the time since the check-in is booked."""
    return _visit(task_id, visits.check_out, "checked_out")


def _visit(task_id: str, act: Any, done: str) -> Any:
    try:
        position = _position()
    except ValidationError:
        return _back(task_id, "bad_position")
    try:
        act(session(), user=g.web_caller, task_id=task_id, position=position)
    except Conflict as refused:
        if refused.extra.get("reason") not in NOTICES:
            raise
        session().rollback()
        return _back(task_id, refused.extra["reason"])
    return _back(task_id, done)


@bp.post("/tasks/<task_id>/files")
@needs_sign_in
def upload(task_id: str) -> Any:
    """Put the chosen files (a picture taken on the phone) into the task's ticket's folder."""
    task = get_task(session(), user=g.web_caller, task_id=task_id)
    uploads = [files.Upload(part.filename or "", part.read()) for part in request.files.getlist("files") if part]
    try:
        files.upload_files(
            session(), store(), user=g.web_caller, number=task.ticket.number, uploads=uploads, max_bytes=upload_limit()
        )
    except TooLarge:
        return _back(task_id, "too_big")
    except Invalid:
        return _back(task_id, "bad_file")
    return _back(task_id, "uploaded")


@bp.get("/parts")
@needs_sign_in
def parts() -> Any:
    """The tickets waiting for parts that the person sees, oldest page first, each with "Parts delivered"."""
    authorize(g.web_caller, Permission.SEND_MESSAGES)
    cursor = request.args.get("cursor", "")[:400] or None
    page = list_tickets(session(), user=g.web_caller, status=WAITING_PARTS, cursor=cursor, page_size=50)
    delivered = request.args.get("delivered", "")[:20]
    return render_template("field_parts.html", page=page, delivered=delivered, error=None)


@bp.post("/parts/<number>/delivered")
@needs_sign_in
def parts_delivered(number: str) -> Any:
    """Send `parts_delivered` into the ticket's process, with the delivery note when one is given."""
    note = request.form.get("delivery_note", "").strip()
    data = {"delivery_note": note[:200]} if note else {}
    try:
        send_message(session(), context(), user=g.web_caller, name=PARTS_DELIVERED, number=number, data=data)
    except NotFound:  # delivered meanwhile by someone else, or never visible: the list says so, as it is now
        session().rollback()
        page = list_tickets(session(), user=g.web_caller, status=WAITING_PARTS, page_size=50)
        error = _("%(ticket)s does not wait for parts.", ticket=number[:20])
        return render_template("field_parts.html", page=page, delivered="", error=error), 404
    return redirect(url_for("field.parts", delivered=number), 303)
