"""Contracts over the API, and entitlement from them: what a contract covers (classes and named items), only an
active contract entitles, and the decision names the contract's number."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from service.worker import drain
from tests.integration.conftest import Api

NEW = {
    "number": "C-NORD-2",
    "client": "NORD-BANK",
    "starts_on": "2026-01-01",
    "ends_on": "2026-12-31",
    "covers": ["network", "storage"],
    "items": ["DELL-R750-0001"],
    "service_level": "silver",
    "parts_included": True,
}
MEGA = {"client": "MEGA-RETAIL", "contact_email": "it@mega-retail.example"}


def _create(api: Api, *, as_: str = "admin", **fields: Any) -> Any:
    return api.post("/contracts", as_=as_, json={**NEW, **fields})


def _patch(api: Api, number: str, body: dict[str, Any], etag: str | None = "*", *, as_: str = "admin") -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"/contracts/{number}", as_=as_, json=body, headers=headers)


def _entitlement(api: Api, **fields: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Open a ticket, clarify it, and answer its number, its entitlement decision and that decision's history."""
    number = api.open_ticket(**fields)["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "It failed", "category": "hardware"}, as_="duty")
    decision = api.ticket(number)["decisions"][0]
    assert decision["ruleset"] == "entitlement"
    events = [e for e in api.history(number, as_="admin") if e["kind"] == "decision"]
    return number, decision, events[0]["detail"]


def test_a_contract_is_created_read_and_found(api: Api) -> None:
    created = _create(api, covers=["storage", "network", "storage"])
    assert created.status_code == 201, created.get_json()
    read = api.get("/contracts/C-NORD-2", as_="manager")
    none = {"maintenance_every_months": None, "maintenance_next_on": None}
    assert read.get_json() == {**NEW, **none, "covers": ["storage", "network"], "status": "active"}
    assert read.headers["ETag"] == created.headers["ETag"]
    found = api.get("/contracts?q=nord-2", as_="consultant").get_json()["items"]
    assert [contract["number"] for contract in found] == ["C-NORD-2"]
    nord = api.get("/contracts?client=NORD-BANK", as_="duty").get_json()["items"]
    assert [contract["number"] for contract in nord] == ["C-NORD-1", "C-NORD-2"]
    assert _patch(api, "C-NORD-1", {"status": "suspended"}).status_code == 200
    suspended = api.get("/contracts?status=suspended", as_="admin").get_json()["items"]
    assert [contract["number"] for contract in suspended] == ["C-NORD-1"]


def test_a_taken_number_is_a_conflict(api: Api) -> None:
    assert _create(api, number="C-NORD-1").status_code == 409


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ends_on": "2025-12-31"}, "ends_on"),
        ({"service_level": "platinum"}, "service_level"),
        ({"items": ["DELL-R740-0002"]}, "items"),  # MEGA-RETAIL's server
        ({"items": ["NO-SUCH-1"]}, "items"),
        ({"covers": ["printers"]}, "covers"),
        ({"status": "paused"}, "status"),
        ({"number": "c nord"}, "number"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(api: Api, fields: dict[str, Any], field: str) -> None:
    response = _create(api, **fields)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_an_empty_service_level_is_allowed(api: Api) -> None:
    assert _create(api, service_level="").status_code == 201


def test_only_administrators_change_contracts(api: Api) -> None:
    assert _create(api, as_="duty").status_code == 403
    assert _create(api, as_="manager").status_code == 403
    assert _patch(api, "C-NORD-1", {"parts_included": True}, as_="manager").status_code == 403
    assert api.call("DELETE", "/contracts/C-NORD-1", as_="duty", headers={"If-Match": "*"}).status_code == 403
    assert api.get("/contracts", as_="storage.l1").status_code == 403
    assert api.get("/contracts/C-NORD-1", as_="nordbank").status_code == 403


def test_a_change_needs_the_version_read_and_is_in_the_history(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "C-NORD-2", {"parts_included": False}, None).status_code == 428
    first = _patch(api, "C-NORD-2", {"covers": ["servers"], "items": ["IBM-FS5200-0001"]}, etag)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["covers"] == ["servers"] and first.get_json()["items"] == ["IBM-FS5200-0001"]
    assert _patch(api, "C-NORD-2", {"status": "terminated"}, etag).status_code == 412
    assert _patch(api, "C-NORD-2", {"ends_on": "2025-06-30"}, first.headers["ETag"]).status_code == 422
    assert _patch(api, "C-NORD-2", {"client": "MEGA-RETAIL"}, first.headers["ETag"]).status_code == 422
    history = api.get("/contracts/C-NORD-2/history", as_="manager").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "updated"]
    assert history[0]["after"]["covers"] == ["storage", "network"] and history[0]["after"]["client"] == "NORD-BANK"
    assert history[1]["before"] == {"covers": ["storage", "network"], "items": ["DELL-R750-0001"]}
    assert history[1]["after"] == {"covers": ["servers"], "items": ["IBM-FS5200-0001"]}
    assert history[1]["actor"] == "admin"


def test_a_contract_is_deleted_and_its_history_stays(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert api.call("DELETE", "/contracts/C-NORD-2", as_="admin", headers={"If-Match": etag}).status_code == 204
    assert api.get("/contracts/C-NORD-2", as_="admin").status_code == 404
    history = api.get("/contracts/C-NORD-2/history", as_="admin").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "deleted"]
    # the items it named are free again
    assert api.get("/equipment/DELL-R750-0001", as_="admin").status_code == 200


# ---- entitlement -----------------------------------------------------------------------------------------------


def test_a_covered_class_entitles_and_the_decision_names_the_contract(api: Api) -> None:
    _number, decision, recorded = _entitlement(api)
    assert decision["outcome"] == {"route": "contract", "reason": "valid contract", "contract": "C-NORD-1"}
    assert recorded["outcome"]["contract"] == "C-NORD-1"
    assert decision["facts"]["contract_number"] == "C-NORD-1"


def test_an_item_named_by_a_contract_is_entitled_though_its_class_is_not_covered(api: Api) -> None:
    storage = {**MEGA, "equipment_serial": "IBM-V7000-0002"}  # C-MEGA-1 covers servers only
    _number, before, _ = _entitlement(api, **storage)
    assert before["outcome"] == {
        "route": "per_call",
        "reason": "equipment not covered by the contract",
        "contract": "C-MEGA-1",
    }
    assert _patch(api, "C-MEGA-1", {"items": ["IBM-V7000-0002"]}).status_code == 200
    number, after, recorded = _entitlement(api, **storage)
    assert after["outcome"] == {"route": "contract", "reason": "valid contract", "contract": "C-MEGA-1"}
    assert after["facts"]["contract_covers_equipment"] is True
    assert recorded["outcome"]["contract"] == "C-MEGA-1"
    assert api.ticket(number)["sla"]["service_level"] == "silver"


def test_a_suspended_contract_does_not_entitle(api: Api) -> None:
    assert _patch(api, "C-NORD-1", {"status": "suspended"}).status_code == 200
    number, decision, recorded = _entitlement(api)
    assert decision["outcome"] == {"route": "per_call", "reason": "contract suspended", "contract": "C-NORD-1"}
    assert recorded["outcome"] == decision["outcome"]
    assert api.ticket(number)["route"] == "per_call"


def test_a_terminated_contract_does_not_entitle_but_another_active_one_does(api: Api) -> None:
    assert _patch(api, "C-NORD-1", {"status": "terminated"}).status_code == 200
    _number, decision, _ = _entitlement(api)
    assert decision["outcome"]["reason"] == "contract terminated"
    today_contract = {
        **NEW,
        "starts_on": "2020-01-01",
        "ends_on": api.get("/contracts/C-NORD-1", as_="admin").get_json()["ends_on"],
        "covers": [],
        "items": ["IBM-FS5200-0001"],
    }
    assert _create(api, **today_contract).status_code == 201
    _number, decision, _ = _entitlement(api)
    assert decision["outcome"] == {"route": "contract", "reason": "valid contract", "contract": "C-NORD-2"}
    assert decision["facts"]["contract_covers_equipment"] is True


def test_the_contract_that_covers_the_item_is_preferred(api: Api) -> None:
    ends = date.fromisoformat(api.get("/contracts/C-MEGA-1", as_="admin").get_json()["ends_on"])
    later = {"client": "MEGA-RETAIL", "number": "C-MEGA-2", "covers": ["network"], "items": []}
    created = _create(api, **later, starts_on="2020-01-01", ends_on=(ends + timedelta(days=30)).isoformat())
    assert created.status_code == 201  # also in force, and it ends later
    _number, decision, _ = _entitlement(api, **MEGA, equipment_serial="DELL-R740-0002")
    assert decision["outcome"] == {"route": "contract", "reason": "valid contract", "contract": "C-MEGA-1"}
