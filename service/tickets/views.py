"""Ticket routes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.augmented import Augmented
from service.incidents import modification
from service.incidents import services as incidents
from service.incidents.schemas import (
    ModificationSchema,
    ModifiedSchema,
    VariablesChangedSchema,
    VariablesChangeSchema,
)
from service.paging import Page, PageArgs
from service.tickets import contacts, services
from service.tickets.models import Ticket
from service.tickets.schemas import (
    HistoryEventPageSchema,
    IdempotencySchema,
    TicketCreateSchema,
    TicketDetailSchema,
    TicketPageSchema,
    TicketQuerySchema,
    TicketSchema,
)

blp = Blueprint("tickets", __name__, url_prefix="/tickets", description="Tickets: intake, lists and details.")


def _detail(ticket: Any) -> Augmented:
    return services.ticket_details(session(), ticket)


@blp.route("")
class Tickets(MethodView):
    @blp.arguments(TicketQuerySchema, location="query")
    @blp.response(200, TicketPageSchema)
    def get(self, args: dict[str, Any]) -> Page[Any]:
        """A page of the tickets the caller may see, newest first; `next` is the cursor of the page after it."""
        return services.list_tickets(session(), user=user(), **args)

    @blp.arguments(IdempotencySchema, location="headers")
    @blp.arguments(TicketCreateSchema)
    @blp.response(201, TicketSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(200, schema=TicketSchema, description="The ticket an earlier call with the same key made.")
    def post(self, headers: dict[str, Any], fields: dict[str, Any]) -> tuple[Ticket, int, dict[str, str]]:
        """Open a ticket; an `Idempotency-Key` header makes a retry return the same ticket.

        The answer is the ticket's summary; its details (tasks, decisions, SLA clocks) are at the `Location`.
        """
        opened = services.open_ticket(
            session(), context(), user=user(), fields=fields, idempotency_key=headers.get("idempotency_key")
        )
        location = f"/api/v1/tickets/{opened.ticket.number}"
        return opened.ticket, 201 if opened.created else 200, {"Location": location}


@blp.route("/<number>")
class TicketByNumber(MethodView):
    @blp.response(200, TicketDetailSchema)
    def get(self, number: str) -> Augmented:
        """One ticket with its open tasks and the decisions taken."""
        return _detail(services.get_ticket(session(), user=user(), number=number))


@blp.route("/<number>/history")
class TicketHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryEventPageSchema)
    def get(self, args: dict[str, Any], number: str) -> Page[Any]:
        """A page of the ticket's events, oldest first; `next` is the cursor of the page after it.

        A client user reads the ticket's opening, its status changes and the mails sent to them, nothing internal.
        """
        ticket = services.get_ticket(session(), user=user(), number=number)
        return services.ticket_history(session(), user=user(), ticket=ticket, **args)


@blp.route("/<number>/contact/confirm")
class ContactConfirmation(MethodView):
    @blp.response(200, TicketSchema)
    def post(self, number: str) -> Ticket:
        """Confirm the ticket's contact address (duty officers): mails to the client go only to a confirmed one."""
        return contacts.confirm_contact(session(), user=user(), number=number)


@blp.route("/<number>/variables")
class TicketVariables(MethodView):
    @blp.arguments(VariablesChangeSchema)
    @blp.response(200, VariablesChangedSchema)
    def patch(self, body: dict[str, Any], number: str) -> dict[str, Any]:
        """Overwrite variables of the ticket's running instance (role `process_owner`), e.g. before retrying an
        incident; the history records each value before and after."""
        return incidents.change_variables(session(), context(), user=user(), number=number, variables=body["variables"])


@blp.route("/<number>/modification")
class TicketModification(MethodView):
    @blp.arguments(ModificationSchema)
    @blp.response(200, ModifiedSchema)
    def post(self, body: dict[str, Any], number: str) -> dict[str, Any]:
        """Move the ticket's token (role `process_owner`): cancel it at elements and start it before another, then
        run on; `resolve_incidents` resolves the incidents the move makes moot. The history keeps before and after."""
        return modification.modify_instance(session(), context(), user=user(), number=number, **body)
