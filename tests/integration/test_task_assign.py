"""`POST /tasks/{id}/assign`: a duty officer or a manager gives an open task to a person of its team or moves it to
another level queue of the team; a person or a queue outside the team is refused, and so is anyone else."""

from __future__ import annotations

from service.worker import drain
from tests.integration.conftest import Api

CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}


def _at_resolve(api: Api) -> tuple[str, str]:
    """A NORD-BANK ticket held by the storage team, its task in the storage-L1 queue."""
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    return number, api.task(number, "resolve", as_="storage.l1")["id"]


def _queue(api: Api, username: str) -> set[str]:
    return {item["id"] for item in api.get("/tasks?page_size=500", as_=username).get_json()["items"]}


def test_a_duty_officer_moves_a_task_to_the_teams_next_level(api: Api) -> None:
    number, task = _at_resolve(api)
    assert api.post(f"/tasks/{task}/claim", as_="storage.l1").status_code == 200
    moved = api.post(f"/tasks/{task}/assign", as_="duty", json={"group": "storage-L2"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["candidate_groups"] == ["storage-L2"]
    assert moved.get_json()["claimed_by"] is None
    assert task in _queue(api, "storage.l2") and task not in _queue(api, "storage.l1")
    event = [e for e in api.history(number) if e["kind"] == "task_reassigned"][-1]
    assert event["actor"] == "duty" and event["detail"]["group"] == "storage-L2"
    assert event["detail"]["before"] == {"groups": ["storage-L1"], "assignee": None, "claimed_by": "storage.l1"}
    done = api.post(f"/tasks/{task}/complete", as_="storage.l2", json={"data": {"outcome": "solved"}})
    assert done.status_code == 200, done.get_json()


def test_a_manager_gives_a_task_to_a_person_of_the_team(api: Api) -> None:
    _number, task = _at_resolve(api)
    given = api.post(f"/tasks/{task}/assign", as_="manager", json={"user": "storage.l3"})
    assert given.status_code == 200, given.get_json()
    assert given.get_json()["assignee"] == "storage.l3" and given.get_json()["claimed_by"] == "storage.l3"
    assert task in _queue(api, "storage.l3")
    taken = api.post(f"/tasks/{task}/claim", as_="storage.l1")
    assert taken.status_code == 409


def test_a_queue_or_a_person_outside_the_team_is_refused(api: Api) -> None:
    _number, task = _at_resolve(api)
    for body, field in (
        ({"group": "servers-L2"}, "group"),
        ({"group": "storage-L9"}, "group"),
        ({"user": "servers.l1"}, "user"),
        ({"user": "nobody"}, "user"),
    ):
        refused = api.post(f"/tasks/{task}/assign", as_="duty", json=body)
        assert refused.status_code == 422, (body, refused.get_json())
        assert field in refused.get_json()["errors"], refused.get_json()
    assert api.post(f"/tasks/{task}/assign", as_="duty", json={}).status_code == 422
    both = api.post(f"/tasks/{task}/assign", as_="duty", json={"user": "storage.l2", "group": "storage-L2"})
    assert both.status_code == 422
    assert task in _queue(api, "storage.l1")


def test_only_duty_officers_and_managers_reassign_and_only_open_tasks(api: Api) -> None:
    number, task = _at_resolve(api)
    assert api.post(f"/tasks/{task}/assign", as_="storage.l1", json={"group": "storage-L2"}).status_code == 403
    assert api.post("/tasks/no-such-task/assign", as_="duty", json={"group": "storage-L2"}).status_code == 404
    api.complete(number, "resolve", {"outcome": "solved"}, as_="storage.l1")
    ended = api.post(f"/tasks/{task}/assign", as_="duty", json={"group": "storage-L2"})
    assert ended.status_code == 409
