"""Camunda's instance modification body: a list of cancel / startBeforeActivity / startAfterActivity instructions,
applied in one step and recorded once; a bad instruction is refused by its index, and nothing moves."""

from __future__ import annotations

from typing import Any

from service.worker import drain
from tests.integration.conftest import Api


def _move(api: Api, number: str, **body: Any) -> Any:
    return api.post(f"/tickets/{number}/modification", as_="owner", json=body)


def _moves(api: Api, number: str) -> list[dict[str, Any]]:
    return [event for event in api.history(number) if event["kind"] == "instance_modified"]


def _at_clarify(api: Api) -> str:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert api.ticket(number)["open_tasks"][0]["name"] == "clarify"
    return number


def test_instructions_move_the_token_in_one_step_recorded_once_with_the_annotation(api: Api) -> None:
    number = api.open_ticket()["number"]  # the token waits at create_folder
    steps = [
        {"type": "cancel", "activityId": "create_folder"},
        {"type": "startBeforeActivity", "activityId": "clarify"},
    ]
    moved = _move(api, number, instructions=steps, annotation="the folder service is down")
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["before"], moved.get_json()["after"]) == (["create_folder"], ["clarify"])
    [event] = _moves(api, number)
    assert event["detail"]["instructions"] == steps and event["detail"]["cancel"] == ["create_folder"]
    assert event["detail"]["annotation"] == "the folder service is down"
    assert api.task(number, "clarify", as_="duty")["name"] == "clarify"


def test_start_after_an_activity_starts_before_the_element_its_one_flow_leads_to(api: Api) -> None:
    after, before = _at_clarify(api), _at_clarify(api)
    steps = [{"type": "cancel", "activityId": "clarify"}, {"type": "startAfterActivity", "activityId": "clarify"}]
    by_instructions = _move(api, after, instructions=steps)
    assert by_instructions.status_code == 200, by_instructions.get_json()
    by_move = _move(api, before, cancel=["clarify"], start_before="entitlement")  # clarify's one flow leads there
    assert by_instructions.get_json()["after"] == by_move.get_json()["after"]
    assert "clarify" not in by_instructions.get_json()["after"]


def test_a_bad_instruction_is_refused_by_its_index_and_nothing_moves(api: Api) -> None:
    number = _at_clarify(api)
    cases = [
        ([{"type": "cancel", "activityId": "clarify"}, {"type": "startBeforeActivity", "activityId": "nowhere"}], 1),
        ([{"type": "cancel", "activityId": "resolve"}, {"type": "startBeforeActivity", "activityId": "clarify"}], 0),
        (
            [{"type": "cancel", "activityId": "clarify"}, {"type": "startAfterActivity", "activityId": "end_declined"}],
            1,
        ),
        ([{"type": "cancel", "activityId": "clarify"}, {"type": "startBeforeActivity", "activityId": "start"}], 1),
    ]
    for steps, index in cases:
        refused = _move(api, number, instructions=steps)
        assert refused.status_code == 422, (steps, refused.get_json())
        body = refused.get_json()
        assert f"instruction {index}" in body["detail"], body
        assert body["errors"]["instructions"][str(index)]["activityId"], body
    unknown = _move(api, number, instructions=[{"type": "cancel", "activityId": "clarify"}, {"type": "jump"}])
    assert unknown.status_code == 422 and set(unknown.get_json()["errors"]["instructions"]["1"]) == {
        "type",
        "activityId",
    }
    only_cancel = _move(api, number, instructions=[{"type": "cancel", "activityId": "clarify"}])
    assert only_cancel.status_code == 422 and "start one" in only_cancel.get_json()["errors"]["instructions"][0]
    both = _move(api, number, instructions=[{"type": "cancel", "activityId": "clarify"}], start_before="clarify")
    assert both.status_code == 422 and "not both" in both.get_json()["errors"]["instructions"][0]
    assert _move(api, number).status_code == 422  # neither shape
    assert _moves(api, number) == []
    assert [task["name"] for task in api.ticket(number)["open_tasks"]] == ["clarify"]
