"""Ticket list benchmark: `GET /tickets` at the bulk loader's size, first page, a deep page and a filtered page, each
beside a plain indexed SQL query of the same page in the same run (`python -m bench lists [--tickets N]`).

The tickets are made by the bulk loader (`bench/bulk.py`: most closed and moved back over a year, so many share a
creation time with others and the id breaks the tie). Each figure is the server time of the request through the
Flask test client as an administrator (who sees every ticket), beside one hand-written SQL query over the same
indexes: the ratio is what the API adds (auth, schema, JSON) on top of the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select, text

from bench.bulk import load
from bench.common import floor_page, label, prepared, rss_over, times
from service.app import create_app
from service.auth.services import issue_token
from service.db import UtcDateTime, transaction
from service.tickets.models import Ticket

TICKETS = 20_000
PAGE = 50
REPEATS = 30
PLAIN = (
    "SELECT t.id, t.number, t.created_at, t.updated_at, t.closed_at, t.status, c.code, ct.email, ct.confirmed, "
    "e.serial, t.channel, t.summary, t.severity, t.category, t.route, t.paid, t.team, t.level, t.circle, t.folder_url "
    "FROM ticket t JOIN client c ON c.id = t.client_id JOIN contact ct ON ct.id = t.contact_id "
    "LEFT JOIN equipment e ON e.id = t.equipment_id "
    "WHERE (t.created_at, t.id) < (:after_at, :after_id) {extra}"
    "ORDER BY t.created_at DESC, t.id DESC LIMIT :n"
)


def _plain(extra: str = "") -> Any:
    return text(PLAIN.format(extra=extra)).bindparams(bindparam("after_at", type_=UtcDateTime()))


def _measure(ctx: Any, count: int) -> None:
    client = create_app(context=ctx).test_client()
    with transaction(ctx.sessions) as session:
        token = issue_token(session, username="admin")
        newest = session.execute(select(Ticket.created_at, Ticket.id).order_by(Ticket.created_at.desc())).first()
        status = session.scalar(select(Ticket.status).where(Ticket.status != "closed").limit(1)) or "closed"
    assert newest is not None
    headers = {"Authorization": f"Bearer {token}"}

    def page(query: str) -> Any:
        response = client.get(f"/api/v1/tickets?page_size={PAGE}{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return response

    # the deep page: the one at 90 % of the list, reached by walking it in the largest pages
    cursor, walked, last = None, 0, None
    while walked + 200 <= count * 0.9:
        body = client.get(f"/api/v1/tickets?page_size=200{'&cursor=' + cursor if cursor else ''}", headers=headers)
        items = body.get_json()["items"]
        cursor, walked, last = body.get_json()["next"], walked + len(items), items[-1]
    assert cursor is not None and last is not None
    with ctx.sessions() as session:
        deep = session.execute(select(Ticket.created_at, Ticket.id).where(Ticket.number == last["number"])).one()
    origin = (newest.created_at.replace(year=newest.created_at.year + 1), 0)
    engine = ctx.engine

    def plain(after: tuple[Any, int], extra: str = "", **params: Any) -> tuple[Any, dict[str, Any]]:
        return _plain(extra), {"after_at": after[0], "after_id": after[1], "n": PAGE + 1, **params}

    def bare(statement: Any, values: dict[str, Any]) -> Callable[[], Any]:
        def run() -> Any:
            with engine.connect() as conn:
                return conn.execute(statement, values).fetchall()

        return run

    cases = (
        ("first page", "", plain(origin)),
        ("deep page", f"&cursor={cursor}", plain((deep.created_at, deep.id))),
        (f"status={status}", f"&status={status}", plain(origin, "AND t.status = :status ", status=status)),
    )
    for name, query, (statement, values) in cases:
        size = len(page(query).data)
        api50, api95 = times(lambda q=query: page(q), repeats=REPEATS)  # type: ignore[misc]
        sql50, sql95 = times(bare(statement, values), repeats=REPEATS)
        floor50, floor95 = times(floor_page(engine, statement, values), repeats=REPEATS)
        print(
            f"  {count:>7,} tickets, {name:<18}: GET /tickets p50 {api50:6.2f} ms p95 {api95:6.2f} ms, "
            f"{size / 1024:5.1f} KiB; the floor's page p50 {floor50:5.2f} ms p95 {floor95:5.2f} ms "
            f"(x{api50 / floor50:.2f}, x{api95 / floor95:.2f}); plain SQL p50 {sql50:5.2f} ms p95 {sql95:5.2f} ms "
            f"(x{api50 / sql50:.1f}, x{api95 / sql95:.1f})"
        )

    def walked(cursor: str | None) -> Any:
        return page(f"&cursor={cursor}" if cursor else "")

    before, after = rss_over(100, walked)
    print(
        f"  {count:>7,} tickets, RSS over 100 pages: {before:.0f} MiB before, "
        f"{after:.0f} MiB after ({after / before:.2f}x)"
    )


def run(url: str | None, *, tickets: int = TICKETS) -> None:
    """Load `tickets` tickets with the bulk loader and time pages of the ticket list."""
    logging.getLogger("orchestrator.access").setLevel(logging.WARNING)  # a line per request would be the cost
    print(f"ticket list benchmark on {label(url)}: pages of {PAGE}, {REPEATS} requests each")
    ctx = prepared(url)
    try:
        loaded = load(ctx, tickets=tickets)
        print(f"  loaded {loaded.tickets:,} tickets in {loaded.seconds:.1f} s")
        if ctx.engine.dialect.name == "postgresql":
            with ctx.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        _measure(ctx, tickets)
    finally:
        ctx.engine.dispose()
