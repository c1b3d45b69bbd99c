"""Contract routes: the list, each contract, its history (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match, tagged
from service.contracts import services
from service.contracts.schemas import (
    ContractChangeSchema,
    ContractCreateSchema,
    ContractListArgsSchema,
    ContractPageSchema,
    ContractSchema,
)
from service.directory.schemas import HistoryPageSchema, search_terms
from service.paging import PageArgs

blp = Blueprint("contracts", __name__, url_prefix="/contracts", description="The clients' service contracts.")


@blp.route("")
class Contracts(MethodView):
    @blp.arguments(ContractListArgsSchema, location="query")
    @blp.response(200, ContractPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A page of contracts by number; `q` finds a number or a service level."""
        return services.list_contracts(
            session(),
            user=user(),
            q=search_terms(args),
            client=args.get("client"),
            status=args.get("status"),
            cursor=args.get("cursor"),
            page_size=args["page_size"],
        )

    @blp.arguments(ContractCreateSchema)
    @blp.response(201, ContractSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a contract."""
        return tagged(services.create_contract(session(), user=user(), data=body), 201)


@blp.route("/<number>")
class Contract(MethodView):
    @blp.response(200, ContractSchema, headers=ETAG_HEADER)
    def get(self, number: str) -> Any:
        """One contract, with its version in `ETag`."""
        return tagged(services.get_contract(session(), user=user(), number=number))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(ContractChangeSchema)
    @blp.response(200, ContractSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], number: str) -> Any:
        """Change a contract from the version in `If-Match`; `{"status": "terminated"}` stops it entitling."""
        return tagged(
            services.update_contract(session(), user=user(), number=number, changes=body, if_match=if_match())
        )

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    def delete(self, number: str) -> None:
        """Delete a contract nothing refers to; 409 names what refers to it (terminate it instead)."""
        services.delete_contract(session(), user=user(), number=number, if_match=if_match())


@blp.route("/<number>/history")
class ContractHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], number: str) -> Any:
        """Every change of the contract: who, when, before and after."""
        return services.contract_history(
            session(), user=user(), number=number, cursor=args.get("cursor"), page_size=args["page_size"]
        )
