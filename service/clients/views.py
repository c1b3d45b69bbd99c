"""Client routes: the list, each client, its history (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match, tagged
from service.clients import services
from service.clients.schemas import ClientChangeSchema, ClientCreateSchema, ClientPageSchema, ClientSchema
from service.directory.schemas import HistoryPageSchema, ListArgsSchema, search_terms
from service.paging import PageArgs

blp = Blueprint("clients", __name__, url_prefix="/clients", description="Clients of the service desk.")


@blp.route("")
class Clients(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, ClientPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A page of clients by code; `q` finds a code, a name or an INN."""
        return services.list_clients(
            session(),
            user=user(),
            q=search_terms(args),
            active=args.get("active"),
            cursor=args.get("cursor"),
            page_size=args["page_size"],
        )

    @blp.arguments(ClientCreateSchema)
    @blp.response(201, ClientSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a client."""
        return tagged(services.create_client(session(), user=user(), data=body), 201)


@blp.route("/<code>")
class Client(MethodView):
    @blp.response(200, ClientSchema, headers=ETAG_HEADER)
    def get(self, code: str) -> Any:
        """One client, with its version in `ETag`."""
        return tagged(services.get_client(session(), user=user(), code=code))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(ClientChangeSchema)
    @blp.response(200, ClientSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], code: str) -> Any:
        """Change a client from the version in `If-Match`; `{"active": false}` deactivates it."""
        return tagged(services.update_client(session(), user=user(), code=code, changes=body, if_match=if_match()))

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    def delete(self, code: str) -> None:
        """Delete a client nothing refers to; 409 names what refers to it (deactivate it instead)."""
        services.delete_client(session(), user=user(), code=code, if_match=if_match())


@blp.route("/<code>/history")
class ClientHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """Every change of the client: who, when, before and after."""
        return services.client_history(
            session(), user=user(), code=code, cursor=args.get("cursor"), page_size=args["page_size"]
        )
