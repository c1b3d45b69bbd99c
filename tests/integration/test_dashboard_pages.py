"""The managers' dashboard through the Flask client: the figures match the tickets the test opened, the charts'
CSV links answer the same numbers, a breach is reviewed from its page, an incident is retried from the page, the
API's refusal is the page's, in Russian and English."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import re
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from adapters.mail import SmtpMailer
from service.context import Context
from service.db import utcnow
from service.sla.firing import run_due_event
from service.sla.models import BreachReview, TimeEntry
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.signin import csrf_of, sign_in_page
from tests.support.smtp import free_port
from tests.support.starts import side_process

CLARIFY = {"description": "Controller B failed", "category": "hardware"}
MEGA = {"client": "MEGA-RETAIL", "contact_email": "it@mega-retail.example", "equipment_serial": "DELL-R740-0002"}
_ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td class=\"number\">(\d+)</td></tr>")


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    return app.test_client()


def _section(page: str, element_id: str) -> str:
    """The HTML of the element with this id up to its closing tag (tables and lists of the dashboard)."""
    start = page.index(f'id="{element_id}"')
    tag = page[page.rindex("<", 0, start) + 1 : start].split()[0]
    return page[start : page.index(f"</{tag}>", start)]


def _link(page: str, text: str) -> str:
    found = re.search(r'<a href="([^"]+)" download>' + re.escape(text) + "</a>", page)
    assert found, text
    return html.unescape(found.group(1))


def _breach_everything(ctx: Context) -> list[int]:
    """Fire every due event as if two months had passed: each open clock breaches and opens a review."""
    later = utcnow() + timedelta(days=60)
    while run_due_event(ctx, now=later) is not None:
        pass
    with ctx.sessions() as session:
        return list(session.scalars(select(BreachReview.id).order_by(BreachReview.id)))


def test_a_manager_sees_the_open_tickets_per_team_level_and_status(
    browser: FlaskClient, ctx: Context, api: Api
) -> None:
    storage = api.open_ticket()["number"]
    servers = api.open_ticket(**MEGA)["number"]
    waiting = api.open_ticket()["number"]
    solved = api.open_ticket()["number"]
    drain(ctx)
    for number in (storage, servers, solved):
        api.complete(number, "clarify", CLARIFY, as_="duty")
    api.complete(solved, "resolve", {"outcome": "solved", "hours": 1}, as_="storage.l1")
    assert api.ticket(solved)["status"] == "closed"  # no longer open: not counted
    tickets = [api.ticket(number) for number in (storage, servers, waiting)]
    assert {t["team"] for t in tickets[:2]} == {"storage", "servers"}
    sign_in_page(browser, ctx, "manager", language="en")
    page = browser.get("/dashboard")
    assert page.status_code == 200
    shown = Counter()
    for team, level, status, count in _ROW.findall(_section(page.text, "open-tickets")):
        shown[(team, level, status)] += int(count)
    expected = Counter((t["team"] or "—", str(t["level"] or "—"), t["status"].replace("_", " ")) for t in tickets)
    assert shown == expected
    assert 'Open tickets: <span class="count">3</span>' in page.text

    # The CSV link of the open tickets is the API's answer with the same numbers.
    answer = browser.get(_link(page.text, "Download open tickets as CSV"))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert Counter({(r["team"], r["level"], r["status"]): int(r["tickets"]) for r in rows}) == Counter(
        (t["team"] or "", str(t["level"] or ""), t["status"]) for t in tickets
    )
    same = api.get("/reports/open-tickets", as_="manager").get_json()
    assert same["summary"]["tickets"] == 3 and same["summary"]["by_team"]["storage"] == 1
    narrowed = api.get("/reports/open-tickets?team=servers", as_="manager").get_json()
    assert narrowed["summary"] == {"tickets": 1, "by_team": {"servers": 1}}


def test_only_managers_see_the_dashboard(browser: FlaskClient, ctx: Context, api: Api) -> None:
    sign_in_page(browser, ctx, "duty", language="en")
    refused = browser.get("/dashboard")
    assert refused.status_code == 403 and "This was refused" in refused.text
    assert 'href="/dashboard"' not in browser.get("/").text
    assert api.get("/reports/open-tickets", as_="duty").status_code == 403
    manager = browser.application.test_client()
    sign_in_page(manager, ctx, "manager", language="en")
    assert 'href="/dashboard"' in manager.get("/").text
    assert browser.get("/dashboard/reviews/1").status_code == 403


def test_a_breach_shows_at_risk_and_is_reviewed_from_its_page(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(ctx)
    sign_in_page(browser, ctx, "manager", language="ru")
    calm = browser.get("/dashboard?hours=744")  # its deadlines are within a month: at risk, not breached yet
    assert number in _section(calm.text, "at-risk") and "нарушен" not in _section(calm.text, "at-risk")
    assert 'id="reviews"' not in calm.text
    assert number not in _section(browser.get("/dashboard?hours=1").text, "risk-heading")
    reviews = _breach_everything(ctx)
    assert reviews
    page = browser.get("/dashboard?hours=1")
    risky = _section(page.text, "at-risk")
    assert number in risky and "нарушен" in risky
    listed = _section(page.text, "reviews")
    assert f"/dashboard/reviews/{reviews[0]}" in listed and number in listed

    review = browser.get(f"/dashboard/reviews/{reviews[0]}")
    assert review.status_code == 200 and number in review.text
    empty = browser.post(
        f"/dashboard/reviews/{reviews[0]}/complete", data={"reason": "", "comment": "", "csrf": csrf_of(review.text)}
    )
    assert empty.status_code == 422
    assert 'id="reason-error"' in empty.text and 'id="comment-error"' in empty.text
    assert "Выберите, почему срок был пропущен." in empty.text
    wrong = browser.post(
        f"/dashboard/reviews/{reviews[0]}/complete",
        data={"reason": "late", "comment": "x", "csrf": csrf_of(review.text)},
    )
    assert wrong.status_code == 422 and 'id="reason-error"' in wrong.text and 'id="comment-error"' not in wrong.text
    claimed = browser.post(f"/dashboard/reviews/{reviews[0]}/claim", data={"csrf": csrf_of(review.text)})
    assert claimed.status_code == 303
    assert api.get(f"/sla/reviews/{reviews[0]}", as_="manager").get_json()["claimed_by"] == "manager"
    data = {"reason": "capacity", "comment": "both engineers were on site", "csrf": csrf_of(review.text)}
    done = browser.post(f"/dashboard/reviews/{reviews[0]}/complete", data=data)
    assert done.status_code == 303
    recorded = api.get(f"/sla/reviews/{reviews[0]}", as_="manager").get_json()
    assert (recorded["state"], recorded["reason"], recorded["reviewed_by"]) == ("completed", "capacity", "manager")
    shown = browser.get(done.headers["Location"])
    assert "Разбор записан." in shown.text and "Нехватка людей" in shown.text
    again = browser.post(f"/dashboard/reviews/{reviews[0]}/complete", data=data)
    assert again.status_code == 409 and "manager" in again.text
    forged = browser.post(f"/dashboard/reviews/{reviews[0]}/claim", data={"csrf": "forged"})
    assert forged.status_code == 403

    # The breach is in the chart of reasons, and its CSV link answers the same count.
    charts = browser.get("/dashboard", headers={"Accept-Language": "ru"}).text
    reasons = _section(charts, "reasons-table")
    reviewed = [r for r in api.get("/reports/breaches", as_="manager").get_json()["rows"] if r["reason"]]
    assert f'<td>Нехватка людей</td><td class="number">{len(reviewed)}</td>' in reasons
    answer = browser.get(_link(charts, "Скачать нарушения в CSV"))
    assert answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["ticket"] for r in rows if r["reason"] == "capacity"] == [number]
    assert '<svg role="img" aria-labelledby="reasons-title reasons-desc"' in charts


# Late in the evening, when the day in Moscow (the staff calendar's, where hours are booked) is already the next.
@time_machine.travel("2026-12-01T22:30:00+00:00", tick=True)
def test_compliance_and_utilisation_charts_match_their_csv(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    task = api.task(number, "resolve", as_="storage.l1")
    assert api.post(f"/tasks/{task['id']}/claim", as_="storage.l1").status_code == 200  # the reaction clock is met
    api.complete(number, "resolve", {"outcome": "solved", "hours": 2}, as_="storage.l1")
    with ctx.sessions() as session:
        booked = float(sum(session.scalars(select(TimeEntry.hours))))
    assert booked == 2.0
    sign_in_page(browser, ctx, "manager", language="en")
    page = browser.get("/dashboard").text
    month = utcnow().strftime("%Y-%m")
    compliance = _section(page, "compliance-table")
    assert f'<td>{month}</td><td>Reaction</td><td class="number">1</td><td class="number">0</td>' in compliance
    assert '<title id="compliance-title">SLA compliance by month, per cent</title>' in page
    assert f"Reaction: {month} 100.0 %" in page
    sla_csv = browser.get(_link(page, "Download SLA compliance as CSV"))
    assert sla_csv.mimetype == "text/csv"
    [reaction] = [r for r in csv.DictReader(io.StringIO(sla_csv.get_data(as_text=True))) if r["clock"] == "reaction"]
    assert (reaction["period"], reaction["met"], reaction["compliance_percent"]) == (month, "1", "100.0")

    engineers = _section(page, "utilisation-engineer-table")
    assert '<td>storage.l1</td><td class="number">2.0</td>' in engineers
    per_engineer = browser.get(_link(page, "Download utilisation per engineer as CSV"))
    rows = {r["engineer"]: r for r in csv.DictReader(io.StringIO(per_engineer.get_data(as_text=True)))}
    assert float(rows["storage.l1"]["productive_hours"]) == booked
    assert f"{rows['storage.l1']['utilisation_percent']} %" in engineers
    per_team = browser.get(_link(page, "Download utilisation per team as CSV"))
    teams = {r["team"]: r for r in csv.DictReader(io.StringIO(per_team.get_data(as_text=True)))}
    assert f'<td>storage</td><td class="number">{teams["storage"]["productive_hours"]}</td>' in _section(
        page, "utilisation-team-table"
    )

    # A period before the work shows none of it; a period that ends before it starts is said beside the field.
    empty = browser.get("/dashboard?from=2020-01-01&to=2020-01-31").text
    assert '<td>storage.l1</td><td class="number">0.0</td>' in _section(empty, "utilisation-engineer-table")
    assert "<tbody>\n    \n    </tbody>" in _section(empty, "compliance-table")
    assert "from=2020-01-01" in html.unescape(_link(empty, "Download breaches as CSV"))
    backwards = browser.get("/dashboard?from=2026-05-01&to=2026-04-01").text
    assert 'id="to-error"' in backwards and "The end of the period is before its start." in backwards
    nonsense = browser.get("/dashboard?from=soon&hours=0").text
    assert 'id="from-error"' in nonsense and 'id="hours-error"' in nonsense


def test_an_incident_is_retried_from_the_dashboard(browser: FlaskClient, ctx: Context, api: Api) -> None:
    number = api.open_ticket()["number"]
    broken = dataclasses.replace(
        ctx,
        mailer=SmtpMailer("127.0.0.1", free_port(), "desk@orchestrator.example", timeout=2),
        config=dataclasses.replace(ctx.config, job_max_attempts=1),
    )
    drain(broken)
    [incident] = api.get("/incidents", as_="manager").get_json()["items"]
    sign_in_page(browser, ctx, "manager", language="en")
    page = browser.get("/dashboard").text
    assert number in _section(page, "incidents")
    answer = browser.post(f"/dashboard/incidents/{incident['id']}/retry", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303
    shown = browser.get(answer.headers["Location"]).text
    assert f"Incident {incident['id']} was queued again." in shown and 'id="incidents"' not in shown
    assert api.get("/incidents", as_="manager").get_json()["items"] == []
    again = browser.post(f"/dashboard/incidents/{incident['id']}/retry", data={"csrf": csrf_of(page)})
    assert again.status_code == 409 and "no longer waiting" in again.text
    drain(ctx)
    kinds = [e["kind"] for e in api.history(number)]
    assert kinds.count("incident_retried") == 1 and api.ticket(number)["status"] == "clarifying"
    engineer = browser.application.test_client()
    sign_in_page(engineer, ctx, "storage.l1", language="en")
    own = csrf_of(engineer.get("/").text)
    assert engineer.post(f"/dashboard/incidents/{incident['id']}/retry", data={"csrf": own}).status_code == 403


def test_an_incident_of_a_process_beside_the_ticket_flow_names_its_instance(app: Flask, ctx: Context, api: Api) -> None:
    xml = side_process("side-task", topic="files.create_folder")  # a ticket's topic: without one it fails
    deployed = api.post("/process-definitions", as_="owner", data=xml, headers={"Content-Type": "application/xml"})
    assert deployed.status_code == 201, deployed.get_json()
    instance = api.post("/process-definitions/side-task/start", as_="owner", json={}).get_json()["id"]
    drain(ctx)
    for language, words in (("en", "process instance"), ("ru", "экземпляр процесса")):
        browser = app.test_client()
        sign_in_page(browser, ctx, "manager", language=language)
        shown = html.unescape(_section(browser.get("/dashboard").text, "incidents"))
        assert f"{words} {instance}" in shown and "None" not in shown
