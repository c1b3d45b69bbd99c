"""The clients' contract."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from service.clients.inn import inn_problem
from service.directory.schemas import page_of
from service.fields import Choice, Code, Line, Text

SECTORS = ("bank", "retail", "state", "industry", "telecom", "other")
#: A client code as routes and files name it.
CODE = validate.Regexp(
    r"^[A-Z0-9][A-Z0-9._-]*$", error="upper-case letters, digits, '.', '_' and '-', from a letter or digit"
)


def _inn(value: str) -> None:
    problem = inn_problem(value)
    if problem:
        raise ValidationError(problem)


class ClientSchema(Schema):
    """A client as the API shows it."""

    code = fields.String()
    name = fields.String()
    inn = fields.String(allow_none=True)
    sector = fields.String()
    active = fields.Boolean()
    notes = fields.String()


class ClientCreateSchema(Schema):
    """A new client."""

    code = Code(max_length=40, required=True, validate=CODE)
    name = Line(required=True, min_length=1)
    inn = Line(max_length=12, allow_none=True, load_default=None, validate=_inn)
    sector = Choice(SECTORS, load_default="other")
    active = fields.Boolean(load_default=True)
    notes = Text(load_default="")


class ClientChangeSchema(Schema):
    """The fields of a client to change (any of them; the code never changes)."""

    name = Line(min_length=1)
    inn = Line(max_length=12, allow_none=True, validate=_inn)
    sector = Choice(SECTORS)
    active = fields.Boolean()
    notes = Text()


ClientPageSchema = page_of(ClientSchema, "ClientPage")
