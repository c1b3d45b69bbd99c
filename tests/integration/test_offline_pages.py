"""The engineer's day offline, on the server's side: a task completion sent again with its Idempotency-Key (a form
replayed when the connection returned, a retry after a lost answer) answers as the first did and completes the task
once, through the API and through the task page; and the service worker is served from the site's root."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from service.context import Context
from tests.integration.conftest import Api
from tests.integration.test_field_pages import _signed_in
from tests.integration.test_permission_matrix import _at_resolve
from tests.support.signin import csrf_of

SOLVED = {"outcome": "solved"}
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _completions(api: Api, number: str, task_id: str) -> int:
    return sum(1 for e in api.history(number) if e["kind"] == "task_completed" and e["detail"]["task_id"] == task_id)


def _complete(api: Api, task_id: str, data: dict[str, Any], key: str | None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/tasks/{task_id}/complete", as_="storage.l1", json={"data": data}, headers=headers)


def test_a_completion_sent_again_with_its_key_answers_as_the_first_and_completes_once(api: Api) -> None:
    number, task = _at_resolve(api)

    first, again = _complete(api, task, SOLVED, "form-1"), _complete(api, task, SOLVED, "form-1")

    assert (first.status_code, again.status_code) == (200, 200), again.get_json()
    assert first.get_json()["ticket"] == again.get_json()["ticket"] == number
    assert _completions(api, number, task) == 1
    assert _complete(api, task, SOLVED, None).status_code == 409  # without the key, a completed task is refused
    assert _complete(api, task, SOLVED, "form-2").status_code == 409  # another key is another completion


def test_the_key_sent_again_with_other_values_is_refused(api: Api) -> None:
    number, task = _at_resolve(api)
    assert _complete(api, task, SOLVED, "form-1").status_code == 200

    other = _complete(api, task, {"outcome": "needs_l2"}, "form-1")

    assert other.status_code == 422
    assert "Idempotency-Key" in other.get_json()["errors"]
    assert _completions(api, number, task) == 1


def test_a_refused_completion_leaves_its_key_unused(api: Api) -> None:
    number, task = _at_resolve(api)
    assert _complete(api, task, {"outcome": "no-such-outcome"}, "form-1").status_code == 422

    assert _complete(api, task, SOLVED, "form-1").status_code == 200
    assert _completions(api, number, task) == 1


def test_the_task_form_sent_twice_completes_its_task_once(app: Flask, ctx: Context, api: Api) -> None:
    number, task = _at_resolve(api)
    browser = _signed_in(app, ctx, "storage.l1")
    page = browser.get(f"/tasks/{task}").text
    found = _KEY.search(page)
    assert found, page
    form = {"csrf": csrf_of(page), "idempotency_key": found.group(1), **SOLVED}

    first, replayed = (
        browser.post(f"/tasks/{task}/complete", data=form),
        browser.post(f"/tasks/{task}/complete", data=form),
    )

    assert (first.status_code, replayed.status_code) == (303, 303)
    assert first.headers["Location"] == replayed.headers["Location"] == f"/?completed={number}"
    assert _completions(api, number, task) == 1
    another = browser.post(f"/tasks/{task}/complete", data={**form, "idempotency_key": "another"})
    assert another.status_code == 409 and "This task is already done" in another.text
    assert _KEY.search(browser.get(f"/tasks/{task}").text) is None  # a completed task has no form to send


def test_each_task_page_carries_a_new_key(app: Flask, ctx: Context, api: Api) -> None:
    _number, task = _at_resolve(api)
    browser = _signed_in(app, ctx, "storage.l1")
    keys = {_KEY.findall(browser.get(f"/tasks/{task}").text)[0] for _ in range(2)}
    assert len(keys) == 2


def test_the_service_worker_is_served_from_the_root_and_every_page_registers_it(app: Flask) -> None:
    client = app.test_client()
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache" and worker.headers["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("fetch"' in worker.data
    login = client.get("/login").text
    assert '<script src="/assets/offline.js" defer></script>' in login
    assert '<p id="offline-banner" class="alert" role="status" hidden>' in login
    registering = client.get("/assets/offline.js")
    assert registering.status_code == 200 and b'register("/sw.js", { scope: "/" })' in registering.data
