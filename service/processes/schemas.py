"""The contract of process, message and incident routes."""

from __future__ import annotations

from marshmallow import Schema, fields


class MessageSchema(Schema):
    """A message for the instance of a ticket."""

    name = fields.String(required=True)
    ticket = fields.String(required=True)
    data = fields.Dict(keys=fields.String(), load_default=dict)


class MessageResultSchema(Schema):
    """Where the message went."""

    ticket = fields.String()
    status = fields.String()


class DefinitionSchema(Schema):
    """A deployed version of a diagram."""

    key = fields.String()
    version = fields.Integer()
    hash = fields.String(attribute="content_hash")
    name = fields.String()
    filename = fields.String()
    deployed_at = fields.DateTime()
    deployed_by = fields.String()


class IncidentSchema(Schema):
    """A job that failed every attempt."""

    id = fields.Integer()
    ticket = fields.Function(lambda job: job.ticket_number)
    topic = fields.String()
    element_id = fields.String()
    attempts = fields.Integer()
    last_error = fields.String()
    status = fields.String()
    updated_at = fields.DateTime()
