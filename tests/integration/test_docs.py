"""The payloads the README and the guides show are the ones the API accepts."""

from __future__ import annotations

import json
import re

from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api


def _json_after(text: str, marker: str) -> dict:
    """The JSON object that follows `marker` in a document (it may span lines)."""
    start = text.index("{", text.index(marker))
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return json.loads(text[start : end + 1])
    raise AssertionError(f"no JSON after {marker!r}")


def test_the_readme_curl_opens_a_ticket(api: Api) -> None:
    body = _json_after((ROOT / "README.md").read_text(), "-d '")
    response = api.post("/tickets", as_="duty", json=body)
    assert response.status_code == 201, response.get_json()


def test_the_api_guide_message_example_fits(api: Api) -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    example = _json_after(text, '`{"name": "parts_delivered"')
    assert set(example) == {"name", "ticket", "data"}
    statuses = re.search(r"Statuses: (.*?)\.\n", text, re.S)
    assert statuses is not None
    documented = set(re.findall(r"`(\w+)`", statuses.group(1)))
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert api.ticket(number)["status"] in documented
    from service.processes.projection import STATUS_BY_MESSAGE, TASK_STATUSES

    assert set(TASK_STATUSES) | set(STATUS_BY_MESSAGE.values()) <= documented


def test_the_administrators_guide_examples_fit(api: Api) -> None:
    text = (ROOT / "docs" / "administrators.md").read_text()
    bodies = [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", text, re.S)]
    client, site, change, person = bodies
    assert api.post("/clients", as_="admin", json=client).status_code == 201
    created = api.post(f"/clients/{client['code']}/sites", as_="admin", json=site)
    assert created.status_code == 201, created.get_json()
    etag = api.get(f"/clients/{client['code']}", as_="admin").headers["ETag"]
    changed = api.call("PATCH", f"/clients/{client['code']}", as_="admin", json=change, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    team = _json_after(text, '`{"code": "power"')
    assert api.post("/teams", as_="admin", json=team).status_code == 201
    created = api.post("/users", as_="admin", json=person)
    assert created.status_code == 201, created.get_json()
    invited = api.post("/auth/invitations", as_="admin", json=_json_after(text, '`{"username": "power.l1"}`'))
    assert invited.status_code == 202, invited.get_json()
    token = api.post("/auth/tokens", as_="admin", json=_json_after(text, '`{"name": "mail intake"'))
    assert token.status_code == 201, token.get_json()
