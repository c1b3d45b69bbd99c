"""The contract of a client's contacts."""

from __future__ import annotations

from marshmallow import Schema, fields

from service.directory.schemas import ListArgsSchema, page_of
from service.fields import Choice, Email, Line

LANGUAGES = ("ru", "en")
CONFIRMED = {"description": "False while a duty officer has not confirmed the address: no mail goes to it."}


class ContactSchema(Schema):
    """A contact as the API shows it."""

    email = fields.String(metadata={"description": "Lower-case; unique within the client."})
    name = fields.String()
    phone = fields.String()
    position = fields.String()
    language = Choice(LANGUAGES, metadata={"description": "The language of the mails the contact gets."})
    confirmed = fields.Boolean(metadata=CONFIRMED)
    portal_access = fields.Boolean(metadata={"description": "May sign in to the client portal."})
    active = fields.Boolean()


class ContactCreateSchema(Schema):
    """A new contact of a client (stored with its address lower-cased)."""

    email = Email(required=True)
    name = Line(load_default="")
    phone = Line(max_length=40, load_default="")
    position = Line(load_default="")
    language = Choice(LANGUAGES, load_default="ru")
    confirmed = fields.Boolean(load_default=True, metadata=CONFIRMED)
    portal_access = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)


class ContactChangeSchema(Schema):
    """The fields of a contact to change (any of them; the address never changes: create the new one and merge)."""

    name = Line()
    phone = Line(max_length=40)
    position = Line()
    language = Choice(LANGUAGES)
    confirmed = fields.Boolean(metadata={"description": "`true` confirms the contact."})
    portal_access = fields.Boolean()
    active = fields.Boolean()


class ContactListArgsSchema(ListArgsSchema):
    """The list arguments of contacts: also whether they are confirmed."""

    confirmed = fields.Boolean(metadata={"description": "Only confirmed (true) or only unconfirmed (false) contacts."})


class MergeSchema(Schema):
    """The contact to merge into."""

    into = Email(required=True, metadata={"description": "Another contact of the same client."})


ContactPageSchema = page_of(ContactSchema, "ContactPage")
