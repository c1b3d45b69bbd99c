"""The notice on a task page of a ticket stopped by an incident (`incident_notice`, called by task.html): which
element stopped and the error, for staff, and for those who retry incidents a link to the managers' dashboard.

The incidents come from the service function the ticket's details use for staff (`stopping_incidents`): a client
user, or a ticket that runs, gets nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template
from markupsafe import Markup

from service.api.edge import session
from service.auth.permissions import Permission, allowed
from service.incidents.services import stopping_incidents
from service.tasks.models import UserTask

bp = Blueprint("incident_notice", __name__, template_folder="templates")


@bp.app_context_processor
def _notice() -> dict[str, Any]:
    return {"incident_notice": incident_notice}


def incident_notice(task: Any) -> Markup:
    """The notice for the task's ticket (empty unless it is stopped by an incident and the person is staff)."""
    if not isinstance(task, UserTask):
        return Markup("")
    user = g.web_caller
    incidents = stopping_incidents(session(), user=user, ticket=task.ticket)
    if not incidents:
        return Markup("")
    retries = allowed(user, Permission.HANDLE_INCIDENTS) and allowed(user, Permission.READ_REPORTS)
    return Markup(render_template("incident_notice.html", incidents=incidents, retries=retries))
