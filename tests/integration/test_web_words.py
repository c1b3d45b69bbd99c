"""No code shown raw: every history kind the service writes, every ticket status it sets and the shipped diagram's
task names and options have their words in Russian and English; a Russian task page shows them."""

from __future__ import annotations

import ast
import re
from datetime import datetime, timezone

from flask import Flask
from flask.testing import FlaskClient

from service.processes.projection import STATUS_BY_MESSAGE, TASK_STATUSES
from service.sla.models import BREACH, WARNING
from service.tickets.history import ClientEvent
from service.tickets.models import INCIDENT
from service.web.labels import DIAGRAM_TEXTS, WORDS, diagram_word, word
from service.web.portal import event_text
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.signin import sign_in_page

#: The history kinds written from a variable: the SLA events, `sla_` and the event's kind.
SLA_KINDS = {f"sla_{kind}" for kind in (WARNING, BREACH)}
#: How an incident ends (`service.incidents.services.resolve`, given the kind as `event`).
RESOLVED_KINDS = {"incident_retried", "incident_resolved"}


def _written_kinds() -> set[str]:
    """The kinds of every history event the service's code writes: `record(...)`, `history_row(...)` and
    `HistoryEvent(kind=...)`; a kind that is neither a literal nor the SLA's fails here, to be listed above."""
    kinds: set[str] = set()
    for path in (ROOT / "service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if called == "record" and len(node.args) >= 4:
                kind = node.args[3]
            elif called == "history_row" and len(node.args) >= 3:
                kind = node.args[2]
            elif called == "HistoryEvent":
                kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
            else:
                continue
            if isinstance(kind, ast.Constant):
                kinds.add(kind.value)
            elif isinstance(kind, ast.JoinedStr) and ast.unparse(kind) == "f'sla_{event.kind}'":
                kinds |= SLA_KINDS
            elif path == ROOT / "service/incidents/services.py" and ast.unparse(kind) == "event":
                kinds |= RESOLVED_KINDS
            else:
                assert path == ROOT / "service/tickets/history.py", (
                    f"{path}: a history kind not known: {ast.unparse(kind)}"
                )  # type: ignore[arg-type]
    return kinds


def _in(app: Flask, language: str, text: object) -> str:
    with app.test_request_context(headers={"Accept-Language": language}):
        return str(text)


def test_every_history_kind_the_service_writes_has_its_words(app: Flask) -> None:
    kinds = _written_kinds()
    assert {"ticket_opened", "timer_fired", "bpmn_error", "incident", "task_reassigned", "file_uploaded"} <= kinds
    assert not kinds - set(WORDS["history"]), f"no words for {sorted(kinds - set(WORDS['history']))}"
    for kind in kinds:
        english, russian = (_in(app, language, WORDS["history"][kind]) for language in ("en", "ru"))
        assert english != kind and russian != kind
        assert re.search("[а-яё]", russian, re.IGNORECASE), f"{kind}: {russian!r} is not Russian"


def test_every_status_and_diagram_text_has_its_words(app: Flask) -> None:
    statuses = {*TASK_STATUSES, *STATUS_BY_MESSAGE.values(), INCIDENT, "new", "closed", "declined"}
    assert not statuses - set(WORDS["ticket_status"])
    assert _in(app, "ru", WORDS["ticket_status"][INCIDENT]) == "остановлена из-за сбоя"
    for text in DIAGRAM_TEXTS:
        assert re.search("[а-яё]", _in(app, "ru", DIAGRAM_TEXTS[text]), re.IGNORECASE), text
        assert _in(app, "en", DIAGRAM_TEXTS[text]) == text
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert diagram_word("Fix it somehow") == "Fix it somehow"  # a diagram's own text, as it writes it
        assert word("history", "file_uploaded") == "Файл загружен"
        event = ClientEvent(at=datetime.now(timezone.utc), actor="service_desk", kind="timer_fired", detail={})
        assert event_text(event) == "Сработал таймер"


def test_a_russian_task_page_shows_the_diagrams_words(app: Flask, api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task_id = api.task(number, "clarify", as_="duty")["id"]
    browser: FlaskClient = app.test_client()
    sign_in_page(browser, api.ctx, "duty")
    page = browser.get(f"/tasks/{task_id}", headers={"Accept-Language": "ru"}).text
    assert "<h1>Уточнить детали заявки</h1>" in page
    assert ">Оборудование</option>" in page and ">Нужны запчасти<" not in page  # clarify has no outcome
    assert "Clarify ticket details" not in page and ">Hardware<" not in page
    work = browser.get("/", headers={"Accept-Language": "ru"}).text
    assert '<span class="title">Уточнить детали заявки</span>' in work
