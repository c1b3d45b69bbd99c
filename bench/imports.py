"""Importing 10,000 equipment rows (`python -m bench imports`): rows/s and peak memory of the importer, against a
plain bulk insert of the same rows in the same run.

The file is what a Russian office's Excel saves: Windows-1251, `;`, CRLF, Russian dates. The importer reads and
checks every cell, looks up the file's serials, clients and sites in one query per table, loads each row through the
kind's schema, writes it with a history record naming the file, and flushes in batches. It runs three times: the
file creating every item, the same file again (every row unchanged: the cost of matching), and a dry run of a fresh
file under tracemalloc for the peak memory (tracemalloc slows Python, so the timed runs go without it). The baseline
is `session.execute(insert(Equipment), rows)` of the same rows, already parsed, without history.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, insert, select

from bench.common import label, prepared
from service.auth.models import Caller
from service.clients.models import Client, Equipment
from service.context import Context
from service.db import transaction
from service.directory.models import ChangeRecord
from service.imports.services import Report, import_file

ROWS = 10_000
HEADER = "serial;client;vendor;model;equipment_class;installed_on;warranty_ends_on;status"
CLASSES = ("storage", "servers", "network")


def _items(prefix: str, clients: list[tuple[int, str]], rows: int) -> list[dict[str, Any]]:
    start = date(2022, 1, 1)
    return [
        {
            "serial": f"{prefix}-{i:06d}",
            "client_id": clients[i % len(clients)][0],
            "client": clients[i % len(clients)][1],
            "vendor": "Huawei",
            "model": f"OceanStor Dorado {5000 + i % 7 * 1000}",
            "equipment_class": CLASSES[i % 3],
            "installed_on": start + timedelta(days=i % 900),
            "warranty_ends_on": start + timedelta(days=i % 900 + 1095),
            "status": "in_service",
        }
        for i in range(rows)
    ]


def _file(items: list[dict[str, Any]]) -> bytes:
    lines = [HEADER]
    for item in items:
        days = [item[name].strftime("%d.%m.%Y") for name in ("installed_on", "warranty_ends_on")]
        fields = (item["serial"], item["client"], item["vendor"], item["model"], item["equipment_class"], *days)
        lines.append(";".join((*fields, item["status"])))
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def _import(ctx: Context, admin: Caller, data: bytes, *, dry_run: bool = False) -> tuple[Report, float]:
    started = time.perf_counter()
    with transaction(ctx.sessions) as session:
        report = import_file(session, user=admin, kind="equipment", data=data, filename="park.csv", dry_run=dry_run)
    return report, time.perf_counter() - started


def _peak(call: Callable[[], Any]) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _bulk(ctx: Context, items: list[dict[str, Any]]) -> float:
    rows = [{key: value for key, value in item.items() if key != "client"} for item in items]
    started = time.perf_counter()
    with transaction(ctx.sessions) as session:
        session.execute(insert(Equipment), rows)
    return time.perf_counter() - started


def run(url: str | None, *, rows: int = ROWS) -> None:
    """Time the importer and the bulk insert over the same rows; print rows/s, peak memory and the ratios."""
    ctx = prepared(url)
    try:
        with transaction(ctx.sessions) as session:
            clients = [tuple(row) for row in session.execute(select(Client.id, Client.code).order_by(Client.code))]
        admin = Caller(0, "admin", frozenset({"admin"}), frozenset(), None)
        items = _items("BENCH", clients, rows)  # type: ignore[arg-type]
        data = _file(items)
        created, create_seconds = _import(ctx, admin, data)
        assert created.applied and created.counts["created"] == rows, created.counts
        unchanged, match_seconds = _import(ctx, admin, data)
        assert unchanged.counts["unchanged"] == rows, unchanged.counts
        fresh = _file(_items("FRESH", clients, rows))  # type: ignore[arg-type]
        (dry, _seconds), import_peak = _peak(lambda: _import(ctx, admin, fresh, dry_run=True))
        assert dry.counts["created"] == rows and not dry.applied, dry.counts
        with transaction(ctx.sessions) as session:  # the baseline inserts the very same rows
            session.execute(delete(Equipment).where(Equipment.serial.like("BENCH-%")))
            session.execute(delete(ChangeRecord).where(ChangeRecord.kind == "equipment"))
        bulk_seconds = _bulk(ctx, items)
        with transaction(ctx.sessions) as session:
            session.execute(delete(Equipment).where(Equipment.serial.like("BENCH-%")))
        _seconds, bulk_peak = _peak(lambda: _bulk(ctx, items))
    finally:
        ctx.engine.dispose()
    print(
        f"imports [{label(url)}] {rows:,} equipment rows ({len(data) / 1024:.0f} KiB cp1251 CSV): "
        f"created {rows / create_seconds:,.0f} rows/s ({create_seconds:.2f} s), "
        f"unchanged re-import {rows / match_seconds:,.0f} rows/s ({match_seconds:.2f} s), "
        f"peak memory {import_peak / 2**20:.1f} MiB; "
        f"bulk insert {rows / bulk_seconds:,.0f} rows/s ({bulk_seconds:.2f} s), peak {bulk_peak / 2**20:.1f} MiB; "
        f"ratio {create_seconds / bulk_seconds:.1f}x the bulk insert's time, {import_peak / bulk_peak:.1f}x its memory"
    )
