"""Open tickets moved over from the old system: each starts at its point of the flow with its original opening time,
without a word to the client, and goes on as any ticket from there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from service.worker import drain
from tests.integration.conftest import Api

COLUMNS = [
    "external_ref",
    "client",
    "contact_email",
    "equipment",
    "summary",
    "description",
    "severity",
    "category",
    "opened_at",
    "status",
    "team",
    "level",
]


def _csv(rows: list[dict[str, str]]) -> bytes:
    """A Windows-1251 `;` CSV with CRLF line ends, as Russian Excel saves it."""
    lines = [";".join(COLUMNS)]
    for row in rows:
        lines.append(";".join(row.get(name, "") for name in COLUMNS))
    return "".join(line + "\r\n" for line in lines).encode("cp1251")


def _row(ref: str, **values: str) -> dict[str, str]:
    base = {
        "external_ref": ref,
        "client": "NORD-BANK",
        "equipment": "IBM-FS5200-0001",
        "summary": "Массив деградировал",
        "description": "Контроллер B сообщает об ошибках",
        "severity": "high",
        "category": "hardware",
        "opened_at": "2026-11-30T10:00:00+03:00",
        "status": "new",
    }
    return {**base, **values}


def _import(api: Api, data: bytes, *, query: str = "") -> Any:
    return api.post(f"/imports/tickets{query}", as_="admin", data=data, content_type="text/csv")


def _ticket_of(api: Api, ref: str) -> dict[str, Any]:
    cursor = ""
    while True:
        page = api.get(f"/tickets?page_size=200{cursor}", as_="manager").get_json()
        for item in page["items"]:
            ticket = api.ticket(item["number"])
            if ticket["external_ref"] == ref:
                return {**ticket, "history": api.history(item["number"], as_="manager")}
        if page["next"] is None:
            raise AssertionError(f"no ticket imported as {ref}")
        cursor = f"&cursor={page['next']}"


def _open_tasks(api: Api, number: str, as_: str) -> list[str]:
    return [task["name"] for task in api.get(f"/tasks?ticket={number}", as_=as_).get_json()["items"]]


def test_each_status_lands_at_its_point_of_the_flow(api: Api) -> None:
    data = _csv(
        [
            _row("OLD-1", status="new"),
            _row("OLD-2", status="in_progress", team="storage", level="1", opened_at="30.11.2026 09:15"),
            _row("OLD-2B", status="in_progress", team="servers", level="2"),  # not where the routing rule sends it
            _row("OLD-3", status="waiting_parts", team="storage", level="2"),
            _row(
                "OLD-4",
                client="GOV-AGENCY",
                equipment="HPE-DL380-0003",
                status="estimate",
                category="software",
            ),
        ]
    )
    response = _import(api, data, query="?filename=старые.csv")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"] == {"created": 5, "updated": 0, "unchanged": 0, "refused": 0}

    new = _ticket_of(api, "OLD-1")
    assert new["status"] == "clarifying"
    assert _open_tasks(api, new["number"], "duty") == ["clarify"]

    working = _ticket_of(api, "OLD-2")
    assert (working["status"], working["team"], working["level"]) == ("in_progress", "storage", 1)
    assert working["external_ref"] == "OLD-2" and working["folder_url"] is None
    assert _open_tasks(api, working["number"], "storage.l1") == ["resolve"]
    assert working["created_at"].startswith("2026-11-30T06:15")  # 09:15 in Moscow, no offset given
    imported = next(event for event in working["history"] if event["kind"] == "ticket_imported")
    assert imported["actor"] == "admin"
    assert imported["detail"]["file"] == "старые.csv" and imported["detail"]["external_ref"] == "OLD-2"
    moves = [
        (e["kind"], e["actor"], e["detail"].get("task")) for e in working["history"] if e["kind"] == "task_completed"
    ]
    assert moves == [("task_completed", "admin", "clarify")]
    routing = [d for d in working["decisions"] if d["ruleset"] == "routing"]
    assert [d["outcome"] for d in routing] == [{"team": "storage", "level": 1}]

    overridden = _ticket_of(api, "OLD-2B")
    assert (overridden["team"], overridden["level"]) == ("servers", 2)
    assert _open_tasks(api, overridden["number"], "servers.l2") == ["resolve"]
    assert _open_tasks(api, overridden["number"], "storage.l1") == []

    parts = _ticket_of(api, "OLD-3")
    assert parts["status"] == "ordering_parts"
    assert _open_tasks(api, parts["number"], "rmc") == ["order_parts"]
    assert _open_tasks(api, parts["number"], "storage.l2") == []

    priced = _ticket_of(api, "OLD-4")
    assert (priced["status"], priced["route"]) == ("estimating", "per_call")
    assert _open_tasks(api, priced["number"], "consultant") == ["estimate"]


def test_the_clocks_count_from_the_original_opening_time(api: Api) -> None:
    opened = (datetime.now(timezone.utc) - timedelta(days=7)).replace(microsecond=0)
    # Silver, high severity: 16 business hours (two business days) to resolve; a week ago holds five business days.
    row = _row(
        "OLD-SLA",
        client="MEGA-RETAIL",
        equipment="DELL-R740-0002",
        status="in_progress",
        team="servers",
        level="2",
        opened_at=opened.isoformat(),
    )
    assert _import(api, _csv([row])).status_code == 200
    ticket = _ticket_of(api, "OLD-SLA")
    resolution = ticket["sla"]["resolution"]
    assert resolution["state"] == "breached"
    assert datetime.fromisoformat(resolution["due_at"]) < datetime.now(timezone.utc)
    assert datetime.fromisoformat(ticket["created_at"]) == opened


def test_no_mail_to_the_client_and_no_notice_to_the_duty_officers(api: Api, smtp_server: Any) -> None:
    assert (
        _import(api, _csv([_row("OLD-5"), _row("OLD-6", status="in_progress", team="storage", level="1")])).status_code
        == 200
    )
    drain(api.ctx)
    assert smtp_server.messages == []
    history = _ticket_of(api, "OLD-5")["history"]
    assert {e["detail"]["topic"] for e in history if e["kind"] == "job_skipped"} == {
        "files.create_folder",
        "mail.ticket_opened",
        "notify.duty_officers",
    }
    assert not [e for e in history if e["kind"] == "job_done"]


def test_the_flow_goes_on_after_the_import(api: Api, smtp_server: Any) -> None:
    row = _row("OLD-7", status="in_progress", team="storage", level="1")
    assert _import(api, _csv([row])).status_code == 200
    number = _ticket_of(api, "OLD-7")["number"]
    api.complete(number, "resolve", {"outcome": "need_parts", "parts": "controller"}, as_="storage.l1")
    assert api.ticket(number)["status"] == "ordering_parts"
    api.complete(number, "order_parts", {"source": "warehouse"}, as_="rmc")
    delivered = api.post("/messages", as_="rmc", json={"name": "parts_delivered", "ticket": number, "data": {}})
    assert delivered.status_code in (200, 202), delivered.get_json()
    drain(api.ctx)
    api.complete(number, "onsite_visit", {"outcome": "solved"}, as_="storage.l1")
    assert api.ticket(number)["status"] == "closed"
    assert any("closed" in message.subject.lower() for message in smtp_server.wait_for_count(1))


def test_refusals_name_the_row_and_column_and_nothing_is_written(api: Api) -> None:
    data = _csv(
        [
            _row("OLD-8"),
            _row("OLD-9", client="NO-SUCH"),
            _row("OLD-10", status="in_progress", level="1"),
            _row("OLD-11", status="closed"),
            _row("OLD-12", opened_at="31.02.2026 10:00"),
            _row("OLD-13", opened_at="вчера"),
            _row("OLD-14", status="in_progress", team="plumbing", level="1"),
            _row("OLD-15", status="estimate"),  # NORD-BANK's contract covers the array: it is never priced
            _row("OLD-15B", contact_email="nobody@nord-bank.example"),
            _row("OLD-15C", opened_at=(datetime.now(timezone.utc) + timedelta(days=2)).strftime("%d.%m.%Y %H:%M")),
        ]
    )
    response = _import(api, data)
    assert response.status_code == 422
    problem = response.get_json()
    refusals = {(r["row"], r["column"]): r["reason"] for r in problem["refusals"]}
    assert set(refusals) == {
        (3, "client"),
        (4, "team"),
        (5, "status"),
        (6, "opened_at"),
        (7, "opened_at"),
        (8, "team"),
        (9, "status"),
        (10, "contact_email"),
        (11, "opened_at"),
    }
    assert refusals[(3, "client")] == "no client 'NO-SUCH'"
    assert "name the team" in refusals[(4, "team")]
    assert refusals[(8, "team")] == "no team 'plumbing'"
    assert "31.12.2026 14:30" in refusals[(7, "opened_at")]
    assert "contract covers" in refusals[(9, "status")]
    assert refusals[(10, "contact_email")] == "the client NORD-BANK has no contact 'nobody@nord-bank.example'"
    assert refusals[(11, "opened_at")] == "the ticket was opened in the future"
    assert api.get("/tickets", as_="manager").get_json()["items"] == []


def test_valid_rows_keeps_the_tickets_whose_flow_leads_to_their_status(api: Api) -> None:
    data = _csv([_row("OLD-24"), _row("OLD-25", status="estimate"), _row("OLD-26", status="new")])
    response = _import(api, data, query="?mode=valid_rows")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 1}
    assert [(r["row"], r["column"]) for r in report["refusals"]] == [(3, "status")]
    assert len(api.get("/tickets", as_="manager").get_json()["items"]) == 2
    assert [_ticket_of(api, ref)["status"] for ref in ("OLD-24", "OLD-26")] == ["clarifying", "clarifying"]


def test_a_dry_run_writes_nothing(api: Api) -> None:
    response = _import(api, _csv([_row("OLD-16")]), query="?dry_run=true")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["counts"]["created"] == 1 and report["applied"] is False
    assert api.get("/tickets", as_="manager").get_json()["items"] == []


def test_a_reimport_is_unchanged_and_a_changed_row_is_refused(api: Api) -> None:
    rows = [_row("OLD-17"), _row("OLD-18", status="in_progress", team="storage", level="1")]
    assert _import(api, _csv(rows)).status_code == 200
    number = _ticket_of(api, "OLD-18")["number"]
    api.complete(number, "resolve", {"outcome": "need_parts"}, as_="storage.l1")  # the ticket moved on since

    again = _import(api, _csv(rows))
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "refused": 0}
    assert len(api.get("/tickets", as_="manager").get_json()["items"]) == 2

    changed = _import(api, _csv([_row("OLD-17", status="in_progress", team="storage", level="1")]))
    assert changed.status_code == 422
    refusals = changed.get_json()["refusals"]
    assert {r["column"] for r in refusals} == {"status", "team", "level"}
    assert all("never changes an imported ticket" in r["reason"] for r in refusals)


def test_tickets_are_not_exported(api: Api) -> None:
    response = api.get("/exports/tickets", as_="admin")
    assert response.status_code == 422
    assert "imported, not exported" in response.get_json()["detail"]


def test_only_administrators_import_tickets(api: Api) -> None:
    response = api.post("/imports/tickets", as_="duty", data=_csv([_row("OLD-19")]), content_type="text/csv")
    assert response.status_code == 403


def test_an_xlsx_with_a_date_time_cell_and_a_utf8_bom_csv(api: Api) -> None:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    values = _row("OLD-20", status="in_progress", team="storage", level="1")
    sheet.append([datetime(2026, 11, 30, 9, 15) if name == "opened_at" else values.get(name) for name in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    response = api.post(
        "/imports/tickets",
        as_="admin",
        data={"file": (io.BytesIO(buffer.getvalue()), "старые.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert _ticket_of(api, "OLD-20")["created_at"].startswith("2026-11-30T06:15")  # the cell read in Moscow

    text = ";".join(COLUMNS) + "\r\n" + ";".join(_row("OLD-21").get(name, "") for name in COLUMNS) + "\r\n"
    response = _import(api, ("\ufeff" + text).encode())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["created"] == 1


def test_the_cli_imports_tickets_with_a_dry_run(ctx: Any, tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": ctx.config.database_url}
        command = [sys.executable, "-m", "service.cli", *argv]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    path = tmp_path / "old.csv"
    path.write_bytes(_csv([_row("OLD-22"), _row("OLD-23", status="in_progress", team="storage", level="1")]))
    dry = run("import", "tickets", str(path), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2 created" in dry.stdout and "dry run, nothing written" in dry.stdout
    applied = run("import", "tickets", str(path))
    assert applied.returncode == 0 and "(written)" in applied.stdout, applied.stderr
    again = run("import", "tickets", str(path))
    assert again.returncode == 0 and "2 unchanged" in again.stdout, again.stderr
