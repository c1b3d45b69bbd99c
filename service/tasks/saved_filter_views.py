"""Routes of the caller's saved inbox filters (each person sees and changes only their own)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.tasks import saved_filters
from service.tasks.models import SavedFilter
from service.tasks.saved_filter_schemas import SavedFilterCreateSchema, SavedFilterListSchema, SavedFilterSchema

blp = Blueprint("saved_filters", __name__, url_prefix="/me/filters", description="The caller's saved inbox filters.")


@blp.route("")
class SavedFilters(MethodView):
    @blp.response(200, SavedFilterListSchema)
    def get(self) -> dict[str, Any]:
        """The caller's saved filters by name."""
        return {"items": saved_filters.list_filters(session(), user=user())}

    @blp.arguments(SavedFilterCreateSchema)
    @blp.response(201, SavedFilterSchema)
    def post(self, body: dict[str, Any]) -> SavedFilter:
        """Keep the inbox's query string under a name (the caller's filter of that name is replaced)."""
        return saved_filters.save_filter(session(), user=user(), name=body["name"], query=body["query"])


@blp.route("/<int:filter_id>")
class SavedFilterById(MethodView):
    @blp.response(204)
    def delete(self, filter_id: int) -> None:
        """Forget one of the caller's saved filters; another's is not found."""
        saved_filters.delete_filter(session(), user=user(), filter_id=filter_id)
