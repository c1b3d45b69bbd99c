"""'My work': the inbox's ticket filters (status, team, client, breach soon), its orders by severity and by SLA time
left, each paged without skipping or repeating a task."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from service.db import transaction, utcnow
from service.sla.models import BREACHED, PAUSED, RESOLUTION, RUNNING, SlaClock
from service.tickets.models import Ticket
from service.tickets.schemas import SEVERITIES
from tests.integration.conftest import Api
from tests.integration.test_flow_api import _per_call
from tests.integration.test_inbox import _open, _open_tasks, _walk
from tests.integration.test_web_pages import _language
from tests.support.signin import csrf_of, sign_in_page
from tests.support.tickets import PER_CALL_TICKET

FAR = datetime(2031, 1, 1, tzinfo=timezone.utc)


def _tickets(api: Api, numbers: list[str], **values: Any) -> None:
    """Set columns of these tickets (as the process would: status, team)."""
    with transaction(api.ctx.sessions) as session:
        session.execute(update(Ticket).where(Ticket.number.in_(numbers)).values(**values))


def _clocks(api: Api, numbers: list[str], *, kind: str | None = None, **values: Any) -> None:
    """Set the SLA clocks of these tickets (all, or those of one kind), making the resolution clock if it is not yet
    there."""
    with transaction(api.ctx.sessions) as session:
        ids = list(session.scalars(select(Ticket.id).where(Ticket.number.in_(numbers))))
        for ticket_id in ids:
            have = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id)).all()
            if not any(clock.kind == RESOLUTION for clock in have) and have:
                first = have[0]
                session.add(
                    SlaClock(
                        ticket_id=ticket_id,
                        kind=RESOLUTION,
                        client_id=first.client_id,
                        service_level=first.service_level,
                        severity=first.severity,
                        calendar_id=first.calendar_id,
                        target_seconds=first.target_seconds,
                        started_at=first.started_at,
                        due_at=FAR,
                    )
                )
        session.flush()
        query = update(SlaClock).where(SlaClock.ticket_id.in_(ids))
        if kind is not None:
            query = query.where(SlaClock.kind == kind)
        session.execute(query.values(**values))


def test_the_ticket_filters_narrow_the_inbox(api: Api) -> None:
    nord, retail, third = _open(api, 3)
    _tickets(api, [retail], status="in_progress", team="servers")
    with transaction(api.ctx.sessions) as session:
        client_id = session.scalar(select(Ticket.client_id).where(Ticket.number == nord))
    assert client_id is not None
    tickets = {item["ticket"] for item in _walk(api, "", as_="admin")}
    assert tickets == {nord, retail, third}
    assert {item["ticket"] for item in _walk(api, "status=in_progress", as_="admin")} == {retail}
    assert {item["ticket"] for item in _walk(api, "team=servers", as_="admin")} == {retail}
    assert _walk(api, "team=servers&status=new", as_="admin") == []
    assert {item["ticket"] for item in _walk(api, "client=NORD-BANK", as_="admin")} == tickets
    assert _walk(api, "client=MEGA-RETAIL", as_="admin") == []
    assert _walk(api, "client=NO-SUCH", as_="admin") == []


def test_breach_soon_keeps_the_tickets_whose_clock_is_due_within_the_hours_or_breached(api: Api) -> None:
    soon, later, breached, paused = _open(api, 4)
    _clocks(api, [soon, later, breached, paused], state=RUNNING, due_at=FAR)
    _clocks(api, [soon], kind=RESOLUTION, due_at=utcnow() + timedelta(hours=2))
    _clocks(api, [later], kind=RESOLUTION, due_at=utcnow() + timedelta(hours=30))
    _clocks(api, [breached], kind=RESOLUTION, state=BREACHED, due_at=utcnow() - timedelta(hours=1))
    _clocks(api, [paused], kind=RESOLUTION, state=PAUSED, due_at=utcnow() + timedelta(hours=1))
    assert {item["ticket"] for item in _walk(api, "breach_soon=4", as_="admin")} == {soon, breached}
    assert {item["ticket"] for item in _walk(api, "breach_soon=48", as_="admin")} == {soon, later, breached}
    assert api.get("/tasks?breach_soon=0", as_="admin").status_code == 422
    assert api.get("/tasks?breach_soon=721", as_="admin").status_code == 422


@pytest.mark.parametrize("sort", ["severity", "sla"])
def test_paging_by_severity_or_sla_never_skips_or_repeats_a_task(api: Api, sort: str) -> None:
    numbers: list[str] = []
    for severity in ("low", "critical", "normal", "high", "critical", "low", "normal"):
        numbers += _open(api, 1, severity=severity)
    # SLA: three share a deadline (a page ends inside the tie), two have no running resolution clock (they come last)
    _clocks(api, numbers, kind=RESOLUTION, state=RUNNING, due_at=FAR)
    _clocks(api, numbers[:3], kind=RESOLUTION, due_at=FAR - timedelta(days=2))
    _clocks(api, numbers[3:5], kind=RESOLUTION, due_at=FAR - timedelta(days=1))
    _clocks(api, numbers[5:], kind=RESOLUTION, state=PAUSED)
    before = _open_tasks(api)
    completed: set[str] = set()

    def churn(page_number: int) -> None:
        _open(api, 1, severity=SEVERITIES[page_number % len(SEVERITIES)], summary=f"New during page {page_number}")
        if page_number < 2:
            victim = numbers[-1 - page_number]
            completed.add(api.task(victim, "clarify", as_="duty")["id"])
            api.complete(victim, "clarify", {"description": "d"}, as_="duty")

    seen = _walk(api, f"sort={sort}&page_size=2&queue=duty", as_="duty", between=churn)
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "a task appeared on two pages"
    assert before - completed <= set(ids)
    if sort == "severity":
        keys: list[Any] = [(SEVERITIES.index(item["severity"]), item["created_at"], item["id"]) for item in seen]
    else:
        keys = [(item["sla_due_at"] is None, item["sla_due_at"] or "", item["id"]) for item in seen]
    assert keys == sorted(keys)
    assert seen[0]["severity"] == "critical" if sort == "severity" else seen[0]["ticket"] in numbers[:3]


@pytest.mark.parametrize(
    "body",
    [
        {"s": "severity", "k": "2026-01-01T00:00:00+00:00", "i": "x"},  # no rank
        {"s": "severity", "k": "2026-01-01T00:00:00+00:00", "i": "x", "r": 9},
        {"s": "severity", "k": "2026-01-01T00:00:00+00:00", "i": "x", "r": True},
        {"s": "severity", "k": None, "i": "x", "r": 0},  # severity has no undated tail
        {"s": "sla", "k": "2026-01-01T00:00:00+00:00", "i": "x", "r": 0},  # a rank only by severity
    ],
)
def test_a_tampered_severity_or_sla_cursor_is_refused(api: Api, body: dict[str, Any]) -> None:
    text = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    assert api.get(f"/tasks?sort={body['s']}&cursor={text}", as_="duty").status_code == 422


def test_a_cursor_of_one_order_is_refused_by_another(api: Api) -> None:
    _open(api, 3)
    for sort, other in (("severity", "created"), ("sla", "due"), ("created", "severity")):
        cursor = api.get(f"/tasks?sort={sort}&page_size=1", as_="duty").get_json()["next"]
        assert api.get(f"/tasks?sort={sort}&page_size=1&cursor={cursor}", as_="duty").status_code == 200
        assert api.get(f"/tasks?sort={other}&cursor={cursor}", as_="duty").status_code == 422


def test_a_person_saves_lists_replaces_and_deletes_their_own_filters(api: Api) -> None:
    saved = api.post("/me/filters", as_="duty", json={"name": "Hot", "query": "?sort=sla&breach_soon=4&team="})
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["query"] == "breach_soon=4&sort=sla"  # only the given keys, in the inbox's order
    again = api.post("/me/filters", as_="duty", json={"name": "Hot", "query": "severity=critical"})
    assert again.get_json()["id"] == saved.get_json()["id"]  # the same name replaces it
    api.post("/me/filters", as_="duty", json={"name": "Apple", "query": "status=new"})
    listed = api.get("/me/filters", as_="duty").get_json()["items"]
    assert [(item["name"], item["query"]) for item in listed] == [("Apple", "status=new"), ("Hot", "severity=critical")]
    assert api.get("/me/filters", as_="manager").get_json()["items"] == []  # only one's own
    own = saved.get_json()["id"]
    assert api.call("DELETE", f"/me/filters/{own}", as_="manager").status_code == 404
    assert api.call("DELETE", f"/me/filters/{own}", as_="duty").status_code == 204
    assert [item["name"] for item in api.get("/me/filters", as_="duty").get_json()["items"]] == ["Apple"]


@pytest.mark.parametrize("query", ["cursor=abc", "page_size=5", "sort=sla&sort=due", "nonsense=1"])
def test_a_saved_filter_holds_only_the_inbox_filters_and_sort(api: Api, query: str) -> None:
    refused = api.post("/me/filters", as_="duty", json={"name": "x", "query": query})
    assert refused.status_code == 422 and "query" in refused.get_data(as_text=True)
    assert api.get("/me/filters", as_="duty").get_json()["items"] == []


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    return app.test_client()


def _rows(page: str) -> list[str]:
    """The ticket numbers of the rows of "My work", in their order."""
    return re.findall(r'<span class="ticket">([^<]+)</span>', page)


def test_my_work_filters_and_orders_by_the_new_filters(browser: FlaskClient, api: Api) -> None:
    low, critical, other = _open(api, 1, severity="low") + _open(api, 1, severity="critical") + _open(api, 1)
    _tickets(api, [other], team="servers", status="in_progress")
    _clocks(api, [low, critical, other], state=RUNNING, due_at=FAR)
    _clocks(api, [low], kind=RESOLUTION, due_at=utcnow() + timedelta(hours=3))
    sign_in_page(browser, api.ctx, "duty")
    assert _rows(browser.get("/").text) == [low, critical, other]
    assert _rows(browser.get("/?sort=severity").text) == [critical, other, low]
    assert _rows(browser.get("/?sort=sla").text)[0] == low
    assert _rows(browser.get("/?breach_soon=4").text) == [low]
    assert _rows(browser.get("/?team=servers").text) == [other]
    assert _rows(browser.get("/?client=MEGA-RETAIL").text) == []
    assert _rows(browser.get("/?status=in_progress&sort=severity").text) == [other]
    shown = browser.get("/work/rows?breach_soon=4&sort=sla")  # the periodic refresh keeps the filters
    assert _rows(shown.text) == [low]


def test_a_saved_filter_is_saved_picked_and_deleted_on_the_page(browser: FlaskClient, api: Api) -> None:
    [critical] = _open(api, 1, severity="critical")
    [low] = _open(api, 1, severity="low")
    sign_in_page(browser, api.ctx, "duty")
    page = browser.get("/?severity=critical&sort=sla").text
    query = html.unescape(re.search(r'name="query" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    assert query == "severity=critical&sort=sla"
    empty = browser.post("/work/filters", data={"csrf": csrf_of(page), "name": " ", "query": query})
    assert empty.status_code == 422 and 'id="filter-error"' in empty.text
    saved = browser.post("/work/filters", data={"csrf": csrf_of(page), "name": "Critical", "query": query})
    assert saved.status_code == 303 and saved.headers["Location"] == "/?severity=critical&sort=sla"
    [item] = api.get("/me/filters", as_="duty").get_json()["items"]  # the page saved it through the API's service
    assert (item["name"], item["query"]) == ("Critical", query)
    assert api.get("/me/filters", as_="manager").get_json()["items"] == []
    assert _rows(browser.get("/").text) == [critical, low]
    picked = browser.get(f"/work/filters?id={item['id']}")
    assert picked.status_code == 303 and picked.headers["Location"] == "/?severity=critical&sort=sla"
    shown = browser.get(picked.headers["Location"]).text
    assert _rows(shown) == [critical] and f'<option value="{item["id"]}" selected>Critical</option>' in shown
    gone = browser.post(f"/work/filters/{item['id']}/delete", data={"csrf": csrf_of(shown)})
    assert gone.status_code == 303 and api.get("/me/filters", as_="duty").get_json()["items"] == []


def test_someone_elses_saved_filter_is_not_theirs_to_pick_or_delete(browser: FlaskClient, api: Api) -> None:
    theirs = api.post("/me/filters", as_="manager", json={"name": "Mine", "query": "severity=low"}).get_json()["id"]
    sign_in_page(browser, api.ctx, "duty")
    assert browser.get(f"/work/filters?id={theirs}").headers["Location"] == "/"
    page = browser.get("/").text
    assert browser.post(f"/work/filters/{theirs}/delete", data={"csrf": csrf_of(page)}).status_code == 404
    assert len(api.get("/me/filters", as_="manager").get_json()["items"]) == 1


def _estimate_task(api: Api) -> str:
    """A per-call ticket waiting for the consultant's estimate: its task id."""
    [number] = _open(api, 1, **PER_CALL_TICKET)
    api.complete(number, "clarify", {"description": "VLAN lost", "category": "configuration"}, as_="duty")
    return str(api.task(number, "estimate", as_="consultant")["id"])


def _total(page: str) -> str:
    found = re.search(r'<output id="estimate-total"[^>]*>([^<]*)</output>', page)
    assert found, page
    return found.group(1)


def test_the_estimate_page_shows_the_price_list_and_the_server_recomputes_the_total(
    browser: FlaskClient, api: Api
) -> None:
    task_id = _estimate_task(api)
    prices = api.get(f"/tasks/{task_id}", as_="consultant").get_json()["price_list"]
    _language(api.ctx, "consultant", "en")
    sign_in_page(browser, api.ctx, "consultant")
    page = browser.get(f"/tasks/{task_id}").text
    for line in prices:  # the API's price list, beside the form
        assert f"<td>{line['item']}</td>" in page and f"{line['price']} {line['currency']}" in page
    assert _total(page) == "0.00" and "estimate.js" in page and "<script>" not in page
    assert 'data-estimate-fields="diagnostics_cost repair_cost parts_cost"' in page
    form = {"csrf": csrf_of(page), "diagnostics_cost": "12000", "repair_cost": "-5", "parts_cost": "1500,5"}
    refused = browser.post(f"/tasks/{task_id}/complete", data=form)
    assert refused.status_code == 422 and 'id="repair_cost-error"' in refused.text  # a negative cost is refused
    assert _total(refused.text) == "13,495.50"  # the server's own sum of what was typed
    form["repair_cost"] = "800"
    done = browser.post(f"/tasks/{task_id}/complete", data=form)
    assert done.status_code == 303, done.text


def test_the_estimate_total_is_the_contracts_total(api: Api) -> None:
    number = _per_call(api)
    api.complete(number, "record_payment", {"accepted": True, "paid": True}, as_="duty")
    [contract] = api.get(f"/one-off-contracts?ticket={number}", as_="admin").get_json()["items"]
    assert contract["total"] == "20000.00"


@pytest.mark.parametrize(("language", "label"), [("ru", "Стоимость диагностики"), ("en", "Diagnostics cost")])
def test_form_labels_are_in_the_persons_language(browser: FlaskClient, api: Api, language: str, label: str) -> None:
    task_id = _estimate_task(api)
    detail = api.get(f"/tasks/{task_id}", as_="consultant").get_json()
    cost = next(field for field in detail["form"] if field["id"] == "diagnostics_cost")
    assert cost["label"] == "Diagnostics cost" and cost["labels"] == {"ru": "Стоимость диагностики"}
    _language(api.ctx, "consultant", language)
    sign_in_page(browser, api.ctx, "consultant")
    page = browser.get(f"/tasks/{task_id}").text
    assert f'<label for="diagnostics_cost">{label} <span class="required">' in page


def test_every_form_field_of_the_shipped_diagram_has_a_russian_label() -> None:
    from service.engine.diagram_model import LABEL_PROPERTIES
    from tests.conftest import ROOT

    text = (ROOT / "processes" / "ticket.bpmn").read_text()
    fields = re.findall(r"<camunda:formField .*?</camunda:formField>", text)
    assert fields and "label_ru" in LABEL_PROPERTIES
    for field in fields:
        assert 'camunda:property id="label_ru" value="' in field, field
