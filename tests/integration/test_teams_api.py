"""Product teams over the API: their queues, versions, history, the refusals while work waits in them, and routing
rules that must name an active team."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from service.auth.models import Group
from service.context import Context
from service.db import transaction
from service.rulesets.services import publish_ruleset
from service.teams.models import Team
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api

NEW = {"code": "backup", "name": "Backup team", "classes": ["backup", "tape"], "partners_in_l3": True}
YAML = {"Content-Type": "application/yaml"}
CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}
ROUTING = (ROOT / "rules" / "routing.yaml").read_text()
CRITICAL_TO_BACKUP = """rules:
  - name: critical storage to backup
    priority: 5
    when:
      equipment_class: storage
      severity: critical
    then: {team: backup, level: 2}
"""


def _create(api: Api, **fields: Any) -> Any:
    return api.post("/teams", as_="admin", json={**NEW, **fields})


def _patch(api: Api, code: str, body: dict[str, Any], etag: str | None, *, as_: str = "admin") -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"/teams/{code}", as_=as_, json=body, headers=headers)


def _routing_to(team: str) -> str:
    """The shipped routing rules with a first rule sending critical storage tickets to `team`."""
    text = ROUTING.replace("enum: [storage, servers, network]}", f"enum: [storage, servers, network, {team}]}}")
    return text.replace("rules:\n", CRITICAL_TO_BACKUP.replace("backup", team), 1)


def _put_routing(api: Api, text: str) -> Any:
    return api.call("PUT", "/rulesets/routing", as_="analyst", data=text.encode(), headers=YAML)


def _at_resolve(api: Api, **clarify: Any) -> str:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {**CLARIFY, **clarify}, as_="duty")
    return number


def test_a_team_is_created_with_its_three_queues(api: Api, ctx: Context) -> None:
    created = _create(api)
    assert created.status_code == 201, created.get_json()
    assert created.headers["ETag"]
    read = api.get("/teams/backup", as_="duty")
    assert read.get_json() == {**NEW, "active": True, "groups": ["backup-L1", "backup-L2", "backup-L3"]}
    with transaction(ctx.sessions) as session:
        rows = session.execute(select(Group.name, Group.title).where(Group.name.like("backup-%"))).tuples()
        titles = dict(rows.all())
    assert titles == {f"backup-L{n}": f"Backup team, level {n}" for n in (1, 2, 3)}
    found = api.get("/teams?q=TAPE", as_="manager").get_json()
    assert [team["code"] for team in found["items"]] == ["backup"]
    assert _create(api).status_code == 409


def test_bad_fields_are_refused_naming_the_field(api: Api) -> None:
    assert "code" in _create(api, code="Backup Team").get_json()["errors"]
    assert "classes" in _create(api, classes=["Tape Drives"]).get_json()["errors"]
    assert "name" in _create(api, name="").get_json()["errors"]


def test_only_administrators_change_teams_and_managers_read_them(api: Api) -> None:
    assert api.post("/teams", as_="manager", json=NEW).status_code == 403
    etag = api.get("/teams/storage", as_="manager").headers["ETag"]
    assert _patch(api, "storage", {"name": "X"}, etag, as_="duty").status_code == 403
    assert api.get("/teams", as_="storage.l1").status_code == 403


def test_a_change_needs_the_version_read_and_a_stale_one_is_refused(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "backup", {"name": "B"}, None).status_code == 428
    first = _patch(api, "backup", {"name": "Backup and recovery", "classes": ["backup"]}, etag)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["classes"] == ["backup"]
    assert _patch(api, "backup", {"partners_in_l3": False}, etag).status_code == 412
    history = api.get("/teams/backup/history", as_="manager").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "updated"]
    assert history[1]["before"] == {"name": "Backup team", "classes": "backup tape"}
    assert history[1]["after"] == {"name": "Backup and recovery", "classes": "backup"}


def test_a_team_holding_open_tasks_is_neither_deactivated_nor_deleted(api: Api) -> None:
    _at_resolve(api)  # the resolve task waits in storage-L1
    etag = api.get("/teams/storage", as_="admin").headers["ETag"]
    refused = _patch(api, "storage", {"active": False}, etag)
    assert refused.status_code == 409
    assert refused.get_json()["open_tasks"] == 1 and "1 open task" in refused.get_json()["detail"]
    gone = api.call("DELETE", "/teams/storage", as_="admin", headers={"If-Match": etag})
    assert gone.status_code == 409 and gone.get_json()["open_tasks"] == 1
    assert api.get("/teams/storage", as_="admin").get_json()["active"] is True
    assert (
        _patch(api, "network", {"active": False}, api.get("/teams/network", as_="admin").headers["ETag"]).status_code
        == 200
    )


def test_a_team_is_deleted_with_its_queues_only_when_nothing_refers_to_it(api: Api, ctx: Context) -> None:
    etag = api.get("/teams/servers", as_="admin").headers["ETag"]
    refused = api.call("DELETE", "/teams/servers", as_="admin", headers={"If-Match": etag})
    assert refused.status_code == 409
    assert refused.get_json()["references"] == {"members": 3}
    fresh = _create(api).headers["ETag"]
    assert api.call("DELETE", "/teams/backup", as_="admin", headers={"If-Match": fresh}).status_code == 204
    assert api.get("/teams/backup", as_="admin").status_code == 404
    with transaction(ctx.sessions) as session:
        assert session.scalar(select(Group.id).where(Group.name.like("backup-%"))) is None
    assert api.get("/teams/backup/history", as_="admin").get_json()["items"][-1]["action"] == "deleted"


def test_routing_rules_naming_a_team_that_does_not_exist_are_refused_with_the_line(api: Api) -> None:
    text = _routing_to("backup")
    refused = _put_routing(api, text)
    assert refused.status_code == 422
    problem = refused.get_json()
    assert "'backup'" in problem["detail"] and "not an active team" in problem["detail"]
    assert text.splitlines()[problem["line"] - 1].strip().startswith("team:")  # the outcome's enum lists it first
    only_the_rule = text.replace("enum: [storage, servers, network, backup]}", "enum: [storage, servers, network]}")
    only_the_rule = only_the_rule.replace("  team: {type: string, enum: [storage, servers, network]}", "  team: string")
    refused = _put_routing(api, only_the_rule)
    assert refused.status_code == 422
    assert only_the_rule.splitlines()[refused.get_json()["line"] - 1] == "  - name: critical storage to backup"
    assert "critical storage to backup" in refused.get_json()["detail"]


def test_a_deactivated_team_cannot_be_routed_to(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "backup", {"active": False}, etag).status_code == 200
    assert _put_routing(api, _routing_to("backup")).status_code == 422


def test_a_new_team_receives_tickets_once_a_rule_naming_it_is_published(api: Api) -> None:
    assert _create(api).status_code == 201
    engineer = {"username": "backup.l2", "name": "Backup engineer", "email": "b2@orchestrator.example"}
    made = api.post("/users", as_="admin", json={**engineer, "roles": ["engineer"], "groups": ["backup-L2"]})
    assert made.status_code == 201, made.get_json()
    published = _put_routing(api, _routing_to("backup"))
    assert published.status_code in (200, 201), published.get_json()
    number = _at_resolve(api, severity="critical")
    ticket = api.ticket(number)
    assert (ticket["team"], ticket["level"]) == ("backup", 2)
    task = api.task(number, "resolve", as_="backup.l2")
    assert task["candidate_groups"] == ["backup-L2"]
    assert api.get(f"/tickets/{number}", as_="storage.l1").status_code == 404
    api.complete(number, "resolve", {"outcome": "solved", "hours": 1, "notes": "restored"}, as_="backup.l2")
    assert api.ticket(number)["status"] == "closed"


def test_a_fresh_install_without_teams_takes_the_shipped_rules(ctx: Context) -> None:
    with transaction(ctx.sessions) as session:
        session.execute(delete(Team))
    with transaction(ctx.sessions) as session:
        published = publish_ruleset(session, text=_routing_to("backup"), filename="routing.yaml", author="tests")
    assert published.created
    with transaction(ctx.sessions) as session:
        session.add(Team(code="storage", name="Storage team"))
    with transaction(ctx.sessions) as session:
        try:
            publish_ruleset(session, text=_routing_to("tape"), filename="routing.yaml", author="tests")
        except Exception as error:  # noqa: BLE001 - the refusal is the point
            assert "tape" in str(error) or "servers" in str(error)
        else:
            raise AssertionError("once a team exists, the rules are checked")
