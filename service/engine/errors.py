"""Errors raised by the engine; each carries the BPMN context the API reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in a diagram: the element, its XML line, what and what to do instead."""

    element_id: str | None
    line: int | None
    detail: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The problem as the API answers it."""
        return {"element": self.element_id, "line": self.line, "detail": self.detail, "hint": self.hint}

    def text(self, filename: str) -> str:
        """``file:line (element): detail (hint)``, as the command line prints it."""
        where = filename
        if self.line is not None:
            where += f":{self.line}"
        if self.element_id:
            where += f" ({self.element_id})"
        return f"{where}: {self.detail}" + (f"; {self.hint}" if self.hint else "")


class DiagramError(Exception):
    """A diagram was refused at load time: file, and every problem found (element, XML line, reason, hint).

    ``element_id``, ``line``, ``detail`` and ``hint`` are those of the first problem (in the file's order).
    """

    def __init__(
        self,
        filename: str,
        element_id: str | None,
        line: int | None,
        detail: str,
        hint: str | None = None,
        *,
        problems: list[Problem] | None = None,
    ) -> None:
        self.filename = filename
        self.problems = problems or [Problem(element_id, line, detail, hint)]
        first = self.problems[0]
        self.element_id, self.line, self.detail, self.hint = first.element_id, first.line, first.detail, first.hint
        more = len(self.problems) - 1
        super().__init__(first.text(filename) + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))


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


class ModificationRefused(Exception):
    """A token cannot be moved as asked: ``detail`` says why (an unknown element, one that cannot hold a token,
    no token to cancel, an instance that has ended); ``field`` names what was asked wrong (``cancel`` or
    ``start_before``; ``activityId`` of the instruction at ``index`` of an instruction list)."""

    def __init__(self, field: str, detail: str, index: int | None = None) -> None:
        self.field = field
        self.detail = detail
        self.index = index
        super().__init__(detail)


def engine_error_in(err: BaseException) -> EngineError | None:
    """The EngineError among the causes of `err` (the library wraps ours, as a failing condition's), or None."""
    seen: BaseException | None = err
    for _ in range(10):
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if seen is None or isinstance(seen, EngineError):
            return seen
    return None
