"""Routes of site visits: check in and check out on an on-site task (the check-out books the time on site)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.sla import visits
from service.sla.models import SiteVisit
from service.sla.visit_schemas import PositionSchema, SiteVisitSchema

blp = Blueprint("visits", __name__, url_prefix="/tasks", description="Site visits: check-in and check-out on a task.")


def position_of(body: dict[str, Any]) -> visits.Position | None:
    """The position a check-in or check-out carries, when it carries one."""
    return visits.Position(body["lat"], body["lon"]) if "lat" in body else None


@blp.route("/<task_id>/check-in")
class CheckIn(MethodView):
    @blp.arguments(PositionSchema)
    @blp.response(201, SiteVisitSchema)
    def post(self, body: dict[str, Any], task_id: str) -> SiteVisit:
        """Check in on an on-site task (engineers of its queue); 409 when checked in there already."""
        return visits.check_in(session(), user=user(), task_id=task_id, position=position_of(body))


@blp.route("/<task_id>/check-out")
class CheckOut(MethodView):
    @blp.arguments(PositionSchema)
    @blp.response(200, SiteVisitSchema)
    def post(self, body: dict[str, Any], task_id: str) -> SiteVisit:
        """Check out: books the hours since the check-in as an on-site time entry; 409 when not checked in."""
        return visits.check_out(session(), user=user(), task_id=task_id, position=position_of(body))
