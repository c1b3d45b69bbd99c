"""The product teams' contract."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from service.directory.schemas import page_of
from service.fields import Code, Line

#: A team code as rules, routes and group names (`<code>-L1`) carry it.
CODE = validate.Regexp(r"^[a-z][a-z0-9_-]*$", error="lower-case letters, digits, '_' and '-', from a letter")
#: An equipment class as equipment records carry it.
CLASS = validate.Regexp(r"^[a-z0-9][a-z0-9_-]*$", error="lower-case letters, digits, '_' and '-'")


def _classes(team: Any) -> list[str]:
    return team.classes.split()


def _groups(team: Any) -> list[str]:
    return list(team.group_names())


class TeamSchema(Schema):
    """A team as the API shows it."""

    code = fields.String()
    name = fields.String()
    classes = fields.Function(_classes, metadata={"description": "The equipment classes the team serves."})
    partners_in_l3 = fields.Boolean(metadata={"description": "L3 includes engineers of outside partners."})
    active = fields.Boolean()
    groups = fields.Function(_groups, metadata={"description": "The team's queues, L1 first."})


class TeamCreateSchema(Schema):
    """A new team; its groups `<code>-L1`..`<code>-L3` are created with it."""

    code = Code(max_length=30, required=True, validate=CODE)
    name = Line(required=True, min_length=1)
    classes = fields.List(Code(max_length=40, validate=CLASS), validate=validate.Length(max=10), load_default=list)
    partners_in_l3 = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)


class TeamChangeSchema(Schema):
    """The fields of a team to change (the code never changes)."""

    name = Line(min_length=1)
    classes = fields.List(Code(max_length=40, validate=CLASS), validate=validate.Length(max=10))
    partners_in_l3 = fields.Boolean()
    active = fields.Boolean()


TeamPageSchema = page_of(TeamSchema, "TeamPage")
