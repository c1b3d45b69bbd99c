"""The contract of imports and exports: the query of an upload, the report of what the rows came to."""

from __future__ import annotations

from marshmallow import Schema, fields

from service.fields import Choice, Line
from service.imports.services import Mode, Outcome


class ImportArgsSchema(Schema):
    """How to run an import."""

    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Check every row and report, writing nothing."}
    )
    mode = Choice(
        tuple(mode.value for mode in Mode),
        load_default=Mode.ALL_OR_NOTHING.value,
        metadata={
            "description": "`all_or_nothing` (default): one refused row and nothing is written (422). "
            "`valid_rows`: the valid rows are written, the refused ones reported (200)."
        },
    )
    filename = Line(
        load_default="upload",
        metadata={"description": "The file's name in the history of each record (a multipart `file` brings its own)."},
    )


class RefusalSchema(Schema):
    """Why a row was refused."""

    row = fields.Integer(metadata={"description": "The row number as the spreadsheet shows it (the header is 1)."})
    key = fields.String(allow_none=True, metadata={"description": "The row's key (code, serial...), if it has one."})
    column = fields.String(allow_none=True, metadata={"description": "The column refused; null: the whole row."})
    reason = fields.String()


class CountsSchema(Schema):
    """Rows per outcome."""

    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    refused = fields.Integer()


class ImportReportSchema(Schema):
    """What an import did with each row (or, in a dry run, would do)."""

    kind = fields.String()
    file = fields.String()
    dry_run = fields.Boolean()
    mode = fields.String(metadata={"enum": [mode.value for mode in Mode]})
    applied = fields.Boolean(metadata={"description": "True when the rows were written."})
    rows = fields.Integer(metadata={"description": "Rows read (empty rows are skipped)."})
    counts = fields.Nested(CountsSchema)
    refusals = fields.List(fields.Nested(RefusalSchema))


OUTCOMES = tuple(outcome.value for outcome in Outcome)
