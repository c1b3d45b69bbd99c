"""Schemathesis over every operation of the OpenAPI document, as an administrator and as a client user: no answer is
a server error, and every answer keeps to the document (status documented, content type, body schema, headers).

Bounded and deterministic: a few derandomised examples per operation, so the run is the same every time.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.observability.heartbeat import Heartbeat
from tests.integration.conftest import Api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
#: Per operation and mode (data that fits the document, and data that does not).
EXAMPLES_PER_OPERATION = 15


def _fuzz(operation: Any, token: str, mode: GenerationMode) -> str | None:
    """The first failure of one operation, or None."""

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        return None  # an operation that takes no input has no data that breaks its schema
    except (Exception, FailureGroup) as error:  # noqa: BLE001 - every failure is reported with its operation
        return f"{operation.label} ({mode.value}): {error}"
    return None


@pytest.mark.fuzz
@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="the last schemathesis for Python 3.10 (4.30) fails itself on raw bodies; CI fuzzes on Python 3.11",
)
@pytest.mark.parametrize("role", ["admin", "nordbank"])
def test_every_operation_keeps_to_the_contract(app: Flask, api: Api, role: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    token = api.token(role)
    # A worker is alive, as in production: readiness then answers 200 (its 503 is test_readiness.py's). It beats
    # before each operation, so a slow run does not outlive the heartbeat's freshness.
    heartbeat = Heartbeat(api.ctx.sessions, worker="fuzz:1", every_seconds=0)
    failures = []
    for operation in operations:
        heartbeat.beat()
        failures += [failure for mode in GenerationMode if (failure := _fuzz(operation, token, mode))]
    assert not failures, "\n\n".join(failures)
