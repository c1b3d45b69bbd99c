"""Price list and one-off contract routes (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match, tagged
from service.directory.schemas import HistoryPageSchema
from service.paging import PageArgs
from service.prices import one_off, services
from service.prices.schemas import (
    OneOffContractArgsSchema,
    OneOffContractChangeSchema,
    OneOffContractPageSchema,
    OneOffContractSchema,
    PriceChangeSchema,
    PriceCreateSchema,
    PriceItemPageSchema,
    PriceItemSchema,
    PriceListArgsSchema,
)

blp = Blueprint("prices", __name__, url_prefix="/price-list", description="The price list of per-call work.")
contracts = Blueprint(
    "one_off_contracts", __name__, url_prefix="/one-off-contracts", description="One-off (per-call) contracts."
)


@blp.route("")
class PriceList(MethodView):
    @blp.arguments(PriceListArgsSchema, location="query")
    @blp.response(200, PriceItemPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A page of prices by id; `on` keeps the prices valid on that day, `q` finds class, vendor, model, item."""
        q = (args.get("q") or "").strip() or None
        where = services.PriceFilter(**{key: args.get(key) for key in (*services.IDENTITY, "on")}, q=q)
        return services.list_prices(
            session(), user=user(), where=where, cursor=args.get("cursor"), page_size=args["page_size"]
        )

    @blp.arguments(PriceCreateSchema)
    @blp.response(201, PriceItemSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any]) -> Any:
        """Add a price; a price of an item that has one, from a later day, changes it from then on."""
        return tagged(services.create_price(session(), user=user(), data=body), 201)


@blp.route("/<int:price_id>")
class Price(MethodView):
    @blp.response(200, PriceItemSchema, headers=ETAG_HEADER)
    def get(self, price_id: int) -> Any:
        """One price, with its version in `ETag`."""
        return tagged(services.get_price(session(), user=user(), price_id=price_id))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(PriceChangeSchema)
    @blp.response(200, PriceItemSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], price_id: int) -> Any:
        """Correct a price from the version in `If-Match`."""
        price = services.update_price(session(), user=user(), price_id=price_id, changes=body, if_match=if_match())
        return tagged(price)

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    def delete(self, price_id: int) -> None:
        """Delete a price (contracts keep the lines they copied; the history stays)."""
        services.delete_price(session(), user=user(), price_id=price_id, if_match=if_match())


@blp.route("/<int:price_id>/history")
class PriceHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], price_id: int) -> Any:
        """Every change of the price: who, when, before and after."""
        return services.price_history(
            session(), user=user(), price_id=price_id, cursor=args.get("cursor"), page_size=args["page_size"]
        )


@contracts.route("")
class OneOffContracts(MethodView):
    @contracts.arguments(OneOffContractArgsSchema, location="query")
    @contracts.response(200, OneOffContractPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A page of the one-off contracts the caller may read, by number."""
        where = one_off.ContractFilter(client=args.get("client"), paid=args.get("paid"), ticket=args.get("ticket"))
        return one_off.list_contracts(
            session(), user=user(), where=where, cursor=args.get("cursor"), page_size=args["page_size"]
        )


@contracts.route("/<number>")
class OneOffContract(MethodView):
    @contracts.response(200, OneOffContractSchema, headers=ETAG_HEADER)
    def get(self, number: str) -> Any:
        """One contract, with its version in `ETag`."""
        return tagged(one_off.get_contract(session(), user=user(), number=number))

    @contracts.doc(parameters=[IF_MATCH])
    @contracts.arguments(OneOffContractChangeSchema)
    @contracts.response(200, OneOffContractSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], number: str) -> Any:
        """Record the contract's payment from the version in `If-Match`."""
        contract = one_off.update_contract(session(), user=user(), number=number, changes=body, if_match=if_match())
        return tagged(contract)


@contracts.route("/<number>/history")
class OneOffContractHistory(MethodView):
    @contracts.arguments(PageArgs, location="query")
    @contracts.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], number: str) -> Any:
        """Every change of the contract: who, when, before and after."""
        return one_off.contract_history(
            session(), user=user(), number=number, cursor=args.get("cursor"), page_size=args["page_size"]
        )
