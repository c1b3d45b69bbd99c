"""Contact routes: a client's contacts, each contact, confirming and merging them, their history (who may:
`service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match, tagged
from service.clients import contacts
from service.clients.contact_schemas import (
    ContactChangeSchema,
    ContactCreateSchema,
    ContactListArgsSchema,
    ContactPageSchema,
    ContactSchema,
    MergeSchema,
)
from service.directory.schemas import HistoryPageSchema, search_terms
from service.paging import PageArgs

blp = Blueprint("contacts", __name__, url_prefix="/clients", description="The people of a client tickets come from.")


@blp.route("/<code>/contacts")
class Contacts(MethodView):
    @blp.arguments(ContactListArgsSchema, location="query")
    @blp.response(200, ContactPageSchema)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """A page of the client's contacts by address; `q` finds an address, a name, a phone or a position;
        `confirmed=false` lists those intake created that wait for a duty officer."""
        return contacts.list_contacts(
            session(),
            user=user(),
            client=code,
            q=search_terms(args),
            active=args.get("active"),
            confirmed=args.get("confirmed"),
            cursor=args.get("cursor"),
            page_size=args["page_size"],
        )

    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any], code: str) -> Any:
        """Create a contact of the client (its address lower-cased; 409 when the client has it already)."""
        return tagged(contacts.create_contact(session(), user=user(), client=code, data=body), 201)


@blp.route("/<code>/contacts/<email>")
class Contact(MethodView):
    @blp.response(200, ContactSchema, headers=ETAG_HEADER)
    def get(self, code: str, email: str) -> Any:
        """One contact, with its version in `ETag`."""
        return tagged(contacts.get_contact(session(), user=user(), client=code, email=email))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(ContactChangeSchema)
    @blp.response(200, ContactSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], code: str, email: str) -> Any:
        """Change a contact from the version in `If-Match`; `{"confirmed": true}` confirms it, `{"active": false}`
        deactivates it."""
        changed = contacts.update_contact(
            session(), user=user(), client=code, email=email, changes=body, if_match=if_match()
        )
        return tagged(changed)

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    def delete(self, code: str, email: str) -> None:
        """Delete a contact no ticket names; 409 names what refers to it (merge or deactivate it instead)."""
        contacts.delete_contact(session(), user=user(), client=code, email=email, if_match=if_match())


@blp.route("/<code>/contacts/<email>/merge")
class ContactMerge(MethodView):
    @blp.arguments(MergeSchema)
    @blp.response(200, ContactSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any], code: str, email: str) -> Any:
        """Merge the contact into another one of the client: its tickets move there and it is deactivated; the
        contact merged into is answered."""
        return tagged(contacts.merge_contact(session(), user=user(), client=code, email=email, into=body["into"]))


@blp.route("/<code>/contacts/<email>/history")
class ContactHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], code: str, email: str) -> Any:
        """Every change of the contact: who, when, before and after."""
        return contacts.contact_history(
            session(), user=user(), client=code, email=email, cursor=args.get("cursor"), page_size=args["page_size"]
        )
