"""The pages: sign-in and out, setting a password from a mailed link, "My work" and the task page.

Each page calls the service functions the API's views call, so permissions, validation and the 404-if-not-yours
rule are the API's own; a refusal is shown on the page (field errors beside their fields), never as a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _

from service.api.edge import context, session
from service.auth import links, login
from service.auth.passwords import MIN_LENGTH
from service.errors import Conflict, Invalid, TooManyRequests, Unauthorized
from service.prices import one_off
from service.tasks import assigning, inbox, saved_filters, services
from service.tasks.inbox import Cursor, TaskFilter, TaskSort
from service.tasks.models import OPEN
from service.tickets.file_views import store
from service.tickets.schemas import SEVERITIES
from service.web import cards, forms
from service.web.i18n import time_zone
from service.web.labels import WORDS
from service.web.signin import (
    check_form_cookie,
    clear_session_cookies,
    needs_sign_in,
    safe_next,
    set_session_cookies,
    signed_in,
)

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")
#: Rows of "My work" per page.
PAGE_SIZE = 25
#: The "breach soon" windows the page offers, in hours.
BREACH_HOURS = ("1", "4", "8", "24", "72")


@bp.get("/login")
def sign_in() -> Any:
    """The sign-in form (someone signed in already goes on)."""
    target = safe_next(request.args.get("next"))
    if signed_in() is not None:
        return redirect(target, 303)
    return render_template("login.html", next=target, username="", error=None)


@bp.post("/login")
def sign_in_post() -> Any:
    """Check the password behind the API's throttle; on success set the session's cookies and go on."""
    check_form_cookie()
    target = safe_next(request.form.get("next"))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("Enter your username.")
    if not password:
        errors["password"] = _("Enter your password.")
    if errors:
        return render_template("login.html", next=target, username=username, errors=errors, error=None), 422
    try:
        signed = login.login(
            session(), config=context().config, username=username, password=password, address=request.remote_addr or ""
        )
    except TooManyRequests as refused:
        wait = refused.headers.get("Retry-After", "60")
        error = _("Too many failed sign-ins. Try again in %(seconds)s seconds.", seconds=wait)
        return render_template("login.html", next=target, username=username, error=error), 429
    except Unauthorized:
        error = _("The username or the password is wrong.")
        return render_template("login.html", next=target, username=username, error=error), 401
    return set_session_cookies(redirect(target, 303), signed)


@bp.post("/logout")
@needs_sign_in
def sign_out() -> Any:
    """End this browser's session (the form carries its CSRF value) and go to the sign-in."""
    login.logout(session(), token=request.cookies.get(login.SESSION_COOKIE, ""))
    return clear_session_cookies(redirect(url_for("web.sign_in"), 303))


@bp.post("/logout-all")
@needs_sign_in
def sign_out_everywhere() -> Any:
    """End every session and token of the person (the API's `logout-all`), this browser's too, and go to the sign-in."""
    login.logout_everywhere(session(), user=g.web_caller)
    return clear_session_cookies(redirect(url_for("web.sign_in"), 303))


@bp.get("/password")
def password() -> Any:
    """The form a reset or invitation link opens: a new password."""
    return render_template("password.html", token=request.args.get("token", ""), errors={}, done=False)


@bp.post("/password")
def password_post() -> Any:
    """Set the password of the link (once); policy errors are shown beside the field."""
    check_form_cookie()
    token = request.form.get("token", "")
    new, again = request.form.get("password", ""), request.form.get("password_again", "")
    errors: dict[str, str] = {}
    if new != again:
        errors["password_again"] = _("The two passwords differ.")
    else:
        try:
            links.confirm(session(), token=token, password=new)
        except Invalid as refused:
            fields = refused.extra.get("errors", {})
            if "token" in fields:
                errors["token"] = _("The link is not valid: it was used, has expired or a newer one was sent.")
            else:
                errors["password"] = _("Use at least %(count)s characters, and not your username.", count=MIN_LENGTH)
    if errors:
        return render_template("password.html", token=token, errors=errors, done=False), 422
    return render_template("password.html", token="", errors={}, done=True)


def _filters() -> tuple[TaskFilter, TaskSort, Cursor | None, dict[str, str]]:
    """The filters, order and page of "My work" as the query string gives them (what does not fit is ignored)."""
    keys = ("queue", "severity", "due_before", "sort", "cursor", "status", "team", "client", "breach_soon")
    args = {key: request.args.get(key, "").strip()[:200] for key in keys}
    sort = TaskSort(args["sort"]) if args["sort"] in {s.value for s in TaskSort} else TaskSort.CREATED
    due_before = None
    if args["due_before"]:
        try:
            due_before = datetime.fromisoformat(args["due_before"]).replace(tzinfo=ZoneInfo(time_zone()))
        except ValueError:
            args["due_before"] = ""
    severity = args["severity"] if args["severity"] in SEVERITIES else None
    hours = int(args["breach_soon"]) if args["breach_soon"] in BREACH_HOURS else None
    args["breach_soon"] = str(hours) if hours else ""
    ticket = {key: args[key][:80] or None for key in ("status", "team", "client")}
    where = TaskFilter(
        queue=args["queue"] or None, severity=severity, due_before=due_before, breach_soon=hours, **ticket
    )
    cursor = None
    if args["cursor"]:
        try:
            cursor = Cursor.decode(args["cursor"][:400])
        except ValueError:
            cursor = None
        if cursor is not None and cursor.sort != sort:
            cursor = None
    args["sort"] = sort.value
    return where, sort, cursor, args


def _rows_context() -> dict[str, Any]:
    where, sort, cursor, args = _filters()
    page = inbox.list_page(session(), user=g.web_caller, where=where, sort=sort, page_size=PAGE_SIZE, after=cursor)
    query = {key: value for key, value in args.items() if value and key != "cursor"}
    here = {**query, "cursor": args["cursor"]} if cursor is not None else query  # a refresh keeps the page
    current = saved_filters.normal_query(urlencode(query))  # as a saved filter writes it
    return {"page": page, "args": args, "query": query, "here": here, "query_string": current}


@bp.get("/")
@needs_sign_in
def my_work() -> Any:
    """The open tasks of the person's queues, with counts per queue, filters and order; the list refreshes itself."""
    if g.web_caller.client_id is not None:  # a client user has no tasks: their page is the portal
        return redirect(url_for("portal.tickets"), 303)
    return work_page()


def work_page(*, status: int = 200, **more: Any) -> Any:
    """ "My work" with its counts, filters, saved filters and rows (`more`: a notice or an error of a saved filter)."""
    counts = inbox.queue_counts(session(), user=g.web_caller)
    done = request.args.get("completed", "")
    saved = saved_filters.list_filters(session(), user=g.web_caller)
    page = render_template(
        "work.html",
        counts=counts,
        severities=SEVERITIES,
        completed=done[:20],
        saved=saved,
        statuses=list(WORDS["ticket_status"]),
        breach_hours=BREACH_HOURS,
        **more,
        **_rows_context(),
    )
    return page, status


@bp.get("/work/rows")
@needs_sign_in
def my_work_rows() -> Any:
    """The rows of "My work" alone: what the page's periodic refresh swaps in."""
    return render_template("_rows.html", **_rows_context())


def _task_page(task_id: str, *, status: int = 200, errors: dict[str, Any] | None = None, **more: Any) -> Any:
    task, workable = assigning.task_to_show(session(), user=g.web_caller, task_id=task_id)
    history = request.args.get("history", "")[:600] or None
    card = cards.ticket_card(session(), task, user=g.web_caller, store=store(), cursor=history)
    values = more.pop("values", None)
    fields = forms.fields_of(task, values=values, errors=errors or {})
    more.update(workable=workable, choices=assigning.choices(session(), user=g.web_caller, task=task))
    more.update(estimate=_estimate(task, values), outcome_text=cards.outcome_text)
    page = render_template("task.html", task=task, card=card, fields=fields, OPEN=OPEN, errors=errors or {}, **more)
    return page, status


def _estimate(task: Any, values: Any) -> dict[str, Any] | None:
    """For the consultant's estimate: the ticket's price list (the API's) and the total of the costs as the server
    reads them (typed ones after a refusal, else the defaults), which the page's script keeps up to date."""
    if task.name != "estimate":
        return None
    typed = forms.data_of(task, values) if values is not None else {}
    return {
        "prices": services.price_list(session(), task=task),
        "total": format_decimal(one_off.estimate_total(typed), format="#,##0.00"),
        "fields": [name for name, _item in one_off.ESTIMATE_LINES],
        "currency": one_off.CURRENCY,
    }


@bp.get("/tasks/<task_id>")
@needs_sign_in
def task(task_id: str) -> Any:
    """The ticket card and the task's form (not the person's -> the not-found page, like the API)."""
    return _task_page(task_id)


def _refused(task_id: str, refused: Conflict) -> Any:
    """Someone else's claim or completion, said plainly on the task page."""
    session().rollback()
    current = services.get_task(session(), user=g.web_caller, task_id=task_id)
    if getattr(current, "state", OPEN) != OPEN:
        notice = _("This task is already done: %(who)s completed it.", who=current.completed_by or "—")
    elif current.claimed_by and current.claimed_by != g.web_caller.username:
        notice = _("%(who)s has taken this task.", who=current.claimed_by)
    else:
        notice = _("The task changed meanwhile. Look at it again.")
    return _task_page(task_id, status=409, notice=notice)


@bp.post("/tasks/<task_id>/claim")
@needs_sign_in
def claim(task_id: str) -> Any:
    """Take the task."""
    try:
        services.claim_task(session(), user=g.web_caller, task_id=task_id)
    except Conflict as refused:
        return _refused(task_id, refused)
    return redirect(url_for("web.task", task_id=task_id), 303)


@bp.post("/tasks/<task_id>/release")
@needs_sign_in
def release(task_id: str) -> Any:
    """Give the task back to its queues."""
    try:
        services.release_task(session(), user=g.web_caller, task_id=task_id)
    except Conflict as refused:
        return _refused(task_id, refused)
    return redirect(url_for("web.task", task_id=task_id), 303)


@bp.post("/tasks/<task_id>/complete")
@needs_sign_in
def complete(task_id: str) -> Any:
    """Complete the task with the form's values; the server's field errors come back beside their fields."""
    task = services.get_task(session(), user=g.web_caller, task_id=task_id)
    data = forms.data_of(task, request.form)
    try:
        key = request.form.get("idempotency_key", "")[:200] or None
        ticket = services.complete_task(
            session(), context(), user=g.web_caller, task_id=task_id, data=data, idempotency_key=key
        )
    except Conflict as refused:
        return _refused(task_id, refused)
    except Invalid as refused:
        session().rollback()
        errors = refused.extra.get("errors") or {"_": [refused.detail]}
        return _task_page(task_id, status=422, errors=errors, values=request.form)
    return redirect(url_for("web.my_work", completed=ticket.number), 303)


def error_page(status: int) -> Response:
    """The not-found page, the refusal page or the error page, in the person's language."""
    template = "not_found.html" if status == 404 else "error.html"
    return Response(render_template(template, status=status), status=status, mimetype="text/html")
