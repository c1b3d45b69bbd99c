"""One-off contracts: a per-call ticket's accepted estimate records one, numbered in its own series; who reads and
who marks it paid; the ticket shows its number."""

from __future__ import annotations

import re
import threading
from datetime import date
from typing import Any

from sqlalchemy import select

from service.auth.models import User
from service.clients.models import Client, OneOffContract
from service.context import Context
from service.db import transaction
from service.prices import one_off
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api

NUMBER = re.compile(r"^PC-(\d{4})-(\d{6})$")


def _estimated(api: Api, estimate: dict[str, Any] | None = None) -> str:
    """A NEW-CLIENT ticket on the per-call route whose estimate the consultant gave."""
    number = api.open_ticket(
        client="NEW-CLIENT",
        contact_email="it@new-client.example",
        equipment_serial="CISCO-C9300-0005",
        category="configuration",
    )["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "VLAN lost", "category": "configuration"}, as_="duty")
    body = estimate or {"diagnostics_cost": 12000, "repair_cost": 8000.5, "notes": "2 h"}
    api.complete(number, "estimate", body, as_="consultant")
    return number


def _accepted(api: Api, *, paid: bool = True, **estimate: Any) -> tuple[str, str]:
    ticket = _estimated(api, estimate or None)
    api.complete(ticket, "record_payment", {"accepted": True, "paid": paid}, as_="duty")
    contract = api.ticket(ticket)["one_off_contract"]
    assert contract is not None
    return ticket, contract


def _sequence(number: str) -> int:
    found = NUMBER.match(number)
    assert found, number
    return int(found.group(2))


def test_the_accepted_estimate_records_a_one_off_contract(api: Api) -> None:
    ticket, number = _accepted(api)
    found = NUMBER.match(number)
    assert found and found.group(1) == str(date.today().year)
    contract = api.get(f"/one-off-contracts/{number}", as_="consultant")
    assert contract.status_code == 200 and contract.headers["ETag"]
    body = contract.get_json()
    assert body["ticket"] == ticket and body["client"] == "NEW-CLIENT"
    assert body["lines"] == [
        {"item": "diagnostics", "quantity": 1, "price": "12000.00", "amount": "12000.00"},
        {"item": "repair", "quantity": 1, "price": "8000.50", "amount": "8000.50"},
    ]
    assert body["total"] == "20000.50" and body["currency"] == "RUB"
    assert body["accepted_by"] == "it@new-client.example" and body["accepted_at"]
    assert body["paid"] is True and body["paid_on"]
    history = api.get(f"/one-off-contracts/{number}/history", as_="manager").get_json()["items"]
    assert [(change["action"], change["actor"]) for change in history] == [("created", "duty")]
    assert history[0]["after"]["ticket"] == ticket and history[0]["after"]["total"] == "20000.50"
    events = api.history(ticket, as_="admin")
    assert {"number": number} in [event["detail"] for event in events if event["kind"] == "one_off_contract"]


def test_a_declined_estimate_records_none(api: Api) -> None:
    ticket = _estimated(api)
    api.complete(ticket, "record_payment", {"accepted": False}, as_="duty")
    assert api.ticket(ticket)["one_off_contract"] is None
    assert api.get(f"/one-off-contracts?ticket={ticket}", as_="admin").get_json()["items"] == []


def test_an_accepted_but_unpaid_estimate_records_an_unpaid_contract(api: Api) -> None:
    ticket, number = _accepted(api, paid=False, diagnostics_cost=5000)
    body = api.get(f"/one-off-contracts/{number}", as_="admin").get_json()
    assert body["paid"] is False and body["paid_on"] is None
    assert body["total"] == "5000.00" and [line["item"] for line in body["lines"]] == ["diagnostics"]
    assert api.ticket(ticket)["status"] == "declined"  # the flow goes on only once it is paid


def test_numbers_are_unique_and_in_series(api: Api) -> None:
    numbers = [_accepted(api)[1] for _ in range(3)]
    assert len(set(numbers)) == 3
    first = _sequence(numbers[0])
    assert [_sequence(number) for number in numbers] == [first, first + 1, first + 2]
    listed = api.get("/one-off-contracts?page_size=2", as_="admin").get_json()
    rest = api.get(f"/one-off-contracts?page_size=2&cursor={listed['next']}", as_="admin").get_json()
    assert [item["number"] for item in listed["items"] + rest["items"]] == numbers


def test_two_acceptances_at_once_get_two_numbers(api: Api, ctx: Context) -> None:
    tickets = [_estimated(api) for _ in range(2)]
    first_numbered, first_may_commit = threading.Event(), threading.Event()
    numbers: dict[str, str] = {}
    failures: list[BaseException] = []

    def accept(ticket_number: str, *, hold: bool) -> None:
        try:
            with transaction(ctx.sessions) as session:
                ticket = session.scalar(select(Ticket).where(Ticket.number == ticket_number))
                assert ticket is not None
                data = {"accepted": True, "paid": True}
                contract = one_off.record_acceptance(
                    session, ticket=ticket, variables={"diagnostics_cost": 100}, data=data, actor="duty"
                )
                numbers[ticket_number] = contract.number
                if hold:
                    first_numbered.set()
                    first_may_commit.wait(timeout=10)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)
            first_numbered.set()

    holder = threading.Thread(target=accept, args=(tickets[0],), kwargs={"hold": True})
    holder.start()
    assert first_numbered.wait(timeout=10)
    other = threading.Thread(target=accept, args=(tickets[1],), kwargs={"hold": False})
    other.start()
    other.join(timeout=0.5)  # it waits for the first to end its transaction
    first_may_commit.set()
    holder.join(timeout=10)
    other.join(timeout=10)
    assert not failures, failures
    assert _sequence(numbers[tickets[1]]) == _sequence(numbers[tickets[0]]) + 1


def test_payment_is_recorded_with_the_version_read(api: Api) -> None:
    _ticket, number = _accepted(api, paid=False)
    path = f"/one-off-contracts/{number}"
    etag = api.get(path, as_="admin").headers["ETag"]
    assert api.call("PATCH", path, as_="admin", json={"paid": True}).status_code == 428
    paid = api.call("PATCH", path, as_="admin", json={"paid": True}, headers={"If-Match": etag})
    assert paid.status_code == 200, paid.get_json()
    assert paid.get_json()["paid"] is True and paid.get_json()["paid_on"]
    stale = api.call("PATCH", path, as_="admin", json={"paid_on": "2026-01-05"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    dated = api.call(
        "PATCH", path, as_="admin", json={"paid_on": "2026-01-05"}, headers={"If-Match": paid.headers["ETag"]}
    )
    assert dated.get_json()["paid_on"] == "2026-01-05"
    assert api.get("/one-off-contracts?paid=true", as_="manager").get_json()["items"][0]["number"] == number
    assert api.get("/one-off-contracts?paid=false", as_="manager").get_json()["items"] == []
    history = api.get(f"{path}/history", as_="admin").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "updated", "updated"]
    assert history[1]["before"] == {"paid": False, "paid_on": None} and history[1]["after"]["paid"] is True
    assert history[2]["actor"] == "admin"
    refused = api.call("PATCH", path, as_="manager", json={"paid": False}, headers={"If-Match": "*"})
    assert refused.status_code == 403


def test_who_reads_the_contracts(api: Api, ctx: Context) -> None:
    _ticket, number = _accepted(api)
    with transaction(ctx.sessions) as session:
        client = session.scalar(select(Client).where(Client.code == "NEW-CLIENT"))
        assert client is not None
        session.add(User(username="newclient", display_name="New Client IT", roles="client", client_id=client.id))
    path = f"/one-off-contracts/{number}"
    for reader in ("admin", "manager", "consultant", "newclient"):
        assert api.get(path, as_=reader).status_code == 200, reader
    assert [item["number"] for item in api.get("/one-off-contracts", as_="newclient").get_json()["items"]] == [number]
    assert api.get(path, as_="nordbank").status_code == 404  # another company's: as if there were none
    assert api.get("/one-off-contracts", as_="nordbank").get_json()["items"] == []
    assert api.get(f"{path}/history", as_="nordbank").status_code == 404
    for outsider in ("duty", "storage.l1", "rmc"):
        assert api.get(path, as_=outsider).status_code == 403, outsider
    assert api.get("/one-off-contracts?client=NEW-CLIENT", as_="admin").get_json()["items"][0]["number"] == number
    assert api.get("/one-off-contracts?client=NORD-BANK", as_="admin").get_json()["items"] == []


def test_deleting_a_price_the_estimate_was_priced_from_keeps_the_contract(api: Api, ctx: Context) -> None:
    _ticket, number = _accepted(api)
    prices = api.get("/price-list?class=network&item=diagnostics", as_="admin").get_json()["items"]
    for price in prices:
        gone = api.call("DELETE", f"/price-list/{price['id']}", as_="admin", headers={"If-Match": "*"})
        assert gone.status_code == 204
    assert api.get(f"/one-off-contracts/{number}", as_="admin").get_json()["lines"][0]["price"] == "12000.00"
    with transaction(ctx.sessions) as session:
        assert session.scalar(select(OneOffContract.total).where(OneOffContract.number == number)) is not None
