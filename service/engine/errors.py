"""Errors raised by the engine; each carries the BPMN context the API reports."""

from __future__ import annotations


class DiagramError(Exception):
    """A diagram was refused at load time: file, element, XML line and reason."""

    def __init__(self, filename: str, element_id: str | None, line: int | None, detail: str) -> None:
        self.filename = filename
        self.element_id = element_id
        self.line = line
        self.detail = detail
        where = filename
        if line is not None:
            where += f":{line}"
        if element_id:
            where += f" ({element_id})"
        super().__init__(f"{where}: {detail}")


class FormError(Exception):
    """Submitted form data does not match the task's form: ``errors`` maps field -> messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        summary = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in sorted(errors.items()))
        super().__init__(f"invalid form data: {summary}")


class TaskNotOpen(Exception):
    """The task id is unknown, or the task is not open (already completed, or of another kind)."""

    def __init__(self, task_id: str, detail: str = "task is not open") -> None:
        self.task_id = task_id
        self.detail = detail
        super().__init__(f"{task_id}: {detail}")


class EngineError(Exception):
    """A failure while running an instance: script error, decision failure, instance too large...

    ``budget`` is true when a script, condition or expression was stopped by its CPU or memory budget, or the
    instance's data passed its size budget.
    """

    def __init__(self, element_id: str | None, filename: str | None, detail: str, *, budget: bool = False) -> None:
        self.element_id = element_id
        self.filename = filename
        self.detail = detail
        self.budget = budget
        where = ":".join(part for part in (filename, element_id) if part)
        super().__init__(f"{where}: {detail}" if where else detail)


class MigrationRefused(Exception):
    """An instance cannot move onto another version of its diagram: ``problems`` says why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
