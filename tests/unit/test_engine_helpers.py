"""Shared helpers for the engine tests (no tests here).

``FakeRules`` stands in for service/decisions at the engine boundary; ``Driver`` drives an
instance the way the service does, serialising and restoring it around every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.engine import Definition, EngineEvent, Run, UserTaskView, load_definition

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = Path(__file__).resolve().parent / "diagrams"

TICKET_VARIABLES: dict[str, Any] = {
    "ticket": "SD-000001",
    "client": "acme-bank",
    "client_name": "Acme Bank",
    "contact_email": "ops@acme.example",
    "channel": "portal",
    "summary": "Disk array degraded",
    "description": "",
    "severity": "high",
    "category": "hardware",
    "equipment_serial": "IBM-DS-0042",
    "equipment_class": "disk_array",
    "equipment_vendor": "IBM",
    "contract_status": "active",
    "contract_covers_class": True,
    "service_level": "gold",
    "paid": False,
}


def ticket_definition() -> Definition:
    """The shipped default flow."""
    path = ROOT / "processes" / "ticket.bpmn"
    return load_definition(path.read_bytes(), filename=path.name)


def small_diagram(name: str) -> Definition:
    """One of the small diagrams in tests/unit/diagrams."""
    path = DIAGRAMS / name
    return load_definition(path.read_bytes(), filename=name)


@dataclass
class Decision:
    outcome: dict[str, Any]
    rule: str
    version: str = "v1"


@dataclass
class FakeRules:
    """A tiny stand-in for the rulesets: per_call or contract, one team, escalation by level."""

    route: str = "contract"
    team: str = "storage"
    level: int = 1
    max_level: int = 3
    second_circles: int = 1  # how many second circles before a manager review
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, ruleset: str, facts: dict[str, Any]) -> Decision:
        self.calls.append((ruleset, facts))
        if ruleset == "entitlement":
            return Decision({"route": self.route, "reason": f"fake {self.route}"}, f"entitlement.{self.route}")
        if ruleset == "routing":
            return Decision({"team": self.team, "level": self.level}, "routing.default")
        if ruleset == "escalation":
            level, circle = facts["level"], facts["circle"]
            if level < self.max_level:
                return Decision({"action": "next_level", "level": level + 1, "circle": circle}, "escalation.next")
            if circle <= self.second_circles:
                return Decision({"action": "second_circle", "level": level, "circle": circle + 1}, "escalation.circle")
            return Decision({"action": "manager_review", "level": level, "circle": circle}, "escalation.manager")
        raise KeyError(f"no ruleset {ruleset!r}")

    def facts_of(self, ruleset: str) -> list[dict[str, Any]]:
        return [facts for name, facts in self.calls if name == ruleset]


def external_result(topic: str, variables: dict[str, Any]) -> dict[str, Any]:
    """What the worker's adapters would return for each topic of the default flow."""
    if topic == "files.create_folder":
        return {"folder_url": f"file:///srv/tickets/{variables['ticket']}"}
    return {}


class Driver:
    """Drives a Run like the service: serialise + restore around every step, worker for externals."""

    def __init__(self, definition: Definition, decide: Any, variables: dict[str, Any] | None = None) -> None:
        self.definition = definition
        self.decide = decide
        self.run: Run = definition.start(dict(TICKET_VARIABLES if variables is None else variables), decide=decide)
        self.events: list[EngineEvent] = []
        self.topics: list[str] = []
        self.documents: list[str] = []
        self.advance()

    def roundtrip(self) -> None:
        document = self.run.serialize()
        self.documents.append(document)
        self.run = self.definition.restore(document, decide=self.decide)

    def advance(self) -> None:
        self.roundtrip()
        self.events.extend(self.run.advance())
        self.roundtrip()
        while self.run.external_tasks():
            task = self.run.external_tasks()[0]
            self.topics.append(task.topic)
            self.run.complete_external_task(task.id, external_result(task.topic, task.variables))
            self.roundtrip()
            self.events.extend(self.run.advance())
            self.roundtrip()

    def task(self, name: str) -> UserTaskView:
        matches = [t for t in self.run.user_tasks() if t.name == name]
        assert matches, f"{name} is not open; open: {self.open_tasks()}"
        return matches[0]

    def open_tasks(self) -> list[str]:
        return [t.name for t in self.run.user_tasks()]

    def complete(self, name: str, data: dict[str, Any]) -> None:
        self.run.complete_user_task(self.task(name).id, data)
        self.advance()

    def completed_elements(self) -> list[str]:
        return [e.element_id for e in self.events if type(e).__name__ == "TaskCompleted"]


def process_xml(body: str, *, extra: str = "", process_attrs: str = 'id="demo" isExecutable="true"') -> bytes:
    """A small diagram (no layout: the engine does not need it) around flow elements ``body``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process {process_attrs}>
{body}
  </bpmn:process>
{extra}
</bpmn:definitions>
""".encode()


def linear(*elements: str) -> bytes:
    """start -> elements (each given as an XML element with id="e1", "e2"...) -> end."""
    ids = ["start"] + [f"e{i}" for i in range(1, len(elements) + 1)] + ["end"]
    flows = "\n".join(
        f'    <bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    )
    body = '    <bpmn:startEvent id="start" />\n' + "\n".join(f"    {el}" for el in elements)
    return process_xml(body + '\n    <bpmn:endEvent id="end" />\n' + flows)
