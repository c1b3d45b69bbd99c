"""Odd input an API fuzzer found (huge ids, far-off dates, control characters) gets a 4xx, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.integration.conftest import Api


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/incidents/10000000000000000000/retry", None, 404),
        ("POST", "/sla/reviews/8503410331625674768384/claim", None, 404),
        ("GET", "/sla/calendars/24x7/years/1", None, 404),
        ("GET", "/reports/utilisation?from=2026-01-01&to=7877-10-15", None, 422),
        ("POST", "/rulesets/entitlement/evaluate", {"facts": {}, "yaml": "\u00a0\u000f"}, 422),
    ],
)
def test_odd_input_is_refused_cleanly(api: Api, method: str, path: str, body: dict | None, status: int) -> None:
    response = api.call(method, path, as_="admin", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_a_control_character_in_a_rule_file_names_its_line(api: Api) -> None:
    response = api.call(
        "POST", "/rulesets/routing/evaluate", as_="admin", json={"facts": {}, "yaml": "a: 1\nb: \u000f"}
    )
    assert response.status_code == 422
    assert response.get_json()["line"] == 2


def test_a_far_off_time_range_is_an_empty_what_if(api: Api) -> None:
    draft = (ROOT / "rules" / "entitlement.yaml").read_text()
    body = {"yaml": draft, "until": "0286-03-09T03:53:25.063-21:08"}
    response = api.call("POST", "/rulesets/entitlement/what-if", as_="admin", json=body)
    assert response.status_code == 200
    assert (response.get_json()["total"], response.get_json()["changed"]) == (0, 0)
    broken = api.call("POST", "/rulesets/entitlement/what-if", as_="admin", json={"yaml": "/e\u00b8\u000f", "last": 5})
    assert broken.status_code == 422 and broken.get_json()["line"] == 1
