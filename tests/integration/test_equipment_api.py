"""The installed base over the API: add, find, read, change with If-Match, retire, refuse a move, delete, history."""

from __future__ import annotations

from typing import Any

import pytest

from service.worker import drain
from tests.integration.conftest import Api

NEW = {
    "serial": "NTAP-A250-0001",
    "client": "NORD-BANK",
    "vendor": "NetApp",
    "model": "NetApp AFF A250",
    "equipment_class": "storage",
    "installed_on": "2024-03-01",
    "warranty_ends_on": "2027-03-01",
}


def _add_site(api: Api, client: str, code: str) -> None:
    response = api.post(f"/clients/{client}/sites", as_="admin", json={"code": code, "name": f"{client} {code}"})
    assert response.status_code == 201, response.get_json()


def _create(api: Api, *, as_: str = "admin", **fields: Any) -> Any:
    return api.post("/equipment", as_=as_, json={**NEW, **fields})


def _patch(api: Api, serial: str, body: dict[str, Any], etag: str | None, *, as_: str = "admin") -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"/equipment/{serial}", as_=as_, json=body, headers=headers)


def test_an_item_is_added_read_and_found(api: Api) -> None:
    _add_site(api, "NORD-BANK", "DC-9")
    created = _create(api, site="DC-9")
    assert created.status_code == 201, created.get_json()
    read = api.get("/equipment/NTAP-A250-0001", as_="manager")
    assert read.get_json() == {**NEW, "site": "DC-9", "status": "in_service"}
    assert read.headers["ETag"] == created.headers["ETag"]
    by_text = api.get("/equipment?q=aff%20a250", as_="consultant").get_json()
    assert [item["serial"] for item in by_text["items"]] == ["NTAP-A250-0001"]
    by_vendor = api.get("/equipment?q=netapp", as_="duty").get_json()["items"]
    assert [item["serial"] for item in by_vendor] == ["NTAP-A250-0001"]
    by_site = api.get("/equipment?site=DC-9", as_="admin").get_json()["items"]
    assert [item["serial"] for item in by_site] == ["NTAP-A250-0001"]


def test_filters_by_client_class_and_status(api: Api) -> None:
    mega = api.get("/equipment?client=MEGA-RETAIL", as_="manager").get_json()["items"]
    assert [item["serial"] for item in mega] == ["DELL-R740-0002", "IBM-V7000-0002"]
    servers = api.get("/equipment?client=NORD-BANK&equipment_class=servers", as_="manager").get_json()["items"]
    assert [item["serial"] for item in servers] == ["DELL-R750-0001"]
    etag = api.get("/equipment/DELL-R750-0001", as_="admin").headers["ETag"]
    assert _patch(api, "DELL-R750-0001", {"status": "retired"}, etag).status_code == 200
    retired = api.get("/equipment?status=retired", as_="manager").get_json()["items"]
    assert [item["serial"] for item in retired] == ["DELL-R750-0001"]
    assert "DELL-R750-0001" not in {
        item["serial"]
        for item in api.get("/equipment?status=in_service&page_size=100", as_="admin").get_json()["items"]
    }


def test_a_taken_serial_is_a_conflict(api: Api) -> None:
    assert _create(api).status_code == 201
    again = _create(api, client="MEGA-RETAIL")
    assert again.status_code == 409 and "NTAP-A250-0001" in again.get_json()["detail"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"site": "NOWHERE"}, "site"),
        ({"warranty_ends_on": "2024-02-29"}, "warranty_ends_on"),
        ({"equipment_class": "printers"}, "equipment_class"),
        ({"serial": "bad serial"}, "serial"),
        ({"installed_on": "1999-12-31"}, "installed_on"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(api: Api, fields: dict[str, Any], field: str) -> None:
    response = _create(api, **fields)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_site_of_another_client_is_refused(api: Api) -> None:
    _add_site(api, "MEGA-RETAIL", "STORE-1")
    response = _create(api, site="STORE-1")
    assert response.status_code == 422 and "site" in response.get_json()["errors"]
    etag = api.get("/equipment/IBM-FS5200-0001", as_="admin").headers["ETag"]
    moved = _patch(api, "IBM-FS5200-0001", {"site": "STORE-1"}, etag)
    assert moved.status_code == 422 and "site" in moved.get_json()["errors"]


def test_an_unknown_client_is_not_found(api: Api) -> None:
    assert _create(api, client="NO-SUCH").status_code == 404


def test_a_duty_officer_adds_equipment_but_changes_nothing(api: Api) -> None:
    created = _create(api, as_="duty")
    assert created.status_code == 201
    assert _patch(api, "NTAP-A250-0001", {"model": "X"}, created.headers["ETag"], as_="duty").status_code == 403
    refused = api.call("DELETE", "/equipment/NTAP-A250-0001", as_="duty", headers={"If-Match": "*"})
    assert refused.status_code == 403
    assert _create(api, as_="consultant", serial="X-1").status_code == 403
    assert _create(api, as_="manager", serial="X-2").status_code == 403
    assert api.get("/equipment", as_="storage.l1").status_code == 403
    history = api.get("/equipment/NTAP-A250-0001/history", as_="manager").get_json()["items"]
    assert [(change["action"], change["actor"]) for change in history] == [("created", "duty")]
    assert history[0]["after"]["client"] == "NORD-BANK" and history[0]["after"]["site"] is None


def test_a_change_needs_the_version_read_and_a_stale_one_is_refused(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "NTAP-A250-0001", {"model": "A"}, None).status_code == 428
    first = _patch(api, "NTAP-A250-0001", {"model": "NetApp AFF A250 HA"}, etag)
    assert first.status_code == 200, first.get_json()
    stale = _patch(api, "NTAP-A250-0001", {"model": "B"}, etag)
    assert stale.status_code == 412
    assert api.get("/equipment/NTAP-A250-0001", as_="admin").get_json()["model"] == "NetApp AFF A250 HA"
    history = api.get("/equipment/NTAP-A250-0001/history", as_="admin").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "updated"]
    assert history[1]["before"] == {"model": "NetApp AFF A250"}
    assert history[1]["after"] == {"model": "NetApp AFF A250 HA"}


def test_moving_an_item_to_another_client_is_refused(api: Api) -> None:
    etag = api.get("/equipment/IBM-FS5200-0001", as_="admin").headers["ETag"]
    moved = _patch(api, "IBM-FS5200-0001", {"client": "MEGA-RETAIL"}, etag)
    assert moved.status_code == 409
    assert "cannot move" in moved.get_json()["detail"]
    assert api.get("/equipment/IBM-FS5200-0001", as_="admin").get_json()["client"] == "NORD-BANK"
    same = _patch(api, "IBM-FS5200-0001", {"client": "NORD-BANK", "model": "IBM FlashSystem 5200H"}, etag)
    assert same.status_code == 200


def test_a_warranty_before_the_installation_is_refused_on_change(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    response = _patch(api, "NTAP-A250-0001", {"warranty_ends_on": "2024-01-01"}, etag)
    assert response.status_code == 422 and "warranty_ends_on" in response.get_json()["errors"]


def test_a_retired_item_keeps_its_tickets_and_is_not_deleted(api: Api) -> None:
    number = api.open_ticket(equipment_serial="IBM-FS5200-0001")["number"]
    drain(api.ctx)
    etag = api.get("/equipment/IBM-FS5200-0001", as_="admin").headers["ETag"]
    retired = _patch(api, "IBM-FS5200-0001", {"status": "retired"}, etag)
    assert retired.status_code == 200 and retired.get_json()["status"] == "retired"
    assert api.ticket(number)["equipment_serial"] == "IBM-FS5200-0001"
    refused = api.call("DELETE", "/equipment/IBM-FS5200-0001", as_="admin", headers={"If-Match": "*"})
    assert refused.status_code == 409
    assert refused.get_json()["references"] == {"ticket": 1}
    assert "ticket" in refused.get_json()["detail"]
    history = api.get("/equipment/IBM-FS5200-0001/history", as_="admin").get_json()["items"]
    assert history[-1]["before"] == {"status": "in_service"} and history[-1]["after"] == {"status": "retired"}


def test_an_item_a_contract_names_is_not_deleted_and_a_free_one_is(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    contract = {"number": "C-ITEM", "client": "NORD-BANK", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    assert api.post("/contracts", as_="admin", json={**contract, "items": ["NTAP-A250-0001"]}).status_code == 201
    refused = api.call("DELETE", "/equipment/NTAP-A250-0001", as_="admin", headers={"If-Match": etag})
    assert refused.status_code == 409 and refused.get_json()["references"] == {"contract_equipment": 1}
    assert api.call("DELETE", "/contracts/C-ITEM", as_="admin", headers={"If-Match": "*"}).status_code == 204
    stale = api.call("DELETE", "/equipment/NTAP-A250-0001", as_="admin", headers={"If-Match": '"1.99"'})
    assert stale.status_code == 412
    assert api.call("DELETE", "/equipment/NTAP-A250-0001", as_="admin", headers={"If-Match": etag}).status_code == 204
    assert api.get("/equipment/NTAP-A250-0001", as_="admin").status_code == 404
    history = api.get("/equipment/NTAP-A250-0001/history", as_="admin").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "deleted"]


def test_pages_follow_the_serials(api: Api) -> None:
    for index in range(5):
        assert _create(api, serial=f"PAGE-{index}").status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get("/equipment?q=page-&page_size=2" + (f"&cursor={cursor}" if cursor else ""), as_="admin")
        body = page.get_json()
        seen += [item["serial"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [f"PAGE-{index}" for index in range(5)]
