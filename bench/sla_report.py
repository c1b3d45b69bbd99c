"""The SLA report over 100,000 closed tickets, against a plain SQL aggregate over the same rows.

The tickets and their two clocks each are bulk-inserted (no process runs); the report is the service function the
API calls (`service.sla.reports.sla_report`, grouped by client and service level); the baseline is one GROUP BY over
`sla_clock` that counts clocks per client, service level, clock and state.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text

from bench.common import label, prepared
from service.auth.models import Caller
from service.clients.models import Client, Contact
from service.context import Context
from service.db import transaction
from service.sla.models import BusinessCalendar, SlaClock
from service.sla.reports import Filters, sla_report
from service.tickets.models import Ticket

LEVELS = {"gold": "24x7", "silver": "moscow-business", "per_call": "moscow-business"}
TARGETS = {"reaction": 4 * 3600, "resolution": 24 * 3600}
RUNS = 5


def _fill(ctx: Context, tickets: int) -> float:
    """Insert the closed tickets and their clocks; returns the seconds it took."""
    rng = random.Random(7)
    started = time.perf_counter()
    with transaction(ctx.sessions) as session:
        clients = list(session.execute(select(Client.id, func.min(Contact.id)).join(Contact).group_by(Client.id)))
        calendars = {name: ident for name, ident in session.execute(select(BusinessCalendar.name, BusinessCalendar.id))}
        first = session.scalar(select(func.coalesce(func.max(Ticket.id), 0))) or 0
        base = datetime(2025, 1, 1, tzinfo=timezone.utc)
        for chunk in range(0, tickets, 10_000):
            rows, clocks = [], []
            for offset in range(chunk, min(chunk + 10_000, tickets)):
                ticket_id = first + offset + 1
                client_id, contact_id = clients[offset % len(clients)]
                created = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
                level = rng.choice(list(LEVELS))
                team = rng.choice(("storage", "servers", "network"))
                rows.append(
                    {
                        "id": ticket_id,
                        "number": f"SD-B{ticket_id:07d}",
                        "created_at": created,
                        "updated_at": created,
                        "closed_at": created + timedelta(days=2),
                        "client_id": client_id,
                        "contact_id": contact_id,
                        "channel": "api",
                        "summary": "bench",
                        "status": "closed",
                        "team": team,
                        "level": 1,
                    }
                )
                for kind, target in TARGETS.items():
                    elapsed = int(target * rng.uniform(0.1, 1.3))
                    breached = elapsed > target
                    stopped = created + timedelta(seconds=elapsed)
                    clocks.append(
                        {
                            "ticket_id": ticket_id,
                            "kind": kind,
                            "client_id": client_id,
                            "team": team,
                            "service_level": level,
                            "severity": rng.choice(("critical", "high", "normal", "low")),
                            "calendar_id": calendars[LEVELS[level]],
                            "target_seconds": target,
                            "started_at": created,
                            "stopped_at": stopped,
                            "state": "breached" if breached else "met",
                            "due_at": created + timedelta(seconds=target),
                            "warn_at": created + timedelta(seconds=int(target * 0.8)),
                            "breached_at": created + timedelta(seconds=target) if breached else None,
                            "elapsed_seconds": elapsed,
                            "paused_seconds": 0,
                            "updated_at": stopped,
                        }
                    )
            session.execute(Ticket.__table__.insert(), rows)
            session.execute(SlaClock.__table__.insert(), clocks)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE ticket"))
            session.execute(text("ANALYZE sla_clock"))
    return time.perf_counter() - started


BASELINE = text(
    "SELECT client_id, service_level, kind, state, count(*), sum(elapsed_seconds) "
    "FROM sla_clock GROUP BY client_id, service_level, kind, state"
)


def _median(action) -> float:  # type: ignore[no-untyped-def]
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def run(url: str | None, *, tickets: int = 100_000) -> None:
    """Fill, then time the report and the baseline over the same rows; print the ratio."""
    ctx = prepared(url)
    try:
        filled = _fill(ctx, tickets)
        admin = Caller(0, "admin", frozenset({"admin"}), frozenset(), None)
        filters = Filters(group_by=("client", "service_level"))

        def report() -> None:
            with ctx.sessions() as session:
                result = sla_report(session, user=admin, filters=filters)
                assert sum(row["tickets"] for row in result.rows) == 2 * tickets

        def baseline() -> None:
            with ctx.sessions() as session:
                rows = session.execute(BASELINE).all()
                assert sum(row[4] for row in rows) == 2 * tickets

        report()
        baseline()  # warm both
        report_seconds, baseline_seconds = _median(report), _median(baseline)
    finally:
        ctx.engine.dispose()
    print(
        f"sla report [{label(url)}] {tickets:,} closed tickets (inserted in {filled:.1f} s): "
        f"report {report_seconds * 1000:.0f} ms, plain SQL aggregate {baseline_seconds * 1000:.0f} ms, "
        f"ratio {report_seconds / baseline_seconds:.2f}x"
    )
