"""The OpenAPI document as the contract clients are generated from: errors as the problem+json the server answers,
an operationId on every operation, the standard error answers on every operation, no token on public routes.

It applies to every route registered through the API, including routes added later: the spec plugin sees each
operation as flask-smorest documents it.
"""

from __future__ import annotations

import http
import re
from typing import Any

from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

from service.api.edge import PUBLIC
from service.api.problems import PROBLEM

#: The errors any operation may answer (a public route cannot answer 401 or 403).
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 500)
PUBLIC_ERROR_STATUSES = (400, 404, 500)


class ProblemSchema(Schema):
    """An error, as application/problem+json (RFC 9457)."""

    type = fields.String(required=True, metadata={"description": "Always `about:blank`: the status says it all."})
    title = fields.String(required=True, metadata={"description": "The status's phrase, e.g. `Not found`."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = fields.String(metadata={"description": "What went wrong, for a person."})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "On 422 (and a 400 about the body): field -> messages (nested for nested fields)."},
    )
    element = fields.String(metadata={"description": "The BPMN element where a diagram or the engine failed."})
    file = fields.String(metadata={"description": "The diagram or rule file refused."})
    line = fields.Integer(metadata={"description": "The line of the file refused."})
    problems = fields.List(
        fields.Dict(),
        metadata={
            "description": "On a refused diagram: every problem found, each with `element`, `line`, `detail`, `hint`."
        },
    )


class ContractApi(Api):
    """flask-smorest's Api with errors documented as problem+json and no catch-all `default` answer."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)


class ContractPlugin(BasePlugin):
    """Completes each operation: operationId from the view's name, the error answers, `security: []` if public."""

    def __init__(self) -> None:
        self.operation_ids: set[str] = set()

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if rule is None or operations is None:
            return
        blueprint, _, view = rule.endpoint.rpartition(".")
        public = rule.rule in PUBLIC
        for method, operation in operations.items():
            operation.setdefault("operationId", self._operation_id(method, blueprint, view))
            responses = operation.setdefault("responses", {})
            for status in PUBLIC_ERROR_STATUSES if public else ERROR_STATUSES:
                responses.setdefault(str(status), http.HTTPStatus(status).name)
            if public:
                operation["security"] = []

    def _operation_id(self, method: str, blueprint: str, view: str) -> str:
        name = f"{method}_{_snake(view)}"
        if name in self.operation_ids:
            name = f"{method}_{blueprint}_{_snake(view)}"
        self.operation_ids.add(name)
        return name


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
