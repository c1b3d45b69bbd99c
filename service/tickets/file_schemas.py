"""Schemas of a ticket's files: the list, an upload's form and what it stored."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields


class TicketFileSchema(Schema):
    """One file of the ticket's folder."""

    name = fields.String(metadata={"description": "The file's name in the folder (also its download address)."})
    size = fields.Integer(metadata={"description": "Bytes."})
    uploaded_at = fields.DateTime(metadata={"description": "When it was stored."})


class StoredFileSchema(TicketFileSchema):
    """A file an upload stored, with the content type read from its content."""

    content_type = fields.String()


class FileUploadSchema(Schema):
    """One or more files, each a multipart part named `files` (its file name is the name asked for)."""

    files = fields.List(Upload(), required=True, metadata={"description": "The files; a taken name gets `-2`..."})
