"""Page benchmark: the server time of "My work" and of the managers' dashboard at a real company's size, beside the
API's `GET /tasks` in the same run, and the weight of each page (`python -m bench pages [--tickets N]`).

The tickets are made by the bulk loader (`bench/bulk.py`: 100,000, a tenth of them open, each with a user task in one
of the open queues: about 10,000 open tasks). "My work" is read by a storage L1 engineer (its first page of 25 and
the counts per queue), beside `GET /tasks?page_size=25` read by the same person; the dashboard by a manager (its
default period, the incidents and the reviews). Each figure is the server time through the Flask test client with a
session cookie, as a browser sends it, after `VACUUM ANALYZE` on PostgreSQL. The weight is the bytes of the page's
HTML and of the scripts and style sheets it loads (uncompressed; the service worker, loaded once by every page, is
given apart).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, text

from bench.bulk import load
from bench.common import label, prepared, times
from service.app import create_app
from service.auth import login
from service.auth.models import User
from service.auth.passwords import hash_password
from service.auth.services import issue_token
from service.context import Context
from service.db import transaction

REPEATS = 20
PASSWORD = "bench pages password"
ENGINEER, MANAGER = "storage.l1", "manager"
_LOADS = re.compile(r'<(?:script[^>]* src|link rel="stylesheet" href)="([^"]+)"')


def _signed_in(ctx: Context, client: FlaskClient, username: str) -> None:
    """The test client carries the session cookie of `username`, as after the sign-in page."""
    with transaction(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        user.password_hash = hash_password(PASSWORD)
    with transaction(ctx.sessions) as session:
        signed = login.login(session, config=ctx.config, username=username, password=PASSWORD, address="127.0.0.1")
    client.set_cookie(login.SESSION_COOKIE, signed.session_token)


def _weight(client: FlaskClient, html: bytes) -> tuple[int, int]:
    """The bytes of the scripts and of the style sheets a page loads."""
    scripts = sheets = 0
    for path in _LOADS.findall(html.decode()):
        size = len(client.get(path).data)
        if path.endswith(".css"):
            sheets += size
        else:
            scripts += size
    return scripts, sheets


def _measure(ctx: Context) -> None:
    app = create_app(context=ctx)
    engineer, manager, api = app.test_client(), app.test_client(), app.test_client()
    _signed_in(ctx, engineer, ENGINEER)
    _signed_in(ctx, manager, MANAGER)
    with transaction(ctx.sessions) as session:
        token = issue_token(session, username=ENGINEER)
    headers = {"Authorization": f"Bearer {token}"}

    def get(client: FlaskClient, path: str, **more: Any) -> Any:
        response = client.get(path, **more)
        assert response.status_code == 200, (path, response.status_code)
        return response

    worker = len(get(api, "/sw.js").data)
    listed = get(api, "/api/v1/tasks?page_size=25", headers=headers).get_json()["items"]
    api50, api95 = times(lambda: get(api, "/api/v1/tasks?page_size=25", headers=headers), repeats=REPEATS)
    cases = (("My work", engineer, "/"), ("dashboard", manager, "/dashboard"))
    for name, client, path in cases:
        html = get(client, path).data
        scripts, sheets = _weight(client, html)
        p50, p95 = times(lambda c=client, p=path: get(c, p), repeats=REPEATS)  # type: ignore[misc]
        print(
            f"  {name:<10}: p50 {p50:7.1f} ms p95 {p95:7.1f} ms (x{p50 / api50:.1f}, x{p95 / api95:.1f} "
            f"GET /tasks); HTML {len(html) / 1024:5.1f} KiB, JS {scripts / 1024:5.1f} KiB, "
            f"CSS {sheets / 1024:4.1f} KiB"
        )
    print(
        f"  GET /tasks?page_size=25 ({len(listed)} items): p50 {api50:6.1f} ms p95 {api95:6.1f} ms; "
        f"the service worker {worker / 1024:.1f} KiB"
    )


def run(url: str | None, *, tickets: int = 100_000) -> None:
    """Load `tickets` tickets with the bulk loader and time the pages beside the API's list."""
    logging.getLogger("orchestrator.access").setLevel(logging.WARNING)  # a line per request would be the cost
    print(f"page benchmark on {label(url)}: {REPEATS} requests each")
    ctx = prepared(url)
    try:
        loaded = load(ctx, tickets=tickets)
        queues = ", ".join(f"{queue} {count:,}" for queue, count in sorted(loaded.open_by_queue.items()))
        print(f"  loaded {loaded.tickets:,} tickets in {loaded.seconds:.1f} s (open tasks: {queues})")
        if ctx.engine.dialect.name == "postgresql":
            # As autovacuum leaves tables at rest: statistics, and the visibility map that lets a query read an index
            # alone (right after a bulk load no page is marked all-visible yet).
            with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        _measure(ctx)
    finally:
        ctx.engine.dispose()
