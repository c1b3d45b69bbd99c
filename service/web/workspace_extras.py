""" "My work"'s saved filters on the page: pick one (the page opens with its query), save the current filters under
a name, delete one. The same service functions as `/api/v1/me/filters`, so each person has only their own."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request, url_for
from flask_babel import gettext as _

from service.api.edge import session
from service.errors import Invalid, NotFound
from service.tasks import saved_filters
from service.web.pages import work_page
from service.web.signin import needs_sign_in

bp = Blueprint("work_extras", __name__, template_folder="templates")


@bp.get("/work/filters")
@needs_sign_in
def pick_filter() -> Any:
    """Open "My work" with the saved filter's query (none chosen: "My work" as it is)."""
    try:
        chosen = int(request.args.get("id", ""))
        found = saved_filters.get_filter(session(), user=g.web_caller, filter_id=chosen)
    except (ValueError, NotFound):
        return redirect(url_for("web.my_work"), 303)
    return redirect(f"{url_for('web.my_work')}?{found.query}" if found.query else url_for("web.my_work"), 303)


@bp.post("/work/filters")
@needs_sign_in
def save_filter() -> Any:
    """Keep the filters shown under the name typed; a name left empty is said beside its field."""
    name = request.form.get("name", "").strip()[:80]
    query = request.form.get("query", "")[:1000]
    if not name:
        return work_page(status=422, filter_error=_("Name the filter."), filter_name=name)
    try:
        saved_filters.save_filter(session(), user=g.web_caller, name=name, query=query)
    except Invalid:
        session().rollback()
        return work_page(status=422, filter_error=_("This filter cannot be saved."), filter_name=name)
    return redirect(f"{url_for('web.my_work')}?{saved_filters.normal_query(query)}", 303)


@bp.post("/work/filters/<int:filter_id>/delete")
@needs_sign_in
def delete_filter(filter_id: int) -> Any:
    """Forget one of the person's saved filters (another's: the not-found page)."""
    saved_filters.delete_filter(session(), user=g.web_caller, filter_id=filter_id)
    return redirect(url_for("web.my_work"), 303)
