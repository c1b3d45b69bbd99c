"""The people's contract."""

from __future__ import annotations

from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate

from service.auth.permissions import Role
from service.directory.schemas import ListArgsSchema, page_of
from service.fields import Choice, Code, Email, Line

#: A username as routes and tokens name it.
USERNAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9._-]*$", error="lower-case letters, digits, '.', '_' and '-', from a letter or digit"
)
ROLES = tuple(role.value for role in Role)
LANGUAGES = ("ru", "en")


def _zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (such as Europe/Moscow)")


def _role_list(**kwargs: object) -> fields.List:
    return fields.List(Choice(ROLES), validate=validate.Length(max=len(ROLES)), **kwargs)  # type: ignore[arg-type]


def _group_list(**kwargs: object) -> fields.List:
    return fields.List(Code(), validate=validate.Length(max=50), **kwargs)  # type: ignore[arg-type]


class UserSchema(Schema):
    """A person as the API shows it (never their password)."""

    username = fields.String()
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    roles = fields.List(fields.String())
    groups = fields.List(fields.String(), metadata={"description": "The queues and functions they belong to."})
    client = fields.String(allow_none=True, metadata={"description": "The client's code, for a client user."})
    partner = fields.String(allow_none=True, metadata={"description": "The partner company of an outside L3 engineer."})
    language = fields.String()
    time_zone = fields.String()
    active = fields.Boolean()


class UserCreateSchema(Schema):
    """A new person."""

    username = Code(max_length=80, required=True, validate=USERNAME)
    name = Line(required=True, min_length=1)
    email = Email(required=True)
    phone = Line(max_length=40, load_default="")
    roles = _role_list(required=True)
    groups = _group_list(load_default=list)
    client = Code(max_length=40, allow_none=True, load_default=None)
    partner = Line(allow_none=True, min_length=1, load_default=None)
    language = Choice(LANGUAGES, load_default="ru")
    time_zone = Line(max_length=64, validate=_zone, load_default="Europe/Moscow")
    active = fields.Boolean(load_default=True)


class UserChangeSchema(Schema):
    """The fields of a person to change (the username never changes)."""

    name = Line(min_length=1)
    email = Email()
    phone = Line(max_length=40)
    roles = _role_list()
    groups = _group_list()
    client = Code(max_length=40, allow_none=True)
    partner = Line(allow_none=True, min_length=1)
    language = Choice(LANGUAGES)
    time_zone = Line(max_length=64, validate=_zone)
    active = fields.Boolean()


class UserListArgsSchema(ListArgsSchema):
    """The list's filters: a role, a group, a client, the active flag and `q`."""

    role = Choice(ROLES)
    group = Code()
    client = Code(max_length=40)


UserPageSchema = page_of(UserSchema, "UserPage")
