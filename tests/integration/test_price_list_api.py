"""The price list over the API: prices per class (and vendor, model) from a day, a new price changing an old one
that stays, the prices valid on a day, search, If-Match, history; and the estimate form's prices."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from service.worker import drain
from tests.integration.conftest import Api

NEW = {"equipment_class": "storage", "vendor": "IBM", "item": "cache battery", "price": "1200.50", "currency": "EUR"}


def _create(api: Api, *, as_: str = "admin", **fields: Any) -> Any:
    return api.post("/price-list", as_=as_, json={**NEW, "valid_from": "2026-01-01", **fields})


def _items(api: Api, query: str, *, as_: str = "consultant") -> list[dict[str, Any]]:
    response = api.get(f"/price-list?page_size=200&{query}", as_=as_)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def _patch(api: Api, price_id: int, body: dict[str, Any], etag: str | None) -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"/price-list/{price_id}", as_="admin", json=body, headers=headers)


def test_a_price_is_added_read_and_found_by_text(api: Api) -> None:
    created = _create(api)
    assert created.status_code == 201, created.get_json()
    price = created.get_json()
    assert price == {**NEW, "id": price["id"], "model": "", "valid_from": "2026-01-01"}
    read = api.get(f"/price-list/{price['id']}", as_="manager")
    assert read.get_json() == price and read.headers["ETag"] == created.headers["ETag"]
    assert [item["id"] for item in _items(api, "q=BATTERY")] == [price["id"]]
    assert [item["id"] for item in _items(api, "class=storage&vendor=IBM")] == [price["id"]]
    assert _items(api, "class=servers&item=cache%20battery") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "0"),
        ("price", "-5"),
        ("price", "abc"),
        ("currency", "rub"),
        ("currency", "XYZ"),
        ("currency", "RUBL"),
        ("valid_from", "tomorrow"),
        ("valid_from", "1999-12-31"),
        ("item", ""),
    ],
)
def test_bad_fields_are_refused_naming_the_field(api: Api, field: str, value: str) -> None:
    response = _create(api, **{field: value})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_model_needs_its_vendor(api: Api) -> None:
    response = _create(api, vendor="", model="IBM FlashSystem 5200")
    assert response.status_code == 422
    assert "vendor" in response.get_json()["errors"]


def test_two_prices_of_one_item_from_one_day_are_a_conflict(api: Api) -> None:
    assert _create(api).status_code == 201
    assert _create(api, price="99").status_code == 409
    assert _create(api, valid_from="2026-02-01").status_code == 201  # a later price of it changes it


def test_a_new_price_changes_the_item_from_its_day_and_the_old_one_stays(api: Api) -> None:
    old = _create(api).get_json()
    new = _create(api, price="1500", valid_from="2026-06-01").get_json()
    other = _create(api, item="fan", valid_from="2026-03-01").get_json()
    assert {item["id"] for item in _items(api, "vendor=IBM")} == {old["id"], new["id"], other["id"]}
    assert {item["id"] for item in _items(api, "vendor=IBM&on=2026-05-31")} == {old["id"], other["id"]}
    assert {item["id"] for item in _items(api, "vendor=IBM&on=2026-06-01")} == {new["id"], other["id"]}
    assert {item["id"] for item in _items(api, "vendor=IBM&on=2026-02-01")} == {old["id"]}
    assert _items(api, "vendor=IBM&on=2025-12-31") == []
    demo = _items(api, "class=storage&vendor=&on=2026-05-31")  # the demo's class-wide prices, from 2000
    assert {item["item"] for item in demo} == {"diagnostics", "labour_hour", "controller", "disk drive"}


def test_a_change_needs_the_version_read_and_is_in_the_history(api: Api) -> None:
    created = _create(api)
    price_id, etag = created.get_json()["id"], created.headers["ETag"]
    assert _patch(api, price_id, {"price": "1300"}, None).status_code == 428
    first = _patch(api, price_id, {"price": "1300"}, etag)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["price"] == "1300.00"
    assert _patch(api, price_id, {"price": "1400"}, etag).status_code == 412
    assert _patch(api, price_id, {"price": "0"}, first.headers["ETag"]).status_code == 422
    history = api.get(f"/price-list/{price_id}/history", as_="consultant").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "updated"]
    assert history[1]["before"] == {"price": "1200.50"} and history[1]["after"] == {"price": "1300.00"}
    assert history[1]["actor"] == "admin"


def test_a_correction_may_not_collide_with_another_price_of_the_item(api: Api) -> None:
    assert _create(api).status_code == 201
    later = _create(api, valid_from="2026-02-01")
    moved = _patch(api, later.get_json()["id"], {"valid_from": "2026-01-01"}, later.headers["ETag"])
    assert moved.status_code == 409


def test_a_deleted_price_keeps_its_history(api: Api) -> None:
    created = _create(api)
    price_id = created.get_json()["id"]
    stale = api.call("DELETE", f"/price-list/{price_id}", as_="admin", headers={"If-Match": '"0.0"'})
    assert stale.status_code == 412
    gone = api.call("DELETE", f"/price-list/{price_id}", as_="admin", headers={"If-Match": created.headers["ETag"]})
    assert gone.status_code == 204
    assert api.get(f"/price-list/{price_id}", as_="admin").status_code == 404
    history = api.get(f"/price-list/{price_id}/history", as_="admin").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "deleted"]


def test_administrators_manage_and_those_who_price_work_read(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _create(api, as_="manager", item="x").status_code == 403
    assert _create(api, as_="consultant", item="x").status_code == 403
    price_id = _items(api, "q=cache")[0]["id"]
    refused = api.call(
        "PATCH", f"/price-list/{price_id}", as_="consultant", json={"price": "1"}, headers={"If-Match": etag}
    )
    assert refused.status_code == 403
    assert api.get("/price-list", as_="manager").status_code == 200
    assert api.get("/price-list", as_="storage.l1").status_code == 403
    assert api.get("/price-list", as_="nordbank").status_code == 403


def test_pages_follow_the_ids(api: Api) -> None:
    ids = [_create(api, item=f"part {index}").get_json()["id"] for index in range(5)]
    seen: list[int] = []
    cursor = None
    while True:
        page = api.get("/price-list?q=part&page_size=2" + (f"&cursor={cursor}" if cursor else ""), as_="admin")
        seen += [item["id"] for item in page.get_json()["items"]]
        cursor = page.get_json()["next"]
        if cursor is None:
            break
    assert seen == ids


def _estimate_prices(api: Api) -> dict[str, tuple[str, str]]:
    number = api.open_ticket(
        client="NEW-CLIENT",
        contact_email="it@new-client.example",
        equipment_serial="CISCO-C9300-0005",
        category="configuration",
    )["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "VLAN lost", "category": "configuration"}, as_="duty")
    task = api.task(number, "estimate", as_="consultant")
    return {line["item"]: (line["price"], line["vendor"]) for line in task["price_list"]}


def test_the_estimate_shows_the_prices_valid_on_the_ticket_date_the_most_specific_winning(api: Api) -> None:
    today = date.today()
    before, after = (today - timedelta(days=2)).isoformat(), (today + timedelta(days=2)).isoformat()
    network = {"equipment_class": "network", "currency": "RUB"}
    for body in (
        {"item": "diagnostics", "price": "13000", "valid_from": after},  # changed after the ticket was opened
        {"item": "labour_hour", "price": "4400", "valid_from": before},  # changed before: in force
        {"item": "transceiver", "vendor": "Cisco", "price": "17000", "valid_from": before},
        {"item": "switch module", "vendor": "Cisco", "price": "95000", "valid_from": before},
        {
            "item": "switch module",
            "vendor": "Cisco",
            "model": "Cisco Catalyst 9300",
            "price": "99000",
            "valid_from": "2001-01-01",
        },  # fmt: skip
        {"item": "switch module", "vendor": "Juniper", "price": "50000", "valid_from": before},
    ):
        response = api.post("/price-list", as_="admin", json={**network, **body})
        assert response.status_code == 201, response.get_json()
    prices = _estimate_prices(api)
    assert prices == {
        "diagnostics": ("12000.00", ""),
        "labour_hour": ("4400.00", ""),
        "transceiver": ("17000.00", "Cisco"),
        "switch module": ("99000.00", "Cisco"),
    }
