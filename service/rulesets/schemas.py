"""The contract of the ruleset routes: versions, dry runs and what-ifs."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.fields import Code, Document, Int
from service.paging import NEXT, PageArgs, page_of

#: The longest rule file a draft may be (the shipped ones are a few kilobytes).
RULE_FILE_MAX = 200_000


class RulesetVersionSchema(Schema):
    """A published version of a rule file."""

    name = fields.String()
    version = fields.Integer()
    hash = fields.String(attribute="content_hash")
    author = fields.String()
    created_at = fields.DateTime()
    active = fields.Boolean(metadata={"description": "The version every decision uses now."})


RulesetVersionPageSchema = page_of(RulesetVersionSchema, "RulesetVersionPage")


class RulesetSummarySchema(RulesetVersionSchema):
    """A ruleset: its active version, and how many versions it has."""

    versions = fields.Integer()


class RulesetTextSchema(RulesetVersionSchema):
    """A version with its YAML."""

    yaml = fields.String(attribute="text")


class EvaluateSchema(Schema):
    """Facts to decide on, with the active version or with a draft."""

    facts = fields.Dict(keys=Code(), required=True)
    yaml = Document(
        max_length=RULE_FILE_MAX,
        metadata={"description": "A draft rule file for this ruleset; the active version if absent."},
    )


class EvaluationSchema(Schema):
    """The outcome, the rule that fired and the version that decided."""

    ruleset = fields.String()
    outcome = fields.Dict()
    rule = fields.String()
    version = fields.String(allow_none=True, metadata={"description": "The published version; null for a draft."})
    hash = fields.String(metadata={"description": "The first 12 hex digits of the text's SHA-256."})
    draft = fields.Boolean()


class WhatIfSchema(Schema):
    """A draft, and the past decisions to run it on: the last N tickets and/or a time range."""

    yaml = Document(required=True, max_length=RULE_FILE_MAX)
    last = Int(minimum=1, maximum=100_000, metadata={"description": "The last N tickets."})
    since = fields.DateTime(metadata={"description": "Decisions taken at or after this (UTC unless it says)."})
    until = fields.DateTime(metadata={"description": "Decisions taken before this."})

    @validates_schema
    def _some_tickets(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not {"last", "since", "until"} & set(data):
            raise ValidationError("give `last` (a number of tickets), or `since` and/or `until`", field_name="last")


class WhatIfQuerySchema(PageArgs):
    """The answer's format (an `Accept: text/csv` header also asks for CSV: every row at once), and for JSON the
    page of rows: `cursor`, `page_size`, and `changed=true` for the changed rows only."""

    format = fields.String(validate=validate.OneOf(("json", "csv")))
    changed = fields.Boolean(
        load_default=False, metadata={"description": "Only the rows the draft decides differently."}
    )


class WhatIfRowSchema(Schema):
    """One past decision and the draft's decision on the same facts."""

    ticket = fields.String()
    decided_at = fields.DateTime()
    element_id = fields.String()
    old_version = fields.String()
    old_rule = fields.String()
    old_outcome = fields.Dict()
    new_rule = fields.String(allow_none=True)
    new_outcome = fields.Dict(allow_none=True)
    changed = fields.Boolean()
    error = fields.String(allow_none=True, metadata={"description": "Why the draft could not decide (its facts)."})


class WhatIfResultSchema(Schema):
    """How many past decisions the draft would change, and each of them."""

    ruleset = fields.String()
    hash = fields.String()
    version = fields.String(allow_none=True, metadata={"description": "Set when the draft is a published version."})
    total = fields.Integer(allow_none=True, metadata={"description": "Decisions read; on the first page only."})
    changed = fields.Integer(
        allow_none=True, metadata={"description": "How many the draft decides differently; on the first page only."}
    )
    rows = fields.List(fields.Nested(WhatIfRowSchema))
    next = NEXT
