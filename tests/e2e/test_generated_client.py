"""A client generated from the served OpenAPI document (openapi-python-client, offline) builds without a warning and
drives a ticket through its first steps against gunicorn and the worker."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

PACKAGE = "service_desk_client"
#: The generator reads raw bodies (diagrams, rule files) as bytes: the server takes any content type as the file.
CONFIG = {
    "package_name_override": PACKAGE,
    "content_type_overrides": {
        "application/xml": "application/octet-stream",
        "application/yaml": "application/octet-stream",
    },
}


def _generate(stack: Stack, where: Path) -> None:
    document = requests.get(f"{stack.base}/api/v1/openapi.json", timeout=30)
    assert document.status_code == 200
    (where / "openapi.json").write_text(document.text)
    (where / "config.json").write_text(json.dumps(CONFIG))
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(generator), "generate", "--path", "openapi.json", "--config", "config.json", "--meta", "none"],
        cwd=where,
        env={"PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert (where / PACKAGE / "client.py").exists(), output


def _wait(what: str, probe: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.1)
    return found


def test_a_generated_client_drives_a_ticket(stack: Stack, tmp_path: Path) -> None:
    _generate(stack, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module(f"{PACKAGE}.client")
        tickets = importlib.import_module(f"{PACKAGE}.api.tickets")
        tasks = importlib.import_module(f"{PACKAGE}.api.tasks")
        models = importlib.import_module(f"{PACKAGE}.models")
        for name in ("post_tickets", "get_ticket_by_number"):
            importlib.import_module(f"{PACKAGE}.api.tickets.{name}")
        for name in ("get_tasks", "post_complete"):
            importlib.import_module(f"{PACKAGE}.api.tasks.{name}")

        duty = client_module.AuthenticatedClient(base_url=stack.base, token=stack.token("duty"))
        body = models.TicketCreate(
            client="NORD-BANK",
            contact_email="it@nord-bank.example",
            equipment_serial="IBM-FS5200-0001",
            channel=models.TicketCreateChannel.PHONE,
            summary="Disk array degraded",
            severity=models.TicketCreateSeverity.HIGH,
            category=models.TicketCreateCategory.HARDWARE,
        )
        opened = tickets.post_tickets.sync_detailed(client=duty, body=body)
        assert opened.status_code == 201, opened.content
        number = opened.parsed.number

        def clarify() -> Any:
            page = tasks.get_tasks.sync(client=duty, ticket=number, name="clarify")
            return next(iter(page.items), None)

        task = _wait("the clarify task", clarify)
        assert task.ticket_summary == "Disk array degraded"
        data = models.CompleteData.from_dict({"description": "Controller B failed", "severity": "high"})
        done = tasks.post_complete.sync_detailed(task.id, client=duty, body=models.Complete(data=data))
        assert done.status_code == 200, done.content

        missing = tickets.get_ticket_by_number.sync_detailed("SD-999999", client=duty)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem) and missing.parsed.status == 404

        ticket = tickets.get_ticket_by_number.sync(number, client=duty)
        assert ticket.number == number
        assert ticket.route == "contract"
        assert ticket.severity == models.TicketDetailSeverity.HIGH
        assert "clarify" not in [open_task.name for open_task in ticket.open_tasks]
    finally:
        sys.path.remove(str(tmp_path))
        for module in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[module]
