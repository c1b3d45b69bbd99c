"""Rules of the directory no other test names: an equipment class comes with the team that serves it (in the API and
in imports), an import never moves an item to another client, the lists of sites, contracts and teams page with a
cursor, and the rules see the equipment's vendor and model and the contract's number and service level as the
directory holds them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.db import transaction
from service.tickets.facts import ticket_facts
from service.tickets.models import Ticket
from tests.integration.conftest import Api

ITEM = {
    "serial": "APC-SRT-0001",
    "client": "NORD-BANK",
    "vendor": "APC",
    "model": "Smart-UPS SRT",
    "equipment_class": "ups",
}
CONTRACT = {
    "number": "C-NORD-UPS",
    "client": "NORD-BANK",
    "starts_on": (date.today() - timedelta(days=30)).isoformat(),
    "ends_on": (date.today() + timedelta(days=365)).isoformat(),
    "covers": ["ups"],
    "service_level": "gold",
}


def _power_team(api: Api) -> None:
    response = api.post("/teams", as_="admin", json={"code": "power", "name": "Power", "classes": ["ups"]})
    assert response.status_code == 201, response.get_json()


def _refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.get_json()
    [detail] = response.get_json()["errors"][field]
    return str(detail)


def test_equipment_of_a_class_no_team_serves_is_refused(api: Api) -> None:
    detail = _refused(api.post("/equipment", as_="admin", json=ITEM), "equipment_class")
    assert "ups" in detail and "storage" in detail


def test_a_contract_covering_a_class_no_team_serves_is_refused(api: Api) -> None:
    _refused(api.post("/contracts", as_="admin", json=CONTRACT), "covers")
    number = "C-NORD-1"
    changed = api.call(
        "PATCH", f"/contracts/{number}", as_="admin", json={"covers": ["ups"]}, headers={"If-Match": "*"}
    )
    _refused(changed, "covers")


def test_a_class_a_team_serves_is_accepted_for_equipment_and_contracts(api: Api) -> None:
    _power_team(api)
    created = api.post("/equipment", as_="admin", json=ITEM)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["equipment_class"] == "ups"
    found = api.get("/equipment?equipment_class=ups", as_="manager").get_json()["items"]
    assert [item["serial"] for item in found] == ["APC-SRT-0001"]
    contract = api.post("/contracts", as_="admin", json={**CONTRACT, "covers": ["ups", "storage", "ups"]})
    assert contract.status_code == 201, contract.get_json()
    assert contract.get_json()["covers"] == ["storage", "ups"]  # the built-in classes first, each once


def test_an_item_changes_only_to_a_class_a_team_serves(api: Api) -> None:
    serial = "IBM-FS5200-0001"
    patch = {"equipment_class": "ups"}
    _refused(
        api.call("PATCH", f"/equipment/{serial}", as_="admin", json=patch, headers={"If-Match": "*"}), "equipment_class"
    )
    _power_team(api)
    changed = api.call("PATCH", f"/equipment/{serial}", as_="admin", json=patch, headers={"If-Match": "*"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["equipment_class"] == "ups"


@pytest.mark.parametrize(
    ("path", "key"),
    [("/clients/NORD-BANK/sites", "code"), ("/contracts", "number"), ("/teams", "code")],
)
def test_lists_page_with_a_cursor_never_repeating(api: Api, path: str, key: str) -> None:
    seen: list[str] = []
    url = f"{path}?page_size=1"
    while True:
        page = api.get(url, as_="manager").get_json()
        assert len(page["items"]) <= 1
        seen.extend(item[key] for item in page["items"])
        if page["next"] is None:
            break
        url = f"{path}?page_size=1&cursor={page['next']}"
    everything = api.get(f"{path}?page_size=100", as_="manager").get_json()["items"]
    assert len(seen) > 1
    assert seen == [item[key] for item in everything]


HEADER = "serial;client;vendor;model;equipment_class\r\n"


def _import(api: Api, text: str) -> Any:
    return api.post("/imports/equipment", as_="admin", data=text.encode(), content_type="text/csv")


def test_an_import_moving_an_item_to_another_client_is_refused(api: Api) -> None:
    response = _import(api, HEADER + "IBM-FS5200-0001;MEGA-RETAIL;IBM;FlashSystem 5200;storage\r\n")
    assert response.status_code == 422, response.get_json()
    [refusal] = response.get_json()["refusals"]
    assert (refusal["row"], refusal["column"]) == (2, "client")
    assert "NORD-BANK" in refusal["reason"] and "MEGA-RETAIL" in refusal["reason"]
    assert api.get("/equipment/IBM-FS5200-0001", as_="admin").get_json()["client"] == "NORD-BANK"


def test_an_import_takes_only_the_classes_a_team_serves(api: Api) -> None:
    row = HEADER + "APC-SRT-0002;NORD-BANK;APC;Smart-UPS;ups\r\n"
    response = _import(api, row)
    assert response.status_code == 422, response.get_json()
    [refusal] = response.get_json()["refusals"]
    assert (refusal["row"], refusal["column"]) == (2, "equipment_class")
    _power_team(api)
    assert _import(api, row).get_json()["counts"]["created"] == 1


def test_the_rules_see_the_vendor_model_contract_and_service_level_the_directory_holds(api: Api) -> None:
    serial = "IBM-FS5200-0001"
    item = {"vendor": "Lenovo", "model": "DE4000H"}
    changed = api.call("PATCH", f"/equipment/{serial}", as_="admin", json=item, headers={"If-Match": "*"})
    assert changed.status_code == 200, changed.get_json()
    contract = api.post(
        "/contracts",
        as_="admin",
        json={**CONTRACT, "number": "C-NORD-STORAGE", "covers": ["storage"], "service_level": "silver"},
    )
    assert contract.status_code == 201, contract.get_json()
    others = [c["number"] for c in api.get("/contracts?client=NORD-BANK", as_="admin").get_json()["items"]]
    for number in others:  # only the new contract speaks for the item
        if number != "C-NORD-STORAGE":
            off = {"status": "suspended"}
            assert (
                api.call("PATCH", f"/contracts/{number}", as_="admin", json=off, headers={"If-Match": "*"}).status_code
                == 200
            )
    number = api.open_ticket(equipment_serial=serial)["number"]
    with transaction(api.ctx.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        facts = ticket_facts(ticket, today=date.today())
    assert (facts["equipment_vendor"], facts["equipment_model"]) == ("Lenovo", "DE4000H")
    assert (facts["contract_number"], facts["service_level"]) == ("C-NORD-STORAGE", "silver")
