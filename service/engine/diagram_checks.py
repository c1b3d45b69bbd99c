"""The checker's groundwork: naming a problem's element and line, keeping problems and warnings, and checking code,
templates and values. Each element's own checks are in `diagram_events` and `diagram_tasks`."""

from __future__ import annotations

import keyword

from lxml import etree

from .diagram_model import (
    CAMUNDA,
    NOTHING_KNOWN,
    DiagramInfo,
    Known,
)
from .errors import DiagramError, Problem
from .scripting import Mode, UnsafeCode, check_code, parse_template
from .timers import from_iso


class Checks:
    """Checks one process; each element's first problem is kept and the checks go on with the next element."""

    def __init__(self, info: DiagramInfo, filename: str, known: Known = NOTHING_KNOWN) -> None:
        self.info = info
        self.filename = filename
        self.known = known
        self.problems: list[Problem] = []

    def fail(self, node: etree._Element, detail: str, line: int | None = None, hint: str | None = None) -> DiagramError:
        """The problem of ``node``, named by its own id or, inside extension elements, by the element holding it."""
        return DiagramError(self.filename, owner_id(node), line or node.sourceline, detail, hint)

    def keep(self, error: DiagramError) -> None:
        self.problems.extend(error.problems)

    def warn(self, node: etree._Element, detail: str, hint: str | None = None) -> None:
        self.info.warnings.append(Problem(owner_id(node), node.sourceline, detail, hint))

    def code(self, node: etree._Element, source: str, mode: Mode, line: int | None) -> None:
        try:
            check_code(source, mode)
        except UnsafeCode as err:
            at = (line or node.sourceline) + (err.lineno - 1 if err.lineno else 0)
            where = f" (line {err.lineno} of the code)" if err.lineno else ""
            raise self.fail(node, f"refused code{where}: {err.detail}", at) from None

    def template(self, node: etree._Element, text: str) -> None:
        try:
            parse_template(text)
        except UnsafeCode as err:
            raise self.fail(node, f"refused expression {text!r}: {err.detail}") from None

    def iso_date(self, node: etree._Element, text: str) -> None:
        try:
            from_iso(text)
        except ValueError:
            raise self.fail(node, f"camunda:dueDate {text!r} is neither an ISO date nor ${{...}}") from None

    def integer(self, node: etree._Element, text: str) -> None:
        if not text.strip().lstrip("-").isdigit():
            raise self.fail(node, f"camunda:priority {text!r} is neither a whole number nor ${{...}}")

    @staticmethod
    def attr(node: etree._Element, name: str) -> str | None:
        return node.get(f"{{{CAMUNDA}}}{name}")


def attached_tag(node: etree._Element) -> str | None:
    """The BPMN tag of the element a boundary event is attached to (None when it names none beside it)."""
    attached = node.getparent().find(f"*[@id='{node.get('attachedToRef')}']")
    return etree.QName(attached).localname if attached is not None else None


def plain_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__")


def owner_id(node: etree._Element) -> str | None:
    """The id of ``node``, or of the nearest element holding it (a form field's, a listener's task)."""
    while node is not None:
        if node.get("id") and not inside_extensions(node):
            return str(node.get("id"))
        node = node.getparent()
    return None


def inside_extensions(node: etree._Element) -> bool:
    return any(etree.QName(parent).localname == "extensionElements" for parent in node.iterancestors())
