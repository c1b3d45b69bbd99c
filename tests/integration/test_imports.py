"""Importing and exporting the directory through the API, with files as a Russian office's Excel saves them."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook

from service.imports import cells
from service.imports.cells import CellError
from tests.integration.conftest import Api

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import(api: Api, kind: str, data: bytes, *, query: str = "", as_: str = "admin", **kwargs: Any) -> Any:
    return api.post(f"/imports/{kind}{query}", as_=as_, data=data, content_type="text/csv", **kwargs)


def _upload(api: Api, kind: str, data: bytes, filename: str, *, query: str = "") -> Any:
    return api.post(
        f"/imports/{kind}{query}",
        as_="admin",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _client(api: Api, code: str) -> Any:
    return api.get(f"/clients/{code}", as_="admin")


def _excel_csv(rows: list[list[str]]) -> bytes:
    """A CSV as Russian Excel saves it: `;`, CRLF line ends, cells with `;`, quotes or line breaks quoted (a line
    break inside a cell is a bare LF), Windows-1251."""

    def cell(value: str) -> str:
        if any(mark in value for mark in ';"\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(";".join(cell(value) for value in row) + "\r\n" for row in rows).encode("cp1251")


def test_a_cp1251_semicolon_csv_as_excel_saves_it_creates_clients(api: Api) -> None:
    data = _excel_csv(
        [
            ["Code", "Name", "INN", "Sector", "Active", "Notes"],
            ["SBER-X", 'ПАО "Сбер"', "7707083893", "bank", "да", "Вход со двора;\nпропуск заказывать за день"],
            ["SHOP-X", "Магазин у дома", "", "retail", "нет", ""],
        ]
    )
    response = _upload(api, "clients", data, "клиенты.csv")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0}
    assert report["applied"] is True and report["refusals"] == []
    sber = _client(api, "SBER-X").get_json()
    assert sber == {
        "code": "SBER-X",
        "name": 'ПАО "Сбер"',
        "inn": "7707083893",
        "sector": "bank",
        "active": True,
        "notes": "Вход со двора;\nпропуск заказывать за день",
    }
    assert _client(api, "SHOP-X").get_json()["active"] is False
    history = api.get("/clients/SBER-X/history", as_="admin").get_json()["items"]
    assert [(change["action"], change["source"], change["actor"]) for change in history] == [
        ("created", "клиенты.csv", "admin")
    ]


def test_a_utf8_bom_comma_csv_updates_and_creates(api: Api) -> None:
    data = '\ufeffcode,name,notes\r\nNORD-BANK,Nord Bank,"line one\nline two"\r\nNEW-ONE,Новый,\r\n'.encode()
    response = _import(api, "clients", data, query="?filename=mine.csv")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"] == {"created": 1, "updated": 1, "unchanged": 0, "refused": 0}
    assert _client(api, "NORD-BANK").get_json()["notes"] == "line one\nline two"
    changes = api.get("/clients/NORD-BANK/history", as_="admin").get_json()["items"]
    assert changes[-1]["action"] == "updated" and changes[-1]["source"] == "mine.csv"
    assert _client(api, "NEW-ONE").get_json()["name"] == "Новый"


def _workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_written_by_openpyxl_imports_equipment_with_date_cells(api: Api) -> None:
    data = _workbook(
        [
            ["serial", "client", "vendor", "model", "equipment_class", "installed_on", "warranty_ends_on", "status"],
            ["XS-1", "NORD-BANK", "IBM", "FlashSystem 7300", "storage", date(2025, 3, 1), "31.12.2026", None],
            [100200300, "MEGA-RETAIL", "Dell", "R760", "servers", None, None, "in_service"],
        ]
    )
    response = api.post("/imports/equipment?filename=park.xlsx", as_="admin", data=data, content_type=XLSX)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["created"] == 2
    exported = api.get("/exports/equipment", as_="admin").get_data().decode("utf-8-sig")
    assert "XS-1;NORD-BANK;;IBM;FlashSystem 7300;storage;2025-03-01;2026-12-31;in_service" in exported
    assert "100200300;MEGA-RETAIL;;Dell;R760;servers;;;in_service" in exported


def test_bad_rows_are_each_refused_with_row_column_and_reason_and_nothing_is_written(api: Api) -> None:
    clients = _excel_csv(
        [
            ["code", "name", "inn"],
            ["GOOD-1", "Good", "7707083893"],
            ["BAD-INN", "Bad", "7707083894"],
            ["GOOD-1", "Again", ""],
        ]
    )
    response = _import(api, "clients", clients)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "refused": 2}
    assert problem["applied"] is False
    refusals = {(r["row"], r["column"]): r["reason"] for r in problem["refusals"]}
    assert set(refusals) == {(3, "inn"), (4, "code")}
    assert "check digits" in refusals[(3, "inn")]
    assert refusals[(4, "code")] == "the code GOOD-1 is on row 2 already"
    assert problem["errors"]["row 3"] == {"inn": [refusals[(3, "inn")]]}
    assert _client(api, "GOOD-1").status_code == 404  # the valid row went back with the rest

    equipment = _excel_csv(
        [
            ["serial", "client", "vendor", "model", "equipment_class", "installed_on"],
            ["EQ-1", "NO-SUCH", "IBM", "X", "storage", ""],
            ["EQ-2", "NORD-BANK", "IBM", "X", "storage", "31.02.2026"],
            ["EQ-3", "NORD-BANK", "IBM", "X", "storage", "2026-01-15"],
        ]
    )
    problem = _import(api, "equipment", equipment).get_json()
    refusals = {(r["row"], r["column"]): r["reason"] for r in problem["refusals"]}
    assert refusals == {
        (2, "client"): "no client 'NO-SUCH'",
        (3, "installed_on"): "'31.02.2026' is not a day of the calendar",
    }
    assert "EQ-3" not in api.get("/exports/equipment", as_="admin").get_data().decode("utf-8-sig")


def test_the_valid_rows_mode_keeps_the_valid_rows(api: Api) -> None:
    data = b"code;name;inn\r\nGOOD-2;Good;\r\nBAD-2;Bad;123\r\n"
    response = _import(api, "clients", data, query="?mode=valid_rows")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["counts"]["created"] == 1 and report["counts"]["refused"] == 1 and report["applied"] is True
    assert [(r["row"], r["column"]) for r in report["refusals"]] == [(3, "inn")]
    assert _client(api, "GOOD-2").status_code == 200
    assert _client(api, "BAD-2").status_code == 404


def test_a_dry_run_reports_and_writes_nothing(api: Api) -> None:
    data = b"code;name;notes\r\nDRY-1;Dry;\r\nNORD-BANK;Nord Bank;changed\r\n"
    response = _import(api, "clients", data, query="?dry_run=true")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["counts"] == {"created": 1, "updated": 1, "unchanged": 0, "refused": 0}
    assert report["dry_run"] is True and report["applied"] is False
    assert _client(api, "DRY-1").status_code == 404
    assert _client(api, "NORD-BANK").get_json()["notes"] != "changed"
    history = api.get("/clients/NORD-BANK/history", as_="admin").get_json()["items"]
    assert all(change["source"] == "" for change in history)


def test_an_export_imports_back_as_all_unchanged(api: Api) -> None:
    tricky = '"Quoted"; semicolon\nand a second line'
    setup = _excel_csv([["code", "name", "inn", "notes"], ["TRICKY", "Ёлка; «кавычки»", "500100732259", tricky]])
    assert _import(api, "clients", setup).status_code == 200
    equipment = (
        b"serial;client;vendor;model;equipment_class;warranty_ends_on\r\nEX-1;TRICKY;HPE;DL;servers;1.2.2027\r\n"
    )
    assert _import(api, "equipment", equipment).status_code == 200
    for kind in ("clients", "equipment"):
        exported = api.get(f"/exports/{kind}", as_="admin")
        assert exported.status_code == 200
        assert exported.mimetype == "text/csv"
        body = exported.get_data()
        assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
        again = _import(api, kind, body).get_json()
        assert again["counts"]["unchanged"] == again["rows"] > 1, again
        assert again["counts"]["created"] == again["counts"]["updated"] == again["counts"]["refused"] == 0


def test_wrong_headers_get_one_error_naming_the_expected_columns(api: Api) -> None:
    response = _import(api, "clients", "Код;Наименование;name\r\nA;B;C\r\n".encode())
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["expected"] == ["code", "name", "inn", "sector", "active", "notes"]
    assert problem["unknown"] == ["код", "наименование"] and problem["missing"] == ["code"]
    assert "code, name, inn, sector, active, notes" in problem["detail"]
    assert "refusals" not in problem


def test_an_unknown_kind_and_an_empty_file_are_refused(api: Api) -> None:
    assert _import(api, "planets", b"code\r\nX\r\n").status_code == 404
    assert api.get("/exports/planets", as_="admin").status_code == 404
    assert _import(api, "clients", b"").status_code == 422


def test_a_body_over_the_limit_is_refused_with_413(api: Api) -> None:
    big = b"code;name\r\n" + b"BIG-1;" + b"x" * (8 * 1024 * 1024) + b"\r\n"
    assert _import(api, "clients", big).status_code == 413
    assert _client(api, "BIG-1").status_code == 404


def test_only_administrators_import_and_export(api: Api) -> None:
    assert _import(api, "clients", b"code;name\r\nX-1;X\r\n", as_="manager").status_code == 403
    assert api.get("/exports/clients", as_="duty").status_code == 403
    assert _client(api, "X-1").status_code == 404


@pytest.mark.parametrize(
    ("written", "value"),
    [("1 234,50", "1234.50"), ("1\u00a0234,5", "1234.5"), ("1.234,50", "1234.50"), ("1,234.50", "1234.50"), (7, "7")],
)
def test_decimal_commas_and_grouped_digits(written: Any, value: str) -> None:
    assert cells.decimal(written) == value


def test_days_and_yes_no_as_people_write_them() -> None:
    assert cells.day("31.12.2026") == cells.day("2026-12-31") == cells.day(date(2026, 12, 31)) == "2026-12-31"
    assert cells.day("1.2.2027") == "2027-02-01"
    assert [cells.boolean(word) for word in ("да", "Нет", "YES", "false", "1", "0", "ИСТИНА")] == [
        True, False, True, False, True, False, True,
    ]  # fmt: skip
    for bad, parse in (("12/31/2026", cells.day), ("может быть", cells.boolean), ("1,2,3", cells.decimal)):
        with pytest.raises(CellError):
            parse(bad)


def test_the_cli_imports_with_a_dry_run_exits_non_zero_on_refusals_and_exports(ctx: Any, tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": ctx.config.database_url}
        command = [sys.executable, "-m", "service.cli", *argv]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    good = tmp_path / "good.csv"
    good.write_bytes(_excel_csv([["code", "name"], ["CLI-1", "Через командную строку"]]))
    dry = run("import", "clients", str(good), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1 created" in dry.stdout and "dry run, nothing written" in dry.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_excel_csv([["code", "name", "inn"], ["CLI-2", "Bad", "1"]]))
    refused = run("import", "clients", str(bad))
    assert refused.returncode == 1
    assert "bad.csv: row 2: inn: an INN is 10 digits" in refused.stdout
    applied = run("import", "clients", str(good))
    assert applied.returncode == 0 and "(written)" in applied.stdout, applied.stderr
    out = tmp_path / "clients.csv"
    assert run("export", "clients", str(out)).returncode == 0
    assert "CLI-1;Через командную строку" in out.read_text(encoding="utf-8-sig")
    assert "CLI-2" not in out.read_text(encoding="utf-8-sig")


def test_equipment_names_its_site_within_its_client_and_changes_keep_a_history(api: Api) -> None:
    from sqlalchemy import select

    from service.clients.models import Client, Site
    from service.db import transaction
    from service.directory.models import ChangeRecord

    with transaction(api.ctx.sessions) as session:
        nord = session.scalar(select(Client).where(Client.code == "NORD-BANK"))
        assert nord is not None
        session.add(Site(client_id=nord.id, code="DC-9", name="Data centre 9"))
    header = "serial;client;site;vendor;model;equipment_class;status\r\n"
    wrong = header + "ST-1;MEGA-RETAIL;DC-9;IBM;X;storage;\r\n"
    refusals = _import(api, "equipment", wrong.encode()).get_json()["refusals"]
    assert [(r["row"], r["column"], r["reason"]) for r in refusals] == [
        (2, "site", "the client MEGA-RETAIL has no site 'DC-9'")
    ]
    right = header + "ST-1;NORD-BANK;DC-9;IBM;X;storage;\r\n"
    assert _import(api, "equipment", right.encode()).get_json()["counts"]["created"] == 1
    retired = header + "ST-1;NORD-BANK;DC-9;IBM;X;storage;retired\r\n"
    report = _import(api, "equipment", retired.encode(), query="?filename=retire.csv").get_json()
    assert report["counts"] == {"created": 0, "updated": 1, "unchanged": 0, "refused": 0}
    exported = api.get("/exports/equipment", as_="admin").get_data().decode("utf-8-sig")
    assert "ST-1;NORD-BANK;DC-9;IBM;X;storage;;;retired" in exported
    with api.ctx.sessions() as session:
        changes = session.scalars(
            select(ChangeRecord).where(ChangeRecord.kind == "equipment", ChangeRecord.record_key == "ST-1")
        ).all()
        assert [(c.action, c.source, c.before, c.after) for c in changes][1] == (
            "updated",
            "retire.csv",
            {"status": "in_service"},
            {"status": "retired"},
        )
        assert changes[0].after["site"] == "DC-9" and changes[0].after["client"] == "NORD-BANK"
