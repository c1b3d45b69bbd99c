"""Rule files through the API: versions, publishing, refusals, rollback, dry runs, what-ifs and the export."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from service.cli import main
from service.context import Context
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.rules import rule_text, storage_hardware_remote

YAML = {"Content-Type": "application/yaml"}
STORAGE_HARDWARE = {"equipment_class": "storage", "category": "hardware", "severity": "high"}


def put(api: Api, text: str, *, name: str = "routing", as_: str = "analyst") -> Any:
    return api.call("PUT", f"/rulesets/{name}", as_=as_, data=text.encode(), headers=YAML)


def routed(api: Api, **fields: Any) -> str:
    """A ticket taken through clarify, so that entitlement and routing decided it."""
    number = api.open_ticket(**fields)["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "fault"}, as_="duty")
    return number


def routing_decision(api: Api, number: str) -> dict[str, Any]:
    [decision] = [d for d in api.ticket(number)["decisions"] if d["ruleset"] == "routing"]
    return decision


def test_read_the_rulesets_and_their_active_yaml(api: Api) -> None:
    listed = api.get("/rulesets", as_="analyst").get_json()
    assert [(r["name"], r["version"], r["active"], r["versions"]) for r in listed] == [
        ("entitlement", 1, True, 1),
        ("escalation", 1, True, 1),
        ("routing", 1, True, 1),
    ]
    routing = api.get("/rulesets/routing", as_="analyst").get_json()
    assert (routing["version"], routing["yaml"], routing["author"]) == (1, rule_text("routing"), "tests")
    assert api.get("/rulesets/routing", as_="owner").status_code == 200
    assert api.get("/rulesets/nope", as_="analyst").status_code == 404
    assert api.get("/rulesets", as_="storage.l1").status_code == 403


def test_publish_a_version_that_every_new_decision_uses_and_roll_it_back(api: Api) -> None:
    before = routed(api)
    created = put(api, storage_hardware_remote())
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["version"], created.get_json()["active"]) == (2, True)
    assert put(api, storage_hardware_remote()).status_code == 200  # the same text: the same version

    after = routed(api)
    assert (api.ticket(after)["level"], routing_decision(api, after)["version"]) == (2, "2")
    assert routing_decision(api, after)["rule"] == "storage hardware remote"
    assert (api.ticket(before)["level"], routing_decision(api, before)["version"]) == (1, "1")

    versions = api.get("/rulesets/routing/versions", as_="analyst").get_json()["items"]
    assert [(v["version"], v["active"], v["author"]) for v in versions] == [(2, True, "analyst"), (1, False, "tests")]
    assert all(v["created_at"] and len(v["hash"]) == 64 for v in versions)

    rolled = api.post("/rulesets/routing/versions/1/activate", as_="analyst")
    assert rolled.status_code == 200 and rolled.get_json()["active"] is True
    assert api.get("/rulesets/routing", as_="analyst").get_json()["version"] == 1
    assert routing_decision(api, routed(api))["version"] == "1"
    assert api.post("/rulesets/routing/versions/7/activate", as_="analyst").status_code == 404
    assert api.post("/rulesets/routing/versions/2/activate", as_="owner").status_code == 403


BASE = rule_text("routing")
REFUSED = {
    "not YAML": (BASE.replace("rules:\n", "rules: [\n", 1), "not valid YAML"),
    "unknown key": (BASE.replace("    priority: 20\n", "    prority: 20\n", 1), "unknown key 'prority'"),
    "wrong type": (
        BASE.replace("then: {team: storage, level: 1}", "then: {team: storage, level: two}", 1),
        "expected a whole number",
    ),
    "unknown operator": (
        BASE.replace("      category: hardware\n", "      category: {like: hardware}\n", 1),
        "unknown operator 'like'",
    ),
    "unreachable rule": (
        BASE.replace("  - name: storage remote\n    priority: 20", "  - name: storage remote\n    priority: 5", 1),
        "can never fire",
    ),
    "no default": (BASE[: BASE.index("default:")], "no 'default'"),
    "another ruleset's name": (BASE.replace("ruleset: routing", "ruleset: triage", 1), "ruleset 'triage'"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_version_says_line_and_reason_and_the_active_one_stays(api: Api, case: str) -> None:
    text, words = REFUSED[case]
    assert text != BASE
    response = put(api, text)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert words in problem["detail"], problem
    assert isinstance(problem["line"], int) and problem["line"] >= 1 and problem["file"] == "routing.yaml"
    if case == "another ruleset's name":
        assert text.splitlines()[problem["line"] - 1] == "ruleset: triage"
    assert [v["version"] for v in api.get("/rulesets/routing/versions", as_="analyst").get_json()["items"]] == [1]


def test_publishing_needs_the_analyst_role(api: Api) -> None:
    assert put(api, storage_hardware_remote(), as_="owner").status_code == 403
    assert put(api, storage_hardware_remote(), as_="admin").status_code == 201


def test_dry_run_with_the_active_version_or_a_draft(api: Api) -> None:
    active = api.post("/rulesets/routing/evaluate", as_="analyst", json={"facts": STORAGE_HARDWARE}).get_json()
    assert active == {
        "ruleset": "routing",
        "outcome": {"team": "storage", "level": 1},
        "rule": "storage hardware on site",
        "version": "1",
        "hash": active["hash"],
        "draft": False,
    }
    body = {"facts": STORAGE_HARDWARE, "yaml": storage_hardware_remote()}
    draft = api.post("/rulesets/routing/evaluate", as_="analyst", json=body).get_json()
    assert (draft["outcome"], draft["rule"], draft["version"], draft["draft"]) == (
        {"team": "storage", "level": 2},
        "storage hardware remote",
        None,
        True,
    )
    put(api, storage_hardware_remote())
    assert api.post("/rulesets/routing/evaluate", as_="analyst", json=body).get_json()["version"] == "2"

    wrong = api.post("/rulesets/routing/evaluate", as_="analyst", json={"facts": {"severity": "urgent", "level": 2}})
    assert wrong.status_code == 422 and list(wrong.get_json()["errors"]) == ["severity"]
    bad_draft = api.post(
        "/rulesets/routing/evaluate", as_="analyst", json={"facts": {}, "yaml": REFUSED["no default"][0]}
    )
    assert bad_draft.status_code == 422 and bad_draft.get_json()["line"] == 1
    assert api.post("/rulesets/routing/evaluate", as_="analyst", json={}).status_code == 422
    assert api.post("/rulesets/nope/evaluate", as_="analyst", json={"facts": {}}).status_code == 404
    assert api.post("/rulesets/routing/evaluate", as_="duty", json={"facts": {}}).status_code == 403


def _what_if(api: Api, **body: Any) -> Any:
    response = api.post("/rulesets/routing/what-if", as_="analyst", json={"yaml": storage_hardware_remote(), **body})
    assert response.status_code == 200, response.get_json()
    return response


def test_what_if_over_the_last_tickets_and_a_time_range(api: Api) -> None:
    first = routed(api)
    second = routed(api, equipment_serial="DELL-R750-0001")
    time.sleep(0.01)
    middle = datetime.now(timezone.utc)
    third = routed(api, category="software")
    fourth = routed(api)

    result = _what_if(api, last=10).get_json()
    assert (result["total"], result["changed"], result["version"]) == (4, 2, None)
    rows = {row["ticket"]: row for row in result["rows"]}
    assert [row["ticket"] for row in result["rows"]] == [first, second, third, fourth]
    assert rows[first] | {"decided_at": None} == {
        "ticket": first,
        "decided_at": None,
        "element_id": "routing",
        "old_version": "1",
        "old_rule": "storage hardware on site",
        "old_outcome": {"team": "storage", "level": 1},
        "new_rule": "storage hardware remote",
        "new_outcome": {"team": "storage", "level": 2},
        "changed": True,
        "error": None,
    }
    assert not rows[second]["changed"] and rows[second]["new_rule"] == "servers hardware on site"
    assert not rows[third]["changed"] and rows[fourth]["changed"]

    assert [r["ticket"] for r in _what_if(api, last=2).get_json()["rows"]] == [third, fourth]
    assert [r["ticket"] for r in _what_if(api, since=middle.isoformat()).get_json()["rows"]] == [third, fourth]
    until = _what_if(api, until=middle.isoformat(), last=1).get_json()
    assert [r["ticket"] for r in until["rows"]] == [second]
    assert api.post("/rulesets/routing/what-if", as_="analyst", json={"yaml": BASE}).status_code == 422
    assert api.post("/rulesets/routing/what-if", as_="owner", json={"yaml": BASE, "last": 1}).status_code == 403
    refused = api.post("/rulesets/routing/what-if", as_="analyst", json={"yaml": REFUSED["wrong type"][0], "last": 1})
    assert refused.status_code == 422 and refused.get_json()["line"] == 31


def _pages(api: Api, query: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a what-if, walked by its cursors."""
    pages = [api.post(f"/rulesets/routing/what-if?{query}", as_="analyst", json=body).get_json()]
    while pages[-1]["next"] is not None:
        cursor = pages[-1]["next"]
        pages.append(
            api.post(f"/rulesets/routing/what-if?{query}&cursor={cursor}", as_="analyst", json=body).get_json()
        )
    return pages


def test_what_if_rows_come_a_page_at_a_time_from_the_decisions_of_the_first(api: Api) -> None:
    first, second = routed(api), routed(api, equipment_serial="DELL-R750-0001")
    body = {"yaml": storage_hardware_remote(), "last": 10}
    opened = api.post("/rulesets/routing/what-if?page_size=1", as_="analyst", json=body).get_json()
    assert (opened["total"], opened["changed"], [r["ticket"] for r in opened["rows"]]) == (2, 1, [first])
    later = routed(api)  # decided after the first page: not part of this what-if
    rest = api.post(f"/rulesets/routing/what-if?page_size=1&cursor={opened['next']}", as_="analyst", json=body)
    assert rest.status_code == 200, rest.get_json()
    assert [r["ticket"] for r in rest.get_json()["rows"]] == [second]
    assert rest.get_json()["next"] is None and rest.get_json()["total"] is None

    walked = _pages(api, "page_size=1", body)
    assert [r["ticket"] for page in walked for r in page["rows"]] == [first, second, later]
    assert [page["total"] for page in walked] == [3, None, None]
    changed = _pages(api, "page_size=1&changed=true", body)
    assert [r["ticket"] for page in changed for r in page["rows"]] == [first, later]

    other = {**body, "yaml": storage_hardware_remote().replace("storage hardware remote", "remote storage")}
    refused = api.post(f"/rulesets/routing/what-if?cursor={opened['next']}", as_="analyst", json=other)
    assert refused.status_code == 422 and "cursor" in refused.get_json()["errors"]
    by_offset = api.post("/rulesets/routing/what-if?offset=1", as_="analyst", json=body)
    assert by_offset.status_code == 422 and "offset" in by_offset.get_json()["errors"]


def test_what_if_as_csv_and_with_facts_the_draft_refuses(api: Api) -> None:
    first = routed(api)
    low = routed(api, severity="low")
    narrower = storage_hardware_remote().replace("enum: [critical, high, normal, low]", "enum: [critical, high]")
    body = {"yaml": narrower, "last": 5}
    result = api.post("/rulesets/routing/what-if", as_="analyst", json=body).get_json()
    rows = {row["ticket"]: row for row in result["rows"]}
    assert rows[low]["changed"] and rows[low]["new_outcome"] is None and "severity" in rows[low]["error"]

    as_csv = api.post("/rulesets/routing/what-if?format=csv", as_="analyst", json=body)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert list(table[0]) == [
        "ticket",
        "decided_at",
        "element_id",
        "old_version",
        "old_rule",
        "old_team",
        "old_level",
        "new_rule",
        "new_team",
        "new_level",
        "changed",
        "error",
    ]
    assert [(r["ticket"], r["old_level"], r["new_level"], r["changed"]) for r in table] == [
        (first, "1", "2", "true"),
        (low, "1", "", "true"),
    ]
    accepted = api.post("/rulesets/routing/what-if", as_="analyst", json=body, headers={"Accept": "text/csv"})
    assert accepted.mimetype == "text/csv" and accepted.data == as_csv.data


def test_the_cli_exports_the_active_versions_and_runs_a_what_if(
    api: Api, ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    put(api, storage_hardware_remote())
    routed(api)
    monkeypatch.setenv("DATABASE_URL", ctx.config.database_url)
    assert main(["rules", "export", "--dir", str(tmp_path / "rules")]) == 0
    exported = {path.name: path.read_text(encoding="utf-8") for path in (tmp_path / "rules").iterdir()}
    assert exported == {
        "entitlement.yaml": rule_text("entitlement"),
        "escalation.yaml": rule_text("escalation"),
        "routing.yaml": storage_hardware_remote(),
    }
    assert "routing version 2 by analyst" in capsys.readouterr().out

    draft = tmp_path / "draft.yaml"
    draft.write_text(rule_text("routing"), encoding="utf-8")
    out = tmp_path / "rows.csv"
    assert main(["rules", "what-if", "routing", str(draft), "--csv", str(out)]) == 0
    printed = capsys.readouterr()
    assert "routing: 1 of 1 decisions would be decided differently" in printed.out
    assert "what-if: 1/1 decisions" in printed.err
    assert out.read_text().count("\n") == 2


def test_the_dry_run_shown_in_the_analysts_guide_is_the_real_answer(api: Api) -> None:
    text = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.S) if "..." not in block]
    [request] = [block for block in blocks if "facts" in block]
    [answer] = [block for block in blocks if "outcome" in block]
    assert api.post("/rulesets/routing/evaluate", as_="analyst", json=request).get_json() == answer
    what_if = re.search(r'```json\n(\{"yaml": .*?)```', text, flags=re.S)
    assert what_if is not None
    body = json.loads(what_if.group(1).replace("ruleset: routing\\n...", json.dumps(rule_text("routing"))[1:-1]))
    assert api.post("/rulesets/routing/what-if", as_="analyst", json=body).status_code == 200
