"""Ruleset routes: versions, publishing, rollback, dry runs and what-ifs (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from service.api.csv_answers import csv_attachment, wants_csv
from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.paging import Page, PageArgs
from service.rulesets import services, whatif
from service.rulesets.schemas import (
    EvaluateSchema,
    EvaluationSchema,
    RulesetSummarySchema,
    RulesetTextSchema,
    RulesetVersionPageSchema,
    RulesetVersionSchema,
    WhatIfQuerySchema,
    WhatIfResultSchema,
    WhatIfSchema,
)

blp = Blueprint("rulesets", __name__, url_prefix="/rulesets", description="Rule files: versions, dry runs, what-ifs.")

YAML_BODY = {
    "required": True,
    "description": "The rule file (UTF-8); any content type is read as the file, `application/yaml` says what it is.",
    "content": {
        "application/yaml": {"schema": {"type": "string"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}
WHAT_IF_CONTENT = {
    "description": "How many past decisions the draft decides differently, and each of them.",
    "content": {
        "application/json": {"schema": WhatIfResultSchema},
        "text/csv": {"schema": {"type": "string", "description": "One row per decision; outcome keys as columns."}},
    },
}


@blp.route("")
class Rulesets(MethodView):
    @blp.response(200, RulesetSummarySchema(many=True))
    def get(self) -> list[Any]:
        """Every ruleset with its active version."""
        return services.list_rulesets(session(), user=user())


@blp.route("/<name>")
class Ruleset(MethodView):
    @blp.response(200, RulesetTextSchema)
    def get(self, name: str) -> Any:
        """The active version and its YAML."""
        return services.active_ruleset(session(), user=user(), name=name)

    @blp.doc(requestBody=YAML_BODY)
    @blp.response(201, RulesetTextSchema)
    @blp.alt_response(200, schema=RulesetTextSchema, description="The same text was published before: active again.")
    def put(self, name: str) -> tuple[Any, int]:
        """Publish the YAML body as the new active version; 422 with `line` and `detail` when it is refused."""
        text = request.get_data(as_text=True)
        published = services.submit_ruleset(session(), user=user(), name=name, text=text)
        return published.version, 201 if published.created else 200


@blp.route("/<name>/versions")
class Versions(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RulesetVersionPageSchema)
    def get(self, args: dict[str, Any], name: str) -> Page[Any]:
        """A page of the published versions, newest first, with author, time and whether it is active."""
        return services.ruleset_versions(session(), user=user(), name=name, **args)


@blp.route("/<name>/versions/<int:version>/activate")
class Activate(MethodView):
    @blp.response(200, RulesetVersionSchema)
    def post(self, name: str, version: int) -> Any:
        """Make this version the active one (a rollback); every process uses it within seconds."""
        return services.activate_version(session(), user=user(), name=name, version=version)


@blp.route("/<name>/evaluate")
class Evaluate(MethodView):
    @blp.arguments(EvaluateSchema)
    @blp.response(200, EvaluationSchema)
    def post(self, body: dict[str, Any], name: str) -> Any:
        """A dry run: decide on `facts` with the active version, or with the draft `yaml`; nothing is recorded."""
        return whatif.evaluate_facts(
            session(), context().rules, user=user(), name=name, facts=body["facts"], text=body.get("yaml")
        )


@blp.route("/<name>/what-if")
class WhatIf(MethodView):
    @blp.arguments(WhatIfQuerySchema, location="query")
    @blp.arguments(WhatIfSchema)
    @blp.response(200, WhatIfResultSchema)
    @blp.doc(responses={"200": WHAT_IF_CONTENT})
    def post(self, query: dict[str, Any], body: dict[str, Any], name: str) -> Any:
        """Run the draft `yaml` on the facts past decisions saw: a page of rows in JSON (the totals on the first
        page), or every row as CSV with `?format=csv`."""
        scope = {key: body.get(key) for key in ("last", "since", "until")}
        if wants_csv(query.get("format")):
            result = whatif.what_if_for(session(), user=user(), name=name, text=body["yaml"], **scope)
            return csv_attachment(whatif.what_if_csv(result), f"{name}-what-if.csv")
        return whatif.what_if_page(
            session(),
            user=user(),
            name=name,
            text=body["yaml"],
            changed_only=query["changed"],
            cursor=query.get("cursor"),
            page_size=query["page_size"],
            **scope,
        )
