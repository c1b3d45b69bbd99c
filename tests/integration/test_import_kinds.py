"""Every directory kind imports from a real file and exports in the same columns: sites, contacts, equipment,
contracts, the price list and users, each through its own domain's rules."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bench.steps import counting
from service.auth.models import User
from tests.integration.conftest import Api

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = ("clients", "sites", "contacts", "equipment", "contracts", "price-list", "users")
#: The statements an import of a file of unchanged rows sends, whatever its length: the caller's token, the
#: savepoint, one query per table for the file's keys and what they refer to, the savepoint's end.
UNCHANGED_STATEMENTS = 8


def _excel_csv(rows: list[list[str]]) -> bytes:
    """A CSV as Russian Excel saves it: `;`, CRLF, cells with `;`, quotes or line breaks quoted, Windows-1251."""

    def cell(value: str) -> str:
        if any(mark in value for mark in ';"\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(";".join(cell(value) for value in row) + "\r\n" for row in rows).encode("cp1251")


def _workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(api: Api, kind: str, data: bytes, filename: str, *, query: str = "?mode=valid_rows") -> Any:
    response = api.post(
        f"/imports/{kind}{query}",
        as_="admin",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _counts(created: int, updated: int, unchanged: int, refused: int) -> dict[str, int]:
    return {"created": created, "updated": updated, "unchanged": unchanged, "refused": refused}


def _refusals(report: dict[str, Any]) -> dict[tuple[int, str | None], str]:
    return {(r["row"], r["column"]): r["reason"] for r in report["refusals"]}


def _sources(api: Api, path: str) -> list[tuple[str, str]]:
    return [(change["action"], change["source"]) for change in api.get(path, as_="admin").get_json()["items"]]


def test_sites_from_a_cp1251_semicolon_csv(api: Api) -> None:
    data = _excel_csv(
        [
            ["client", "code", "name", "city", "time_zone", "access_notes", "active"],
            ["NORD-BANK", "HQ", "Head office", "Moscow", "", "", ""],
            ["NORD-BANK", "DC-2", "Data centre 2", "Санкт-Петербург", "", "", ""],
            ["MEGA-RETAIL", "SKLAD-1", "Склад", "Подольск", "Europe/Moscow", "Въезд с улицы; звонить охране", "да"],
            ["NO-SUCH", "MAIN", "Main", "", "", "", ""],
            ["GOV-AGENCY", "MAIN", "Main", "", "Mars/Olympus", "", ""],
            ["NORD-BANK", "HQ", "Again", "", "", "", ""],
        ]
    )
    report = _upload(api, "sites", data, "площадки.csv")
    assert report["counts"] == _counts(1, 1, 1, 3)
    assert _refusals(report) == {
        (5, "client"): "no client 'NO-SUCH'",
        (6, "time_zone"): "not an IANA time zone (such as Europe/Moscow)",
        (7, "code"): "the client + code NORD-BANK/HQ is on row 2 already",
    }
    site = api.get("/clients/MEGA-RETAIL/sites/SKLAD-1", as_="admin").get_json()
    assert site["city"] == "Подольск" and site["access_notes"] == "Въезд с улицы; звонить охране"
    assert api.get("/clients/NORD-BANK/sites/DC-2", as_="admin").get_json()["city"] == "Санкт-Петербург"
    assert _sources(api, "/clients/MEGA-RETAIL/sites/SKLAD-1/history") == [("created", "площадки.csv")]
    assert _sources(api, "/clients/NORD-BANK/sites/DC-2/history")[-1] == ("updated", "площадки.csv")


def test_contacts_from_a_utf8_comma_csv_match_the_address_in_any_case(api: Api) -> None:
    data = (
        "client,email,name,language,confirmed\r\n"
        "NORD-BANK,IT@Nord-Bank.example,IT department,,\r\n"
        "MEGA-RETAIL,it@mega-retail.example,ИТ-отдел,en,\r\n"
        "NORD-BANK,Anna.Smirnova@nord-bank.example,Анна Смирнова,ru,нет\r\n"
        "NORD-BANK,not-an-address,Somebody,,\r\n"
        "MEGA-RETAIL,boss@mega-retail.example,Boss,de,\r\n"
    ).encode()
    report = _upload(api, "contacts", data, "contacts.csv")
    assert report["counts"] == _counts(1, 1, 1, 2)
    assert _refusals(report) == {(5, "email"): "Not a valid email address.", (6, "language"): "Must be one of: ru, en."}
    anna = api.get("/clients/NORD-BANK/contacts/anna.smirnova@nord-bank.example", as_="admin").get_json()
    assert anna["name"] == "Анна Смирнова" and anna["confirmed"] is False
    mega = api.get("/clients/MEGA-RETAIL/contacts/it@mega-retail.example", as_="admin").get_json()
    assert mega["language"] == "en" and mega["name"] == "ИТ-отдел"
    history = "/clients/NORD-BANK/contacts/anna.smirnova@nord-bank.example/history"
    assert _sources(api, history) == [("created", "contacts.csv")]


def test_equipment_from_an_xlsx_meets_the_equipment_rules(api: Api) -> None:
    header = ["serial", "client", "site", "vendor", "model", "equipment_class", "installed_on", "warranty_ends_on"]
    data = _workbook(
        [
            header,
            ["IBM-FS5200-0001", "NORD-BANK", "DC-2", "IBM", "IBM FlashSystem 5200", "storage", None, None],
            ["CISCO-C9300-0001", "NORD-BANK", "DC-2", "Cisco", "Cisco Catalyst 9300", "network", None, None],
            ["XL-NEW-1", "NORD-BANK", "HQ", "Cisco", "Catalyst 9500", "network", date(2025, 1, 10), "10.01.2028"],
            ["HPE-DL380-0003", "NORD-BANK", None, "HPE", "HPE ProLiant DL380", "servers", None, None],
            ["XL-NEW-2", "NORD-BANK", None, "IBM", "X", "storage", date(2026, 5, 1), date(2026, 1, 1)],
            ["XL-NEW-3", "MEGA-RETAIL", "HQ", "IBM", "X", "storage", None, None],
            ["XL-NEW-4", "NORD-BANK", None, "IBM", "X", "printers", None, None],
        ]
    )
    report = _upload(api, "equipment", data, "park.xlsx")
    assert report["counts"] == _counts(1, 1, 1, 4)
    refusals = _refusals(report)
    assert refusals == {
        (5, "client"): "the equipment HPE-DL380-0003 belongs to GOV-AGENCY and cannot move to NORD-BANK",
        (6, "warranty_ends_on"): "the warranty cannot end before the item was installed",
        (7, "site"): "the client MEGA-RETAIL has no site 'HQ'",
        (8, "equipment_class"): "no team serves the equipment class 'printers' (known: storage, servers, network)",
    }
    item = api.get("/equipment/XL-NEW-1", as_="admin").get_json()
    assert (item["site"], item["installed_on"], item["warranty_ends_on"]) == ("HQ", "2025-01-10", "2028-01-10")
    assert api.get("/equipment/CISCO-C9300-0001", as_="admin").get_json()["site"] == "DC-2"
    assert api.get("/equipment/HPE-DL380-0003", as_="admin").get_json()["client"] == "GOV-AGENCY"
    assert _sources(api, "/equipment/XL-NEW-1/history") == [("created", "park.xlsx")]
    assert _sources(api, "/equipment/CISCO-C9300-0001/history")[-1] == ("updated", "park.xlsx")


def test_a_warranty_before_the_stored_installation_is_refused_as_through_the_api(api: Api) -> None:
    header = "serial;client;vendor;model;equipment_class;installed_on;warranty_ends_on\r\n"
    first = header + "WR-1;NORD-BANK;IBM;X;storage;01.06.2026;\r\n"
    assert _upload(api, "equipment", first.encode(), "first.csv")["counts"]["created"] == 1
    later = header + "WR-1;NORD-BANK;IBM;X;storage;;01.01.2026\r\n"
    report = _upload(api, "equipment", later.encode(), "later.csv")
    assert _refusals(report) == {(2, "warranty_ends_on"): "the warranty cannot end before the item was installed"}


def test_contracts_with_lists_of_classes_and_serials_in_one_cell(api: Api) -> None:
    data = _excel_csv(
        [
            ["number", "client", "starts_on", "ends_on", "covers", "items", "service_level", "parts_included"],
            ["C-MEGA-1", "MEGA-RETAIL", "", "", "servers", "", "silver", ""],
            ["C-NORD-1", "NORD-BANK", "", "", "network, storage", "IBM-FS5200-0001 CISCO-C9300-0001", "", "да"],
            ["C-NEW-1", "TELECOM-ONE", "01.01.2026", "31.12.2026", "storage", "HUAWEI-OS-0004", "silver", "нет"],
            ["C-NEW-2", "MEGA-RETAIL", "01.01.2026", "31.12.2026", "servers", "IBM-FS5200-0001", "", ""],
            ["C-TEL-1", "NORD-BANK", "", "", "", "", "", ""],
            ["C-NEW-3", "MEGA-RETAIL", "01.01.2026", "31.12.2025", "servers", "", "", ""],
            ["C-NEW-4", "MEGA-RETAIL", "01.01.2026", "31.12.2026", "servers", "", "platinum", ""],
        ]
    )
    report = _upload(api, "contracts", data, "договоры.csv")
    assert report["counts"] == _counts(1, 1, 1, 4)
    assert _refusals(report) == {
        (5, "items"): "not equipment of the client MEGA-RETAIL: IBM-FS5200-0001",
        (6, "client"): "the contract C-TEL-1 is of TELECOM-ONE: a contract never moves to NORD-BANK",
        (7, "ends_on"): "the contract cannot end before it starts",
        (8, "service_level"): "no service level 'platinum' (GET /sla/service-levels lists them)",
    }
    nord = api.get("/contracts/C-NORD-1", as_="admin").get_json()
    assert nord["covers"] == ["storage", "network"] and nord["parts_included"] is True
    assert sorted(nord["items"]) == ["CISCO-C9300-0001", "IBM-FS5200-0001"]
    new = api.get("/contracts/C-NEW-1", as_="admin").get_json()
    assert (new["client"], new["starts_on"], new["items"]) == ("TELECOM-ONE", "2026-01-01", ["HUAWEI-OS-0004"])
    assert _sources(api, "/contracts/C-NEW-1/history") == [("created", "договоры.csv")]
    assert _sources(api, "/contracts/C-NORD-1/history")[-1] == ("updated", "договоры.csv")


def _prices(api: Api, **query: str) -> list[dict[str, Any]]:
    found = api.get("/price-list", as_="admin", query_string={**query, "page_size": 200}).get_json()
    return list(found["items"])


def test_the_price_list_with_decimal_commas(api: Api) -> None:
    data = _excel_csv(
        [
            ["class", "vendor", "model", "item", "valid_from", "price", "currency"],
            ["storage", "", "", "diagnostics", "01.01.2000", "25 000,00", "RUB"],
            ["servers", "", "", "diagnostics", "2000-01-01", "15 500,5", ""],
            ["storage", "IBM", "IBM FlashSystem 5200", "controller", "01.01.2027", "520 000", "RUB"],
            ["network", "", "", "diagnostics", "01.01.2000", "-5", "RUB"],
            ["network", "", "Catalyst 9300", "transceiver", "01.01.2027", "100", "RUB"],
            ["network", "", "", "transceiver", "01.01.2027", "100", "RUR"],
        ]
    )
    report = _upload(api, "price-list", data, "прайс.csv")
    assert report["counts"] == _counts(1, 1, 1, 3)
    assert _refusals(report) == {
        (5, "price"): "above 0 and at most 9999999999",
        (6, "vendor"): "required with a model",
        (7, "currency"): "an ISO 4217 currency code, e.g. RUB, EUR, USD",
    }
    servers = [p for p in _prices(api, item="diagnostics") if p["equipment_class"] == "servers"]
    assert [p["price"] for p in servers] == ["15500.50"]
    controller = _prices(api, item="controller", vendor="IBM")
    assert [(p["model"], p["price"], p["valid_from"]) for p in controller] == [
        ("IBM FlashSystem 5200", "520000.00", "2027-01-01")
    ]
    assert _sources(api, f"/price-list/{controller[0]['id']}/history") == [("created", "прайс.csv")]
    assert _sources(api, f"/price-list/{servers[0]['id']}/history")[-1] == ("updated", "прайс.csv")


ENGINEER = "storage.l1@orchestrator.example"


def test_users_with_roles_and_groups_in_one_cell_and_never_a_password(api: Api) -> None:
    data = _workbook(
        [
            ["username", "name", "email", "roles", "groups", "client", "language"],
            ["duty", "duty", "duty@orchestrator.example", "duty", "duty", None, None],
            ["storage.l1", "Иван Петров", ENGINEER, "engineer", "storage-L2, storage-L1", None, "en"],
            ["nb.viewer", "Ольга", "olga@nord-bank.example", "client", None, "NORD-BANK", None],
            ["bad.client", "X", "x@example.com", "client", None, "NO-SUCH", None],
            ["no.group", "G", "g@example.com", "duty", "night-shift", None, None],
            ["Upper", "U", "u@example.com", "duty", None, None, None],
        ]
    )  # fmt: skip
    report = _upload(api, "users", data, "people.xlsx")
    assert report["counts"] == _counts(1, 1, 1, 3)
    assert _refusals(report) == {
        (5, "client"): "no client 'NO-SUCH'",
        (6, "groups"): "no group 'night-shift'",
        (7, "username"): "lower-case letters, digits, '.', '_' and '-', from a letter or digit",
    }
    engineer = api.get("/users/storage.l1", as_="admin").get_json()
    assert engineer["groups"] == ["storage-L1", "storage-L2"] and engineer["name"] == "Иван Петров"
    viewer = api.get("/users/nb.viewer", as_="admin").get_json()
    assert (viewer["roles"], viewer["client"]) == (["client"], "NORD-BANK")
    assert _sources(api, "/users/nb.viewer/history") == [("created", "people.xlsx")]
    assert _sources(api, "/users/storage.l1/history")[-1] == ("updated", "people.xlsx")
    with api.ctx.sessions() as session:
        assert session.scalar(select(User.password_hash).where(User.username == "nb.viewer")) is None

    with_password = b"username;name;email;roles;password\r\nx.y;X;x@example.com;duty;secret\r\n"
    refused = api.post("/imports/users", as_="admin", data=with_password, content_type="text/csv")
    assert refused.status_code == 422
    assert refused.get_json()["unknown"] == ["password"]
    assert api.get("/users/x.y", as_="admin").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_exports_in_its_columns_and_imports_back_unchanged(api: Api, kind: str) -> None:
    exported = api.get(f"/exports/{kind}", as_="admin")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    body = exported.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    with counting() as seen:
        again = api.post(f"/imports/{kind}", as_="admin", data=body, content_type="text/csv")
    report = again.get_json()
    assert again.status_code == 200, report
    assert report["counts"] == _counts(0, 0, report["rows"], 0) and report["rows"] > 1, report
    assert seen.total <= UNCHANGED_STATEMENTS, "\n".join(seen.texts)


def test_a_dry_run_of_another_kind_reports_and_writes_nothing(api: Api) -> None:
    data = "client;code;name;city\r\nNORD-BANK;DRY-1;Dry;\r\nNORD-BANK;HQ;Head office;Казань\r\n".encode()
    response = api.post("/imports/sites?dry_run=true", as_="admin", data=data, content_type="text/csv")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["counts"] == _counts(1, 1, 0, 0) and report["applied"] is False
    assert api.get("/clients/NORD-BANK/sites/DRY-1", as_="admin").status_code == 404
    assert api.get("/clients/NORD-BANK/sites/HQ", as_="admin").get_json()["city"] == "Moscow"
