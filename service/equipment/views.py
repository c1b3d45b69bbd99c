"""Equipment routes: the installed base, each item, its history (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match, tagged
from service.directory.schemas import HistoryPageSchema, search_terms
from service.equipment import services
from service.equipment.schemas import (
    EquipmentChangeSchema,
    EquipmentCreateSchema,
    EquipmentListArgsSchema,
    EquipmentPageSchema,
    EquipmentSchema,
)
from service.paging import PageArgs

blp = Blueprint("equipment", __name__, url_prefix="/equipment", description="The clients' installed equipment.")


@blp.route("")
class EquipmentList(MethodView):
    @blp.arguments(EquipmentListArgsSchema, location="query")
    @blp.response(200, EquipmentPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A page of equipment by serial; `q` finds a serial, a vendor or a model."""
        return services.list_equipment(
            session(),
            user=user(),
            q=search_terms(args),
            client=args.get("client"),
            site=args.get("site"),
            equipment_class=args.get("equipment_class"),
            status=args.get("status"),
            cursor=args.get("cursor"),
            page_size=args["page_size"],
        )

    @blp.arguments(EquipmentCreateSchema)
    @blp.response(201, EquipmentSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any]) -> Any:
        """Add an item (administrators, and duty officers for equipment met at intake)."""
        return tagged(services.create_equipment(session(), user=user(), data=body), 201)


@blp.route("/<serial>")
class EquipmentItem(MethodView):
    @blp.response(200, EquipmentSchema, headers=ETAG_HEADER)
    def get(self, serial: str) -> Any:
        """One item, with its version in `ETag`."""
        return tagged(services.get_equipment(session(), user=user(), serial=serial))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(EquipmentChangeSchema)
    @blp.response(200, EquipmentSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], serial: str) -> Any:
        """Change an item from the version in `If-Match`; `{"status": "retired"}` retires it; 409 for another
        client."""
        return tagged(
            services.update_equipment(session(), user=user(), serial=serial, changes=body, if_match=if_match())
        )

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    def delete(self, serial: str) -> None:
        """Delete an item nothing refers to; 409 names what refers to it (retire it instead)."""
        services.delete_equipment(session(), user=user(), serial=serial, if_match=if_match())


@blp.route("/<serial>/history")
class EquipmentHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], serial: str) -> Any:
        """Every change of the item: who, when, before and after."""
        return services.equipment_history(
            session(), user=user(), serial=serial, cursor=args.get("cursor"), page_size=args["page_size"]
        )
