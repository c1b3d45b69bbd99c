"""Clients over the API: list, search, read, create, change with If-Match, deactivate, delete, history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api

NEW = {"code": "NEW-BANK", "name": "Новый Банк", "inn": "7707083893", "sector": "bank"}


def _create(api: Api, **fields: Any) -> Any:
    return api.post("/clients", as_="admin", json={**NEW, **fields})


def _patch(api: Api, code: str, body: dict[str, Any], etag: str | None, *, as_: str = "admin") -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"/clients/{code}", as_=as_, json=body, headers=headers)


def test_a_client_is_created_read_and_found_by_text(api: Api) -> None:
    created = _create(api)
    assert created.status_code == 201, created.get_json()
    assert created.headers["ETag"]
    read = api.get("/clients/NEW-BANK", as_="manager")
    assert read.get_json() == {**NEW, "active": True, "notes": ""}
    assert read.headers["ETag"] == created.headers["ETag"]
    found = api.get("/clients?q=новый", as_="duty").get_json()  # Cyrillic folds case on SQLite too
    assert [client["code"] for client in found["items"]] == ["NEW-BANK"]
    assert api.get("/clients?q=100%25", as_="duty").get_json()["items"] == []  # % is a plain character


@pytest.mark.parametrize(
    ("field", "value"),
    [("inn", "7707083894"), ("inn", "12345"), ("inn", "77070838931"), ("code", "new bank"), ("sector", "bakery")],
)
def test_bad_fields_are_refused_naming_the_field(api: Api, field: str, value: str) -> None:
    response = _create(api, **{field: value})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_twelve_digit_inn_of_a_sole_trader_is_accepted(api: Api) -> None:
    assert _create(api, inn="500100732259").status_code == 201


def test_a_taken_code_is_a_conflict(api: Api) -> None:
    assert _create(api).status_code == 201
    assert _create(api).status_code == 409


def test_a_change_needs_the_version_read_and_a_stale_one_is_refused(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "NEW-BANK", {"name": "A"}, None).status_code == 428
    first = _patch(api, "NEW-BANK", {"name": "Первый"}, etag)
    assert first.status_code == 200, first.get_json()
    stale = _patch(api, "NEW-BANK", {"name": "Второй"}, etag)
    assert stale.status_code == 412
    assert api.get("/clients/NEW-BANK", as_="admin").get_json()["name"] == "Первый"
    again = _patch(api, "NEW-BANK", {"name": "Второй"}, first.headers["ETag"])
    assert again.status_code == 200


def test_only_administrators_change_the_directory(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert api.post("/clients", as_="manager", json={**NEW, "code": "X"}).status_code == 403
    assert _patch(api, "NEW-BANK", {"name": "B"}, etag, as_="duty").status_code == 403
    assert api.get("/clients", as_="storage.l1").status_code == 403


def test_deactivating_keeps_the_client_and_the_filter_sees_it(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "NEW-BANK", {"active": False}, etag).status_code == 200
    inactive = api.get("/clients?active=false", as_="admin").get_json()["items"]
    assert [client["code"] for client in inactive] == ["NEW-BANK"]
    history = api.get("/clients/NEW-BANK/history", as_="manager").get_json()["items"]
    assert [change["action"] for change in history] == ["created", "deactivated"]
    assert history[1]["before"] == {"active": True} and history[1]["after"] == {"active": False}
    assert history[1]["actor"] == "admin"


def test_a_client_something_refers_to_is_not_deleted(api: Api) -> None:
    etag = api.get("/clients/NORD-BANK", as_="admin").headers["ETag"]
    refused = api.call("DELETE", "/clients/NORD-BANK", as_="admin", headers={"If-Match": etag})
    assert refused.status_code == 409
    assert refused.get_json()["references"]["equipment"] == 3
    assert "equipment" in refused.get_json()["detail"]
    fresh = _create(api).headers["ETag"]
    assert api.call("DELETE", "/clients/NEW-BANK", as_="admin", headers={"If-Match": fresh}).status_code == 204
    assert api.get("/clients/NEW-BANK", as_="admin").status_code == 404
    history = api.get("/clients/NEW-BANK/history", as_="admin").get_json()["items"]
    assert history[-1]["action"] == "deleted"


def test_pages_never_skip_or_repeat_while_clients_are_added(api: Api) -> None:
    for index in range(7):
        assert _create(api, code=f"P-{index}", inn=None).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        query = "/clients?page_size=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, as_="admin").get_json()
        seen += [client["code"] for client in page["items"]]
        if len(seen) == 3:
            assert _create(api, code="A-FIRST", inn=None).status_code == 201  # sorts before every page read
            assert _create(api, code="Z-LAST", inn=None).status_code == 201
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert "Z-LAST" in seen and "A-FIRST" not in seen
    assert api.get("/clients?cursor=garbage", as_="admin").status_code == 422
