"""Every list pages by keyset: rows added (and tickets moved) between pages never make a row of the start skipped or
repeated; a cursor this service did not write, a page too large and `page`/`offset` are 422; a page costs the same
number of statements whatever its size."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bench.steps import counting
from service.db import transaction
from service.jobs.models import FAILED, Job
from service.processes.models import ProcessDefinition
from service.rulesets.models import RulesetVersion
from service.sla.models import BreachReview, SlaEvent, TimeEntry
from service.tickets.models import HistoryEvent, Ticket
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.incidents import fail_job

SAME_MOMENT = datetime(2026, 1, 1, tzinfo=timezone.utc)
DUE = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _walk(api: Api, path: str, *, as_: str, page_size: int, between: Callable[[int], None] | None = None) -> list[Any]:
    """Every item of every page of `path`, calling `between(page_number)` after each page but the last."""
    seen: list[Any] = []
    cursor: str | None = None
    join = "&" if "?" in path else "?"
    for page_number in range(200):
        query = f"{path}{join}page_size={page_size}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(query, as_=as_)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "next"}
        assert len(body["items"]) <= page_size
        seen += body["items"]
        cursor = body["next"]
        if cursor is None:
            return seen
        if between is not None:
            between(page_number)
    raise AssertionError("the pages never ended")


def _tickets(api: Api, count: int) -> list[str]:
    numbers = [api.open_ticket(summary=f"Listed {n}")["number"] for n in range(count)]
    drain(api.ctx)
    return numbers


def _ticket_ids(api: Api, numbers: list[str]) -> list[int]:
    with api.ctx.sessions() as session:
        return list(session.scalars(select(Ticket.id).where(Ticket.number.in_(numbers)).order_by(Ticket.id)))


def _same_creation(api: Api, numbers: list[str]) -> None:
    """Tickets made in the same instant: the id must break the tie."""
    with transaction(api.ctx.sessions) as session:
        session.execute(update(Ticket).where(Ticket.number.in_(numbers)).values(created_at=SAME_MOMENT))


def _statements(api: Api, path: str, *, as_: str) -> dict[int, int]:
    """The statements of the first page of `path` at page sizes 5 and 50."""
    join = "&" if "?" in path else "?"
    api.get(f"{path}{join}page_size=5", as_=as_)  # warm: the caller's token, the process's caches
    counts = {}
    for size in (5, 50):
        with counting() as seen:
            response = api.get(f"{path}{join}page_size={size}", as_=as_)
        assert response.status_code == 200, response.get_json()
        assert len(response.get_json()["items"]) > 5 if size == 50 else len(response.get_json()["items"]) == 5
        counts[size] = seen.total
    return counts


# ---- tickets


def test_ticket_pages_never_skip_or_repeat_while_tickets_are_opened_and_move(api: Api) -> None:
    numbers = _tickets(api, 9)
    _same_creation(api, numbers[2:6])
    at_start = {t["number"] for t in _walk(api, "/tickets", as_="admin", page_size=200)}
    moved: list[str] = []

    def churn(page_number: int) -> None:
        api.open_ticket(summary=f"New during page {page_number}")
        victim = numbers[page_number]
        with transaction(api.ctx.sessions) as session:
            session.execute(update(Ticket).where(Ticket.number == victim).values(status="in_progress", team="x"))
        moved.append(victim)

    seen = [t["number"] for t in _walk(api, "/tickets", as_="admin", page_size=2, between=churn)]
    assert len(seen) == len(set(seen)), "a ticket was listed twice"
    assert at_start <= set(seen), f"skipped: {sorted(at_start - set(seen))}"
    assert moved


def test_tickets_are_newest_first_and_ties_are_ordered_by_number(api: Api) -> None:
    numbers = _tickets(api, 4)
    _same_creation(api, numbers[1:3])
    listed = [t["number"] for t in _walk(api, "/tickets", as_="admin", page_size=1) if t["number"] in numbers]
    assert listed == [numbers[3], numbers[0], numbers[2], numbers[1]]


def test_the_filters_hold_on_every_page(api: Api) -> None:
    numbers = _tickets(api, 5)
    critical = [api.open_ticket(severity="critical")["number"] for _ in range(3)]
    seen = [t for t in _walk(api, "/tickets?severity=critical", as_="admin", page_size=1)]
    assert [t["number"] for t in seen] == critical[::-1]
    assert {t["severity"] for t in seen} == {"critical"}
    by_client = _walk(api, "/tickets?client=NORD-BANK&status=new", as_="admin", page_size=2)
    assert {t["client"] for t in by_client} <= {"NORD-BANK"} and {t["status"] for t in by_client} <= {"new"}
    assert not set(numbers) & {t["number"] for t in _walk(api, "/tickets?client=MEGA-RETAIL", as_="admin", page_size=3)}


def test_a_client_user_pages_through_only_their_own(api: Api) -> None:
    own = [api.open_ticket(as_="nordbank", client=None)["number"] for _ in range(3)]
    api.open_ticket(client="MEGA-RETAIL", contact_email="it@mega-retail.example", equipment_serial=None)
    assert [t["number"] for t in _walk(api, "/tickets", as_="nordbank", page_size=2)] == own[::-1]


def test_a_ticket_page_is_one_query_whatever_its_size(api: Api) -> None:
    _tickets(api, 8)
    counts = _statements(api, "/tickets", as_="admin")
    assert counts[5] == counts[50], counts


# ---- a ticket's history


def _add_events(api: Api, number: str, count: int, start: int = 0) -> None:
    with transaction(api.ctx.sessions) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        for n in range(start, start + count):
            session.add(HistoryEvent(ticket_id=ticket_id, actor="test", kind="note", detail={"n": n}, at=SAME_MOMENT))


def _event_key(event: dict[str, Any]) -> str:
    return json.dumps([event["at"], event["actor"], event["kind"], event["detail"]], sort_keys=True)


def test_history_pages_never_skip_or_repeat_while_events_are_added(api: Api) -> None:
    [number] = _tickets(api, 1)
    _add_events(api, number, 7)
    at_start = [_event_key(e) for e in _walk(api, f"/tickets/{number}/history", as_="admin", page_size=200)]

    def churn(page_number: int) -> None:
        _add_events(api, number, 1, start=100 + page_number)

    seen = [_event_key(e) for e in _walk(api, f"/tickets/{number}/history", as_="admin", page_size=3, between=churn)]
    assert seen[: len(at_start)] == at_start, "oldest first, nothing skipped or repeated"
    assert len(seen) == len(set(seen))


def test_a_history_page_is_one_query_whatever_its_size(api: Api) -> None:
    [number] = _tickets(api, 1)
    _add_events(api, number, 12)
    counts = _statements(api, f"/tickets/{number}/history", as_="admin")
    assert counts[5] == counts[50], counts


# ---- incidents


def _fail_jobs(api: Api, count: int) -> None:
    """Make `count` finished jobs failed ones, as a job that failed every attempt is."""
    with transaction(api.ctx.sessions) as session:
        jobs = list(session.scalars(select(Job).where(Job.status != FAILED).order_by(Job.id.desc()).limit(count)))
        for job in jobs:
            fail_job(session, job, "boom")


def test_incident_pages_never_skip_or_repeat_while_jobs_fail(api: Api) -> None:
    _tickets(api, 8)
    _fail_jobs(api, 5)
    at_start = {i["id"] for i in _walk(api, "/incidents", as_="manager", page_size=200)}

    def churn(page_number: int) -> None:
        _tickets(api, 1)
        _fail_jobs(api, 1)

    seen = [i["id"] for i in _walk(api, "/incidents", as_="manager", page_size=2, between=churn)]
    assert len(seen) == len(set(seen)) and at_start <= set(seen)
    assert seen == sorted(seen)
    assert all(i["ticket"].startswith("SD-") for i in _walk(api, "/incidents", as_="manager", page_size=3))


def test_an_incident_page_is_one_query_whatever_its_size(api: Api) -> None:
    _tickets(api, 8)
    _fail_jobs(api, 8)
    counts = _statements(api, "/incidents", as_="manager")
    assert counts[5] == counts[50], counts


# ---- breach reviews


def _reviews(api: Api, numbers: list[str], *, created_at: datetime | None = None) -> None:
    with transaction(api.ctx.sessions) as session:
        for ticket in session.scalars(select(Ticket).where(Ticket.number.in_(numbers))):
            for clock in ("reaction", "resolution"):
                sla_event = SlaEvent(ticket_id=ticket.id, clock=clock, kind="test-breach", due_at=DUE)
                session.add(sla_event)
                session.flush()
                review = BreachReview(ticket_id=ticket.id, event_id=sla_event.id, clock=clock, due_at=DUE)
                if created_at is not None:
                    review.created_at = created_at
                session.add(review)


def test_review_pages_never_skip_or_repeat_while_reviews_open_and_close(api: Api) -> None:
    numbers = _tickets(api, 5)
    _reviews(api, numbers[:2], created_at=SAME_MOMENT)
    _reviews(api, numbers[2:])
    at_start = {r["id"] for r in _walk(api, "/sla/reviews?state=all", as_="manager", page_size=200)}

    def churn(page_number: int) -> None:
        _reviews(api, _tickets(api, 1))
        with transaction(api.ctx.sessions) as session:
            first = session.scalar(
                select(BreachReview.id).where(BreachReview.state == "open").order_by(BreachReview.id)
            )
            session.execute(update(BreachReview).where(BreachReview.id == first).values(state="completed"))

    seen = [r["id"] for r in _walk(api, "/sla/reviews?state=all", as_="manager", page_size=3, between=churn)]
    assert len(seen) == len(set(seen)) and at_start <= set(seen)
    page = _walk(api, "/sla/reviews", as_="manager", page_size=4)
    assert {r["state"] for r in page} == {"open"}
    assert all(r["title"].endswith(f"{r['ticket']} missed?") for r in page)


def test_a_review_page_is_one_query_whatever_its_size(api: Api) -> None:
    _reviews(api, _tickets(api, 6))
    counts = _statements(api, "/sla/reviews", as_="manager")
    assert counts[5] == counts[50], counts


# ---- time entries


def _entries(api: Api, number: str, count: int, *, day: date, engineer: str = "storage.l1") -> None:
    with transaction(api.ctx.sessions) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        for _ in range(count):
            session.add(TimeEntry(ticket_id=ticket_id, engineer=engineer, day=day, hours=Decimal("1.5"), kind="remote"))


def test_time_entry_pages_never_skip_or_repeat_while_time_is_booked(api: Api) -> None:
    [number] = _tickets(api, 1)
    _entries(api, number, 5, day=date(2026, 3, 2))  # one day: the id breaks the tie
    _entries(api, number, 3, day=date(2026, 3, 1))
    _entries(api, number, 2, day=date(2026, 3, 3), engineer="servers.l1")
    at_start = {e["id"] for e in _walk(api, "/sla/time-entries", as_="manager", page_size=200)}

    def churn(page_number: int) -> None:
        _entries(api, number, 1, day=date(2026, 3, 2))
        _entries(api, number, 1, day=date(2026, 2, 1))

    seen = _walk(api, "/sla/time-entries", as_="manager", page_size=3, between=churn)
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) and at_start <= set(ids)
    assert [e["day"] for e in seen] == sorted(e["day"] for e in seen) or any(e["day"] == "2026-02-01" for e in seen)
    own = _walk(api, "/sla/time-entries?from=2026-03-02", as_="storage.l1", page_size=2)
    assert {e["engineer"] for e in own} == {"storage.l1"} and {e["ticket"] for e in own} == {number}
    assert min(e["day"] for e in own) == "2026-03-02"


def test_a_time_entry_page_is_one_query_whatever_its_size(api: Api) -> None:
    [number] = _tickets(api, 1)
    _entries(api, number, 12, day=date(2026, 3, 2))
    counts = _statements(api, "/sla/time-entries", as_="manager")
    assert counts[5] == counts[50], counts


# ---- process and ruleset versions


def _versions(api: Api, kind: str, count: int) -> None:
    """Versions added as a deployment or a publication adds them (the lists do not read their content)."""
    with transaction(api.ctx.sessions) as session:
        if kind == "process":
            newest = session.scalar(
                select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == "ticket")
            )
            for n in range(newest + 1, newest + 1 + count):
                session.add(ProcessDefinition(key="ticket", version=n, content_hash=f"test-{n}", xml="<x/>"))
        else:
            newest = session.scalar(select(func.max(RulesetVersion.version)).where(RulesetVersion.name == "routing"))
            for n in range(newest + 1, newest + 1 + count):
                session.add(RulesetVersion(name="routing", version=n, content_hash=f"test-{n}", text="x"))


VERSIONS = [
    ("process", "/process-definitions/ticket/versions", "owner"),
    ("ruleset", "/rulesets/routing/versions", "analyst"),
]


@pytest.mark.parametrize(("kind", "path", "as_"), VERSIONS)
def test_version_pages_never_skip_or_repeat_while_versions_are_added(api: Api, kind: str, path: str, as_: str) -> None:
    _versions(api, kind, 6)
    at_start = [v["version"] for v in _walk(api, path, as_=as_, page_size=200)]

    def churn(page_number: int) -> None:
        _versions(api, kind, 1)

    seen = [v["version"] for v in _walk(api, path, as_=as_, page_size=2, between=churn)]
    assert seen == at_start, "newest first; the versions added meanwhile are newer than the first page"
    assert seen == sorted(seen, reverse=True) and len(seen) >= 7


def test_only_the_newest_process_version_is_the_latest(api: Api) -> None:
    api.open_ticket()
    _versions(api, "process", 3)
    listed = _walk(api, "/process-definitions/ticket/versions", as_="owner", page_size=1)
    assert [v["latest"] for v in listed] == [True] + [False] * (len(listed) - 1)
    assert listed[-1]["tickets_total"] == listed[-1]["tickets_open"] == 1
    assert all(v["tickets_total"] == 0 for v in listed[:-1])


@pytest.mark.parametrize(("kind", "path", "as_"), VERSIONS)
def test_a_version_page_is_one_query_whatever_its_size(api: Api, kind: str, path: str, as_: str) -> None:
    _versions(api, kind, 8)
    counts = _statements(api, path, as_=as_)
    assert counts[5] == counts[50], counts


# ---- refusals, the same for every list

LISTS = [
    ("/tickets", "admin"),
    ("/process-definitions/ticket/versions", "owner"),
    ("/rulesets/routing/versions", "analyst"),
    ("/incidents", "manager"),
    ("/sla/reviews", "manager"),
    ("/sla/time-entries", "manager"),
]


def _cursor(body: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


@pytest.fixture
def history_path(api: Api) -> str:
    return f"/tickets/{api.open_ticket()['number']}/history"


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "e30",  # {}
        _cursor({"l": "tickets"}),
        _cursor({"l": "another-list", "k": ["2026-01-01T00:00:00+00:00", 1]}),
        _cursor({"l": "tickets", "k": ["not a time", 1]}),
        _cursor({"l": "tickets", "k": ["2026-01-01T00:00:00", 1]}),
        _cursor({"l": "tickets", "k": ["2026-01-01T00:00:00+00:00", "1"]}),
        _cursor({"l": "tickets", "k": ["2026-01-01T00:00:00+00:00", True]}),
        _cursor({"l": "tickets", "k": ["2026-01-01T00:00:00+00:00"]}),
        "A" * 5000,
    ],
)
@pytest.mark.parametrize(("path", "as_"), LISTS)
def test_a_cursor_this_list_did_not_write_is_a_422(api: Api, path: str, as_: str, cursor: str) -> None:
    response = api.get(f"{path}?cursor={cursor}", as_=as_)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "cursor" in json.dumps(response.get_json())


def test_a_history_cursor_is_checked_too(api: Api, history_path: str) -> None:
    for cursor in ("garbage!", _cursor(["x"]), _cursor({"l": "tickets", "k": ["2026-01-01T00:00:00+00:00", 1]})):
        response = api.get(f"{history_path}?cursor={cursor}", as_="admin")
        assert response.status_code == 422, (cursor, response.get_data(as_text=True))


def test_the_cursor_of_one_list_is_refused_by_another(api: Api) -> None:
    _tickets(api, 3)
    ticket_cursor = api.get("/tickets?page_size=1", as_="admin").get_json()["next"]
    assert ticket_cursor
    assert api.get(f"/sla/reviews?cursor={ticket_cursor}", as_="manager").status_code == 422


@pytest.mark.parametrize(("path", "as_"), LISTS)
def test_a_page_over_the_cap_is_a_422(api: Api, path: str, as_: str) -> None:
    assert api.get(f"{path}?page_size=200", as_=as_).status_code == 200
    for size in ("201", "0", "99999999999999999999"):
        response = api.get(f"{path}?page_size={size}", as_=as_)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert "page_size" in response.get_json()["errors"]


def test_a_history_page_over_the_cap_is_a_422(api: Api, history_path: str) -> None:
    assert api.get(f"{history_path}?page_size=201", as_="admin").status_code == 422


@pytest.mark.parametrize(("path", "as_"), [*LISTS, ("/tickets/SD-000001/history", "admin")])
@pytest.mark.parametrize("parameter", ["page=2", "offset=50"])
def test_page_and_offset_are_refused_naming_the_cursor(api: Api, path: str, as_: str, parameter: str) -> None:
    api.open_ticket()
    response = api.get(f"{path}?{parameter}", as_=as_)
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.get_json()["errors"]
    [name] = errors
    assert name == parameter.split("=")[0] and "cursor" in errors[name][0]
