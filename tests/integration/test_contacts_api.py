"""A client's contacts over the API: list, search, read, create, change with If-Match, confirm, merge, deactivate,
delete, history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api

CONTACTS = "/clients/NORD-BANK/contacts"
IT = "it@nord-bank.example"
NEW = {"email": "Anna.Petrova@Nord-Bank.example", "name": "Анна Петрова", "phone": "+7 495 000-00-00"}


def _create(api: Api, *, as_: str = "duty", **fields: Any) -> Any:
    return api.post(CONTACTS, as_=as_, json={**NEW, **fields})


def _etag(api: Api, email: str) -> str:
    return str(api.get(f"{CONTACTS}/{email}", as_="admin").headers["ETag"])


def _patch(api: Api, email: str, body: dict[str, Any], etag: str | None, *, as_: str = "duty") -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"{CONTACTS}/{email}", as_=as_, json=body, headers=headers)


def _history(api: Api, email: str) -> list[dict[str, Any]]:
    return list(api.get(f"{CONTACTS}/{email}/history", as_="manager").get_json()["items"])


def test_a_duty_officer_creates_a_contact_stored_lower_cased(api: Api) -> None:
    created = _create(api)
    assert created.status_code == 201, created.get_json()
    assert created.get_json() == {
        "email": "anna.petrova@nord-bank.example",
        "name": "Анна Петрова",
        "phone": "+7 495 000-00-00",
        "position": "",
        "language": "ru",
        "confirmed": True,
        "portal_access": False,
        "active": True,
    }
    read = api.get(f"{CONTACTS}/ANNA.PETROVA@nord-bank.example", as_="consultant")  # any case finds it
    assert read.status_code == 200 and read.headers["ETag"] == created.headers["ETag"]
    found = api.get(f"{CONTACTS}?q=петрова", as_="manager").get_json()["items"]
    assert [contact["email"] for contact in found] == ["anna.petrova@nord-bank.example"]
    assert _history(api, "anna.petrova@nord-bank.example")[0]["actor"] == "duty"


def test_a_duplicate_address_in_the_client_is_a_conflict(api: Api) -> None:
    assert _create(api).status_code == 201
    again = _create(api, email="ANNA.PETROVA@nord-bank.example")
    assert again.status_code == 409 and "anna.petrova@nord-bank.example" in again.get_json()["detail"]
    assert api.post("/clients/MEGA-RETAIL/contacts", as_="duty", json=NEW).status_code == 201  # another client


@pytest.mark.parametrize(
    ("field", "value"), [("email", "not-an-address"), ("language", "de"), ("phone", "1" * 41), ("confirmed", "maybe")]
)
def test_bad_fields_are_refused_naming_the_field(api: Api, field: str, value: str) -> None:
    response = _create(api, **{field: value})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_the_address_is_not_changed_by_a_patch(api: Api) -> None:
    response = _patch(api, IT, {"email": "other@nord-bank.example"}, _etag(api, IT))
    assert response.status_code == 422 and "email" in response.get_json()["errors"]


def test_a_change_needs_the_version_read_and_a_stale_one_is_refused(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    email = "anna.petrova@nord-bank.example"
    assert _patch(api, email, {"position": "CIO"}, None).status_code == 428
    first = _patch(api, email, {"position": "CIO"}, etag)
    assert first.status_code == 200, first.get_json()
    assert _patch(api, email, {"position": "CTO"}, etag).status_code == 412
    assert api.get(f"{CONTACTS}/{email}", as_="admin").get_json()["position"] == "CIO"
    assert _patch(api, email, {"language": "en"}, first.headers["ETag"]).status_code == 200


def test_who_may_read_and_change_contacts(api: Api) -> None:
    etag = _create(api, as_="admin").headers["ETag"]
    email = "anna.petrova@nord-bank.example"
    for role in ("manager", "consultant", "storage.l1", "nordbank", "intake"):
        assert _create(api, as_=role, email=f"{role}@nord-bank.example").status_code == 403, role
        assert _patch(api, email, {"position": "x"}, etag, as_=role).status_code == 403, role
    assert api.get(CONTACTS, as_="storage.l1").status_code == 403
    assert api.get(f"{CONTACTS}/{email}", as_="nordbank").status_code == 403
    assert api.call("DELETE", f"{CONTACTS}/{email}", as_="duty", headers={"If-Match": etag}).status_code == 403
    merge = api.post(f"{CONTACTS}/{email}/merge", as_="manager", json={"into": IT})
    assert merge.status_code == 403
    assert api.get(CONTACTS, as_="consultant").status_code == 200


def test_unknown_clients_and_contacts_are_not_found(api: Api) -> None:
    assert api.get("/clients/NOBODY/contacts", as_="admin").status_code == 404
    assert api.get(f"{CONTACTS}/nobody@nord-bank.example", as_="admin").status_code == 404
    assert api.get(f"/clients/MEGA-RETAIL/contacts/{IT}", as_="admin").status_code == 404  # NORD-BANK's


def test_intakes_unconfirmed_contacts_wait_for_the_duty_officer(api: Api) -> None:
    number = api.open_ticket(as_="intake", contact_email="New.Person@Nord-Bank.example", channel="email")["number"]
    waiting = api.get(f"{CONTACTS}?confirmed=false", as_="duty").get_json()["items"]
    assert [contact["email"] for contact in waiting] == ["new.person@nord-bank.example"]
    assert IT in [contact["email"] for contact in api.get(f"{CONTACTS}?confirmed=true", as_="duty").get_json()["items"]]
    confirmed = _patch(
        api, "new.person@nord-bank.example", {"confirmed": True}, _etag(api, "new.person@nord-bank.example")
    )
    assert confirmed.status_code == 200 and confirmed.get_json()["confirmed"] is True
    assert api.get(f"{CONTACTS}?confirmed=false", as_="duty").get_json()["items"] == []
    history = _history(api, "new.person@nord-bank.example")
    assert history[-1]["action"] == "updated" and history[-1]["actor"] == "duty"
    assert history[-1]["before"] == {"confirmed": False} and history[-1]["after"] == {"confirmed": True}
    assert api.ticket(number)["contact_confirmed"] is True


def test_confirming_through_the_ticket_is_in_the_contacts_history(api: Api) -> None:
    number = api.open_ticket(contact_email="someone@nord-bank.example")["number"]
    assert api.post(f"/tickets/{number}/contact/confirm", as_="duty").get_json()["contact_confirmed"] is True
    history = _history(api, "someone@nord-bank.example")
    assert [change["action"] for change in history] == ["created", "updated"]
    assert history[0]["actor"] == "duty" and history[0]["after"]["confirmed"] is False  # the ticket created it
    assert history[1]["after"] == {"confirmed": True} and history[1]["actor"] == "duty"
    assert api.post(f"/tickets/{number}/contact/confirm", as_="duty").status_code == 200
    assert len(_history(api, "someone@nord-bank.example")) == 2  # twice changes nothing


def test_merging_moves_the_tickets_and_deactivates_the_merged_contact(api: Api) -> None:
    duplicate = "i.ivanov@nord-bank.example"
    first = api.open_ticket(as_="intake", contact_email=duplicate)["number"]
    second = api.open_ticket(as_="intake", contact_email=duplicate)["number"]
    untouched = api.open_ticket()["number"]
    merged = api.post(f"{CONTACTS}/{duplicate}/merge", as_="duty", json={"into": "IT@nord-bank.example"})
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["email"] == IT and merged.headers["ETag"]
    for number in (first, second):
        assert api.ticket(number)["contact_email"] == IT
        events = api.history(number, as_="duty")
        moved = [event for event in events if event["kind"] == "contact_merged"]
        assert len(moved) == 1 and moved[0]["actor"] == "duty"
        assert moved[0]["detail"] == {"from": duplicate, "to": IT}
    untouched_events = api.history(untouched, as_="duty")
    assert "contact_merged" not in [event["kind"] for event in untouched_events]
    assert api.get(f"{CONTACTS}/{duplicate}", as_="duty").get_json()["active"] is False
    gone = _history(api, duplicate)[-1]
    assert gone["action"] == "merged" and gone["actor"] == "duty"
    assert gone["before"] == {"active": True}
    assert gone["after"] == {"active": False, "merged_into": IT, "tickets": [first, second]}
    kept = _history(api, IT)[-1]
    assert kept["action"] == "merged" and kept["after"] == {"merged_from": duplicate, "tickets": [first, second]}


def test_a_merge_needs_another_active_contact_of_the_same_client(api: Api) -> None:
    assert _create(api).status_code == 201
    email = "anna.petrova@nord-bank.example"
    itself = api.post(f"{CONTACTS}/{email}/merge", as_="duty", json={"into": email.upper()})
    assert itself.status_code == 422 and "into" in itself.get_json()["errors"]
    foreign = api.post(f"{CONTACTS}/{email}/merge", as_="duty", json={"into": "it@mega-retail.example"})
    assert foreign.status_code == 422 and "into" in foreign.get_json()["errors"]
    assert api.post(f"{CONTACTS}/{email}/merge", as_="duty", json={"into": "x"}).status_code == 422
    assert _create(api, email="old@nord-bank.example", active=False).status_code == 201
    inactive = api.post(f"{CONTACTS}/{email}/merge", as_="duty", json={"into": "old@nord-bank.example"})
    assert inactive.status_code == 409
    assert api.get(f"{CONTACTS}/{email}", as_="duty").get_json()["active"] is True  # refusals change nothing


def test_a_contact_tickets_name_is_not_deleted(api: Api) -> None:
    api.open_ticket()
    refused = api.call("DELETE", f"{CONTACTS}/{IT}", as_="admin", headers={"If-Match": _etag(api, IT)})
    assert refused.status_code == 409
    assert refused.get_json()["references"]["ticket"] >= 1
    assert "ticket" in refused.get_json()["detail"]
    etag = _create(api).headers["ETag"]
    email = "anna.petrova@nord-bank.example"
    assert api.call("DELETE", f"{CONTACTS}/{email}", as_="admin", headers={"If-Match": etag}).status_code == 204
    assert api.get(f"{CONTACTS}/{email}", as_="admin").status_code == 404
    assert [change["action"] for change in _history(api, email)] == ["created", "deleted"]


def test_deactivating_keeps_the_contact_and_the_filter_sees_it(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    email = "anna.petrova@nord-bank.example"
    assert _patch(api, email, {"active": False}, etag).status_code == 200
    inactive = api.get(f"{CONTACTS}?active=false", as_="admin").get_json()["items"]
    assert [contact["email"] for contact in inactive] == [email]
    assert [change["action"] for change in _history(api, email)] == ["created", "deactivated"]


def test_pages_of_contacts_never_repeat(api: Api) -> None:
    for index in range(5):
        assert _create(api, email=f"p{index}@nord-bank.example").status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get(f"{CONTACTS}?page_size=2" + (f"&cursor={cursor}" if cursor else ""), as_="admin").get_json()
        seen += [contact["email"] for contact in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6 and seen == sorted(seen)
