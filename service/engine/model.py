"""What the engine hands to the service: events and read-only views of open tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .forms import FormField


@dataclass(frozen=True)
class EngineEvent:
    """Base of everything ``Run.advance()`` reports."""

    element_id: str


@dataclass(frozen=True)
class DecisionTaken(EngineEvent):
    """A business rule task called ``decide``; the outcome went into its result variable."""

    ruleset: str
    outcome: dict[str, Any]
    rule: Any
    version: Any
    facts: dict[str, Any] = field(default_factory=dict)  # the facts the decision used, when the callback says
    copied: frozenset[str] = frozenset()  # the outcome keys copied from facts, when the callback says


@dataclass(frozen=True)
class TaskCompleted(EngineEvent):
    """A diagram element finished; ``kind`` is its BPMN tag (userTask, serviceTask, endEvent...)."""

    kind: str


@dataclass(frozen=True)
class UserTaskView:
    """An open user task, with its assignment expressions evaluated when it opened."""

    id: str
    name: str  # the element id in the diagram
    title: str  # the element's label (its id when unlabelled)
    candidate_groups: tuple[str, ...]
    assignee: str | None
    form_fields: tuple[FormField, ...]
    due: str | None  # ISO date or date-time, as the diagram (or its expression) gave it
    priority: int | None
    candidate_users: tuple[str, ...] = ()  # camunda:candidateUsers: people who may claim it besides the groups
    status: str | None = None  # the ticket status while it is open (its `status` property)
    sla: str | None = None  # its SLA behaviour (its `sla` property)


@dataclass(frozen=True)
class ExternalTaskView:
    """An open external service task, waiting for a worker to run its topic."""

    id: str
    name: str  # the element id in the diagram
    topic: str
    variables: dict[str, Any]
