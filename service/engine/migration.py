"""Moving a running instance onto another version of its diagram, and telling when that would be unsafe.

Versions of one process are matched element by element, by id. An instance may move when every element it has
passed still exists with the same kind, and every element it sits on (an open user task, a parked service task,
a waiting message) also still asks the same thing (form, queue, topic, message). Elements added or removed
elsewhere are fine: the part of the instance that lies ahead is predicted again from the new version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.util.task import TaskState

from .errors import MigrationRefused
from .serializer import SpecMismatch
from .specs import kind_of

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
REACHED = TaskState.FINISHED_MASK | OPEN


@dataclass(frozen=True)
class ReachedElement:
    """A diagram element an instance has passed, or sits on (``open``)."""

    element_id: str
    kind: str
    open: bool


@dataclass(frozen=True)
class DefinitionChanges:
    """How one version of a diagram differs from another, element by element."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]


def elements_of(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    """The diagram's elements (their task specs) by element id, sub-processes included."""
    found: dict[str, Any] = {}
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            element_id = getattr(task_spec, "bpmn_id", None)
            if element_id:
                found[element_id] = task_spec
    return found


def signature(task_spec: Any) -> dict[str, Any]:
    """What an element asks of the people, workers or messages that complete it."""
    config = getattr(task_spec, "config", None)
    if config is not None and hasattr(config, "form"):
        return {
            "form": [field.to_dict() for field in config.form],
            "candidate groups": config.candidate_groups,
            "assignee": config.assignee,
        }
    if hasattr(task_spec, "topic"):
        return {"topic": task_spec.topic}
    if hasattr(task_spec, "decision_ref"):
        return {"decision": task_spec.decision_ref, "result variable": task_spec.result_variable}
    if hasattr(task_spec, "script"):
        return {"script": task_spec.script}
    definition = getattr(task_spec, "event_definition", None)
    if definition is not None:
        return {"event": type(definition).__name__, "name": getattr(definition, "name", None)}
    return {}


def _differences(old: Any, new: Any) -> list[str]:
    if kind_of(old) != kind_of(new):
        return ["kind"]
    before, after = signature(old), signature(new)
    return [key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


def compare(old: dict[str, Any], new: dict[str, Any]) -> DefinitionChanges:
    """Elements added, removed and changed (kind, or what they ask) from ``old`` to ``new``."""
    return DefinitionChanges(
        added=tuple(sorted(set(new) - set(old))),
        removed=tuple(sorted(set(old) - set(new))),
        changed=tuple(sorted(key for key in set(old) & set(new) if _differences(old[key], new[key]))),
    )


def _tasks(workflow: Any) -> Iterator[Any]:
    for process in [workflow, *workflow.subprocesses.values()]:
        yield from process.tasks.values()


def reached(workflow: Any) -> list[ReachedElement]:
    """The elements the instance has passed or sits on (each once; an element passed and open again is open)."""
    found: dict[str, ReachedElement] = {}
    for task in _tasks(workflow):
        element_id = getattr(task.task_spec, "bpmn_id", None)
        if not element_id or not task.has_state(REACHED):
            continue
        is_open = task.has_state(OPEN)
        if element_id not in found or is_open:
            found[element_id] = ReachedElement(element_id, kind_of(task.task_spec), is_open)
    return sorted(found.values(), key=lambda element: element.element_id)


def problems(workflow: Any, target: dict[str, Any]) -> list[str]:
    """Why the instance cannot move onto a version with the ``target`` elements (empty when it can)."""
    specs = {getattr(task.task_spec, "bpmn_id", None): task.task_spec for task in _tasks(workflow) if task.task_spec}
    found = []
    for element in reached(workflow):
        where = "sits on" if element.open else "has passed"
        new = target.get(element.element_id)
        if new is None:
            found.append(f"{element.element_id} ({element.kind}), which the instance {where}, is not in this version")
            continue
        differences = _differences(specs[element.element_id], new)
        if "kind" in differences:
            found.append(
                f"{element.element_id}, which the instance {where}, is now a {kind_of(new)}, not a {element.kind}"
            )
        elif element.open and differences:
            found.append(f"{element.element_id}, which the instance sits on, changed its {', '.join(differences)}")
    return found


def prepare(document: str, spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """The document with the steps it predicted from its own version that ``spec`` lacks left out.

    Raises SpecMismatch for another process's document, MigrationRefused when it reached steps ``spec`` lacks.
    """
    dct = json.loads(document)
    if dct.get("spec") != spec.name:
        raise SpecMismatch(f"the document belongs to process {dct.get('spec')!r}, not {spec.name!r}")
    missing = _strip(dct.get("tasks", {}), spec)
    for sub in dct.get("subprocesses", {}).values():
        sub_spec = subprocess_specs.get(sub.get("spec"))
        if sub_spec is None:
            missing.append(str(sub.get("spec")))
        else:
            missing.extend(_strip(sub.get("tasks", {}), sub_spec))
    if missing:
        raise MigrationRefused(
            [f"{name}, which the instance reached, is not in this version" for name in sorted(set(missing))]
        )
    return json.dumps(dct)


def _strip(tasks: dict[str, Any], spec: Any) -> list[str]:
    """Drop predicted tasks of unknown steps (with what hangs below them); return unknown steps reached."""
    unknown = {key for key, task in tasks.items() if task["task_spec"] not in spec.task_specs}
    missing = [tasks[key]["task_spec"] for key in unknown if tasks[key]["state"] & REACHED]
    if missing:
        return missing
    doomed = set(unknown)
    stack = list(unknown)
    while stack:
        for child in tasks[stack.pop()]["children"]:
            if child not in doomed:
                doomed.add(child)
                stack.append(child)
    for key in doomed:
        parent = tasks.get(tasks[key]["parent"] or "")
        if parent is not None and tasks[key]["parent"] not in doomed:
            parent["children"].remove(key)
    for key in doomed:
        del tasks[key]
    return []


def repredict(workflow: Any) -> None:
    """Drop what was predicted beyond the open steps and predict it again from the workflow's (new) spec."""
    top = workflow
    for process in [workflow, *workflow.subprocesses.values()]:
        frontier = [
            task
            for task in process.tasks.values()
            if task.has_state(TaskState.NOT_FINISHED_MASK)
            and (task.parent is None or task.parent.has_state(TaskState.FINISHED_MASK))
        ]
        for task in frontier:
            stack = list(task.children)  # the task's descendants: all of them predictions
            while stack:
                child = stack.pop()
                top.event_manager.remove_task(child)
                stack.extend(child.children)
            task._drop_children()
            task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | task.state)
