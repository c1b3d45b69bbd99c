"""A what-if over 10,000 recorded routing decisions, against the bare loop of evaluations it is made of."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.common import ROOT, label, prepared
from service import decisions
from service.app import create_app
from service.auth.services import issue_token
from service.clients.models import Client, Contact
from service.context import Context
from service.db import transaction, utcnow
from service.rulesets.whatif import what_if
from service.tickets.models import DecisionRecord, Ticket

CLASSES = ("storage", "servers", "network", "")
CATEGORIES = ("hardware", "software", "configuration")
SEVERITIES = ("critical", "high", "normal", "low")
CHANNELS = ("portal", "email", "mobile", "phone", "api")
CLIENTS = ("NORD-BANK", "MEGA-RETAIL", "GOV-AGENCY", "TELECOM-ONE", "NEW-CLIENT")


def draft_text() -> str:
    """The shipped routing with storage hardware sent to level 2: about one decision in twelve changes."""
    text = (ROOT / "rules" / "routing.yaml").read_text(encoding="utf-8")
    return text.replace("then: {team: storage, level: 1}", "then: {team: storage, level: 2}", 1)


def record_decisions(ctx: Context, count: int, seed: int = 4) -> list[dict[str, Any]]:
    """`count` tickets, each with the routing decision the active version took on random but realistic facts.

    Rows are inserted directly (no process runs), which is what the what-if reads.
    """
    rng = random.Random(seed)
    active = decisions.parse_ruleset((ROOT / "rules" / "routing.yaml").read_text(), filename="routing.yaml")
    facts = [
        {
            "equipment_class": rng.choice(CLASSES),
            "category": rng.choice(CATEGORIES),
            "severity": rng.choice(SEVERITIES),
            "client": rng.choice(CLIENTS),
            "channel": rng.choice(CHANNELS),
        }
        for _ in range(count)
    ]
    start = utcnow() - timedelta(days=30)
    with transaction(ctx.sessions) as session:
        client_id, contact_id = session.execute(
            select(Client.id, Contact.id).join(Contact, Contact.client_id == Client.id).limit(1)
        ).one()
        first = (session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0) + 1
        ids = range(first, first + count)
        session.execute(
            insert(Ticket),
            [
                {
                    "id": ticket_id,
                    "client_id": client_id,
                    "contact_id": contact_id,
                    "channel": item["channel"],
                    "summary": "bench",
                    "severity": item["severity"],
                    "category": item["category"],
                    "status": "in_progress",
                    "created_at": start + timedelta(seconds=index * 60),
                }
                for index, (ticket_id, item) in enumerate(zip(ids, facts, strict=True))
            ],
        )
        rows = []
        for index, (ticket_id, item) in enumerate(zip(ids, facts, strict=True)):
            decision = decisions.evaluate(active, item)
            rows.append(
                {
                    "ticket_id": ticket_id,
                    "at": start + timedelta(seconds=index * 60 + 30),
                    "element_id": "routing",
                    "ruleset": "routing",
                    "version": "1",
                    "rule": decision.rule,
                    "outcome": decision.outcome,
                    "facts": item,
                }
            )
        session.execute(insert(DecisionRecord), rows)
    return facts


def bare_seconds(facts: list[dict[str, Any]], text: str) -> float:
    """The draft evaluated on every set of facts in a plain loop: no database, no rows, no JSON."""
    draft = decisions.parse_ruleset(text, filename="routing.yaml")
    for item in facts[:200]:  # warm-up (and the draft's compilation)
        decisions.evaluate(draft, item)
    started = time.perf_counter()
    for item in facts:
        decisions.evaluate(draft, item)
    return time.perf_counter() - started


def service_seconds(ctx: Context, count: int, text: str) -> tuple[float, int]:
    """The what-if service: decisions streamed from the database, evaluated, compared."""
    started = time.perf_counter()
    with ctx.sessions() as session:
        result = what_if(session, name="routing", text=text, last=count)
    elapsed = time.perf_counter() - started
    assert result.total == count, result.total
    return elapsed, result.changed


def api_seconds(ctx: Context, count: int, text: str) -> tuple[float, float, int]:
    """The same through the API (Flask, marshmallow, JSON), without the network: the first page (every decision
    read for the totals, 50 rows answered) and the next page (only its rows decided again), and the first's size."""
    with transaction(ctx.sessions) as session:
        token = issue_token(session, username="analyst")
    client = create_app(context=ctx).test_client()

    def page(cursor: str | None) -> tuple[float, Any]:
        started = time.perf_counter()
        response = client.post(
            "/api/v1/rulesets/routing/what-if" + (f"?cursor={cursor}" if cursor else ""),
            json={"yaml": text, "last": count},
            headers={"Authorization": f"Bearer {token}"},
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_json()
        return elapsed, response

    first, answer = page(None)
    body = answer.get_json()
    assert body["total"] == count and len(body["rows"]) == 50, (body["total"], len(body["rows"]))
    following, _ = page(body["next"])
    return first, following, len(answer.data)


def run(url: str | None, *, tickets: int = 10_000) -> dict[str, float]:
    """Print what-if throughput (service and API) and its ratio to the bare evaluation loop, measured in this run."""
    ctx = prepared(url)
    try:
        text = draft_text()
        facts = record_decisions(ctx, tickets)
        bare = bare_seconds(facts, text)
        service, changed = service_seconds(ctx, tickets, text)
        api, next_page, size = api_seconds(ctx, tickets, text)
    finally:
        ctx.engine.dispose()
    figures = {
        "tickets_per_second": tickets / service,
        "api_tickets_per_second": tickets / api,
        "bare_per_second": tickets / bare,
        "ratio": service / bare,
        "api_ratio": api / bare,
        "next_page_ms": next_page * 1000,
    }
    print(
        f"what-if [{label(url)}]: {tickets:,} decisions ({changed:,} changed) in {service:.2f} s = "
        f"{figures['tickets_per_second']:,.0f} tickets/s through the service, {api:.2f} s = "
        f"{figures['api_tickets_per_second']:,.0f} tickets/s through the API (JSON); bare evaluate loop "
        f"{figures['bare_per_second']:,.0f}/s; cost per ticket {figures['ratio']:.2f}x the bare loop "
        f"({figures['api_ratio']:.2f}x through the API); its first page {size / 1024:.1f} KiB, the next page "
        f"{next_page * 1000:.1f} ms"
    )
    return figures
