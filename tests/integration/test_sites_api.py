"""A client's sites over the API: list, search, read, create, change with If-Match, deactivate, delete, history; the
site a task shows; the site and sector facts of a ticket."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bench.steps import counting
from service.db import transaction
from service.tickets.facts import ticket_facts
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api

SITES = "/clients/NORD-BANK/sites"
NEW = {
    "code": "KZN",
    "name": "Казанский филиал",
    "address": "ул. Баумана, 10",
    "city": "Казань",
    "time_zone": "Europe/Moscow",
    "access_notes": "Пропуск на проходной",
    "working_hours": "Mon-Fri 09:00-18:00",
}


def _create(api: Api, **fields: Any) -> Any:
    return api.post(SITES, as_="admin", json={**NEW, **fields})


def _patch(api: Api, code: str, body: dict[str, Any], etag: str | None, *, as_: str = "admin") -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"{SITES}/{code}", as_=as_, json=body, headers=headers)


def test_a_site_is_created_read_and_found_by_text(api: Api) -> None:
    created = _create(api)
    assert created.status_code == 201, created.get_json()
    read = api.get(f"{SITES}/KZN", as_="consultant")
    assert read.get_json() == {**NEW, "active": True}
    assert read.headers["ETag"] == created.headers["ETag"]
    found = api.get(f"{SITES}?q=казань", as_="duty").get_json()  # by city, Cyrillic case folded
    assert [site["code"] for site in found["items"]] == ["KZN"]
    listed = api.get(SITES, as_="manager").get_json()
    assert [site["code"] for site in listed["items"]] == ["DC-2", "HQ", "KZN"]
    assert api.get("/clients/MEGA-RETAIL/sites", as_="manager").get_json()["items"] == []


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/moscow", "../../etc/passwd", "", "UTC+3"])
def test_a_time_zone_must_be_a_real_iana_zone(api: Api, zone: str) -> None:
    response = _create(api, time_zone=zone)
    assert response.status_code == 422
    assert "time_zone" in response.get_json()["errors"]
    etag = api.get(f"{SITES}/HQ", as_="admin").headers["ETag"]
    assert _patch(api, "HQ", {"time_zone": zone}, etag).status_code == 422


def test_a_real_zone_other_than_moscow_is_kept(api: Api) -> None:
    assert _create(api, code="VVO", time_zone="Asia/Vladivostok").status_code == 201
    assert api.get(f"{SITES}/VVO", as_="admin").get_json()["time_zone"] == "Asia/Vladivostok"


def test_a_code_is_unique_within_its_client_only(api: Api) -> None:
    assert _create(api).status_code == 201
    taken = _create(api)
    assert taken.status_code == 409 and "KZN" in taken.get_json()["detail"]
    assert api.post("/clients/MEGA-RETAIL/sites", as_="admin", json=NEW).status_code == 201
    assert _create(api, code="kzn lower").status_code == 422


def test_unknown_clients_and_sites_are_not_found(api: Api) -> None:
    assert api.get("/clients/NOBODY/sites", as_="admin").status_code == 404
    assert api.post("/clients/NOBODY/sites", as_="admin", json=NEW).status_code == 404
    assert api.get(f"{SITES}/NOWHERE", as_="admin").status_code == 404
    assert api.get("/clients/MEGA-RETAIL/sites/HQ", as_="admin").status_code == 404  # HQ is NORD-BANK's


def test_a_change_needs_the_version_read_and_a_stale_one_is_refused(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "KZN", {"city": "Kazan"}, None).status_code == 428
    first = _patch(api, "KZN", {"city": "Kazan"}, etag)
    assert first.status_code == 200, first.get_json()
    stale = _patch(api, "KZN", {"city": "Innopolis"}, etag)
    assert stale.status_code == 412
    assert api.get(f"{SITES}/KZN", as_="admin").get_json()["city"] == "Kazan"
    assert _patch(api, "KZN", {"city": "Innopolis"}, first.headers["ETag"]).status_code == 200


def test_only_administrators_change_sites_and_directory_readers_read_them(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert api.post(SITES, as_="duty", json={**NEW, "code": "X"}).status_code == 403
    assert api.post(SITES, as_="manager", json={**NEW, "code": "X"}).status_code == 403
    assert _patch(api, "KZN", {"name": "B"}, etag, as_="manager").status_code == 403
    assert api.call("DELETE", f"{SITES}/KZN", as_="duty", headers={"If-Match": etag}).status_code == 403
    assert api.get(SITES, as_="storage.l1").status_code == 403
    assert api.get(f"{SITES}/KZN/history", as_="nordbank").status_code == 403
    assert api.get(f"{SITES}/KZN", as_="consultant").status_code == 200


def test_deactivating_keeps_the_site_and_its_history_says_who(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "KZN", {"active": False}, etag).status_code == 200
    inactive = api.get(f"{SITES}?active=false", as_="admin").get_json()["items"]
    assert [site["code"] for site in inactive] == ["KZN"]
    assert "KZN" not in [site["code"] for site in api.get(f"{SITES}?active=true", as_="admin").get_json()["items"]]
    history = api.get(f"{SITES}/KZN/history", as_="manager").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "deactivated"]
    assert history[0]["after"]["city"] == "Казань" and history[0]["actor"] == "admin"
    assert history[1]["before"] == {"active": True} and history[1]["after"] == {"active": False}
    assert api.get("/clients/MEGA-RETAIL/sites/KZN/history", as_="admin").get_json()["items"] == []


def test_a_site_equipment_stands_at_is_not_deleted(api: Api) -> None:
    etag = api.get(f"{SITES}/DC-2", as_="admin").headers["ETag"]
    refused = api.call("DELETE", f"{SITES}/DC-2", as_="admin", headers={"If-Match": etag})
    assert refused.status_code == 409
    assert refused.get_json()["references"] == {"equipment": 2}
    assert "equipment" in refused.get_json()["detail"]
    fresh = _create(api).headers["ETag"]
    assert api.call("DELETE", f"{SITES}/KZN", as_="admin", headers={"If-Match": fresh}).status_code == 204
    assert api.get(f"{SITES}/KZN", as_="admin").status_code == 404
    assert api.get(f"{SITES}/KZN/history", as_="admin").get_json()["items"][-1]["action"] == "deleted"


def _clarify(api: Api, **fields: Any) -> dict[str, Any]:
    number = api.open_ticket(**fields)["number"]
    drain(api.ctx)
    return api.task(number, "clarify", as_="duty")


def test_a_task_shows_where_its_equipment_stands(api: Api) -> None:
    task = _clarify(api)  # IBM-FS5200-0001 stands in DC-2
    assert task["site"] == {
        "code": "DC-2",
        "name": "Data centre 2",
        "address": "Kantemirovskaya st. 5",
        "city": "Saint Petersburg",
        "time_zone": "Europe/Moscow",
        "access_notes": "Engineers on the bank's list only; show a passport at the gate.",
        "working_hours": "24/7",
    }
    assert _clarify(api, equipment_serial="CISCO-C9300-0001")["site"]["code"] == "HQ"
    assert _clarify(api, equipment_serial=None)["site"] is None
    other = {"client": "MEGA-RETAIL", "contact_email": "it@mega-retail.example", "equipment_serial": "DELL-R740-0002"}
    assert _clarify(api, **other)["site"] is None  # equipment without a site


def test_the_site_of_a_task_costs_no_statement_of_its_own(api: Api) -> None:
    on_site = _clarify(api)["id"]
    without = _clarify(api, equipment_serial=None)["id"]
    with counting() as with_site:
        assert api.get(f"/tasks/{on_site}", as_="duty").get_json()["site"]["code"] == "DC-2"
    with counting() as no_site:
        assert api.get(f"/tasks/{without}", as_="duty").get_json()["site"] is None
    assert with_site.total == no_site.total, "\n".join(with_site.texts)


def test_the_rules_see_the_city_of_the_site_and_the_sector_of_the_client(api: Api) -> None:
    etag = api.get("/clients/NORD-BANK", as_="admin").headers["ETag"]
    changed = api.call("PATCH", "/clients/NORD-BANK", as_="admin", json={"sector": "bank"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    on_site = api.open_ticket()["number"]
    nowhere = api.open_ticket(equipment_serial=None)["number"]
    with transaction(api.ctx.sessions) as session:
        facts = {
            ticket.number: ticket_facts(ticket, today=date.today())
            for ticket in session.scalars(select(Ticket).where(Ticket.number.in_([on_site, nowhere])))
        }
    assert facts[on_site]["site_city"] == "Saint Petersburg"
    assert facts[on_site]["client_sector"] == "bank"
    assert facts[nowhere]["site_city"] == ""
    assert facts[nowhere]["client"] == "NORD-BANK"  # the facts that were there stay
