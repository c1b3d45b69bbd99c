"""Restricted Python for diagram scripts, gateway conditions and ``${...}`` expressions.

The inside of ``${...}`` (or ``#{...}``) is Camunda's expression language, translated by ``juel`` into the same
restricted Python; an expression that is not JUEL but is restricted Python (what earlier diagrams of this service
wrote) is taken as Python.

A diagram is uploaded by a person, so everything in it that runs is untrusted input. The code is checked when
the diagram loads (``check_code``): the project's own rules first (no imports, definitions, ``while``, ``try``,
``with``, ``match``; a whitelist of names and methods), then RestrictedPython's compiler, which turns every
attribute access, subscript and iteration into a call of a guard (``sandbox.py``). Each run gets a fresh CPU and
memory budget (``budget.py``).
"""

from __future__ import annotations

import ast
import copy
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType
from typing import Any, Literal, cast

from RestrictedPython import compile_restricted_eval, compile_restricted_exec

from . import juel
from .budget import ScriptLimits
from .sandbox import GUARD_NAMES, SAFE_ATTRIBUTES, ScriptPolicy, run_globals

Mode = Literal["exec", "eval"]

MAX_CODE_LENGTH = 20_000
DEFAULT_LIMITS = ScriptLimits()

# Names that must never appear, even as variables: they are how sandboxes get escaped.
FORBIDDEN_NAMES = frozenset(
    {
        "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "hasattr", "globals",
        "locals", "vars", "dir", "type", "object", "super", "input", "breakpoint", "help", "memoryview",
        "classmethod", "staticmethod", "property", "exit", "quit", "__import__", "__builtins__",
        "importlib", "os", "sys", "subprocess", "builtins", "format", "iter", "next", "id", "repr",
    }
)  # fmt: skip

_FORBIDDEN_NODES: dict[type, str] = {
    ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed",
    ast.Global: "'global' is not allowed",
    ast.Nonlocal: "'nonlocal' is not allowed",
    ast.FunctionDef: "function definitions are not allowed",
    ast.AsyncFunctionDef: "function definitions are not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.While: "'while' loops are not allowed",
    ast.With: "'with' is not allowed",
    ast.AsyncWith: "'with' is not allowed",
    ast.AsyncFor: "async code is not allowed",
    ast.Await: "async code is not allowed",
    ast.Yield: "generators are not allowed",
    ast.YieldFrom: "generators are not allowed",
    ast.Try: "'try' is not allowed",
    # A class pattern reads attributes past any guard (`case str(format=f)`): no pattern matching at all.
    ast.Match: "'match' is not allowed",
}
if hasattr(ast, "TryStar"):  # Python 3.11+: `try/except*`
    _FORBIDDEN_NODES[ast.TryStar] = "'try' is not allowed"

_RESTRICTED_ERROR = re.compile(r"^Line (\d+): (.*)$", re.DOTALL)


class UnsafeCode(Exception):
    """Code refused by the restricted checker, with the line (1-based, inside the code) at fault."""

    def __init__(self, detail: str, lineno: int | None = None) -> None:
        self.detail = detail
        self.lineno = lineno
        super().__init__(detail if lineno is None else f"line {lineno}: {detail}")


def check_code(source: str, mode: Mode) -> None:
    """Refuse code that is not plain restricted Python (raises UnsafeCode)."""
    compile_checked(source, mode)


@lru_cache(maxsize=2048)
def compile_checked(source: str, mode: Mode) -> CodeType:
    """Check and compile code once; the cache makes repeated runs cheap."""
    if len(source) > MAX_CODE_LENGTH:
        raise UnsafeCode(f"code longer than {MAX_CODE_LENGTH} characters")
    try:
        tree = cast(ast.Module | ast.Expression, ast.parse(source, mode=mode))
    except SyntaxError as err:
        raise UnsafeCode(f"syntax error: {err.msg}", err.lineno) from None
    nodes = list(ast.walk(tree))
    for node in nodes:
        _check_node(node)
    for node in nodes:  # reported last: an unknown method is a lesser fault than the above
        if isinstance(node, ast.Attribute) and node.attr not in SAFE_ATTRIBUTES:
            raise UnsafeCode(f"the attribute '{node.attr}' is not allowed", node.lineno)
    restricted = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = restricted(tree, filename="<diagram>", policy=ScriptPolicy)
    if result.errors or result.code is None:
        found = _RESTRICTED_ERROR.match(result.errors[0] if result.errors else "")
        if found is None:
            raise UnsafeCode(result.errors[0] if result.errors else "refused by the restricted compiler")
        raise UnsafeCode(found.group(2), int(found.group(1)))
    return result.code


def _check_node(node: ast.AST) -> None:
    lineno = getattr(node, "lineno", None)
    for kind, detail in _FORBIDDEN_NODES.items():
        if isinstance(node, kind):
            raise UnsafeCode(detail, lineno)
    if isinstance(node, ast.Name):
        if node.id.startswith("_") or node.id in FORBIDDEN_NAMES:
            raise UnsafeCode(f"the name '{node.id}' is not allowed", lineno)
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise UnsafeCode(f"access to '{node.attr}' is not allowed", lineno)
    elif isinstance(node, ast.arg) and node.arg.startswith("_"):
        raise UnsafeCode(f"the name '{node.arg}' is not allowed", lineno)
    elif isinstance(node, ast.keyword) and node.arg is not None and node.arg.startswith("_"):
        raise UnsafeCode(f"the name '{node.arg}' is not allowed", lineno)


def run_script(source: str, variables: dict[str, Any], limits: ScriptLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Run a checked script against a copy of the variables and return the new variables."""
    code = compile_checked(source, "exec")
    scope = run_globals(limits)
    scope.update(variables)
    exec(code, scope)  # noqa: S102 - compiled restricted, guards and builtins bound to this run's budget
    return {
        name: value
        for name, value in scope.items()
        if name != "__builtins__" and name not in GUARD_NAMES and not callable(value)
    }


def evaluate(source: str, variables: Mapping[str, Any], limits: ScriptLimits = DEFAULT_LIMITS) -> Any:
    """Evaluate a checked expression against the variables."""
    code = compile_checked(source, "eval")
    scope = run_globals(limits)
    scope.update(variables)
    scope[juel.GET_VARIABLE] = lambda name: variables.get(name) if isinstance(name, str) else None
    return eval(code, scope)  # noqa: S307 - compiled restricted, guards and builtins bound to this run's budget


def unsafe_value(value: Any, path: str = "") -> str | None:
    """Return where a value is not plain JSON data (None if it is)."""
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path or 'value'} is not a finite number"
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = unsafe_value(item, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path or 'value'} has a non-string key {key!r}"
            problem = unsafe_value(item, f"{path}.{key}" if path else key)
            if problem:
                return problem
        return None
    return f"{path or 'value'} has type {type(value).__name__}, which is not JSON data"


# --- ${...} templates (Camunda expressions, translated into restricted Python) ---------------------

#: What opens an expression in an attribute or a condition: Camunda's `${...}` and its deferred `#{...}`.
OPENERS = ("${", "#{")


def has_expression(text: str) -> bool:
    """Whether the text holds a ``${...}`` or ``#{...}``."""
    return any(opener in text for opener in OPENERS)


def _next_opener(text: str, pos: int) -> int:
    found = [index for index in (text.find(opener, pos) for opener in OPENERS) if index >= 0]
    return min(found, default=-1)


def expression_python(text: str) -> str:
    """The checked Python of the inside of ``${...}``: JUEL translated, else restricted Python as it is written.

    UnsafeCode when it is neither, naming the position of the fault in the expression."""
    try:
        python = juel.to_python(text)
    except juel.JuelError as error:
        try:
            check_code(text, "eval")
        except UnsafeCode:
            raise UnsafeCode(f"{error.detail} at position {error.position + 1} of {text!r}") from None
        return text
    check_code(python, "eval")
    return python


@lru_cache(maxsize=1024)
def parse_template(text: str) -> tuple[tuple[bool, str], ...]:
    """Split ``a-${x}-b`` into ((False, 'a-'), (True, 'x'), (False, '-b')), each expression as checked Python."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    while True:
        start = _next_opener(text, pos)
        if start < 0:
            if pos < len(text):
                parts.append((False, text[pos:]))
            return tuple(parts)
        if start > pos:
            parts.append((False, text[pos:start]))
        end = _closing_brace(text, start + 2)
        if end < 0:
            raise UnsafeCode(f"unclosed {text[start : start + 2]!r} in {text!r}")
        expression = text[start + 2 : end].strip()
        if not expression:
            raise UnsafeCode(f"empty '{text[start]}{{}}' in {text!r}")
        parts.append((True, expression_python(expression)))
        pos = end + 1


def _closing_brace(text: str, pos: int) -> int:
    depth = 0
    quote = ""
    for index in range(pos, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
    return -1


def split_list(text: str) -> list[str]:
    """Split a comma-separated attribute value, ignoring commas inside ``${...}``."""
    items: list[str] = []
    current: list[str] = []
    pos = 0
    while pos < len(text):
        if text.startswith(OPENERS, pos):
            end = _closing_brace(text, pos + 2)
            end = len(text) - 1 if end < 0 else end
            current.append(text[pos : end + 1])
            pos = end + 1
            continue
        if text[pos] == ",":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(text[pos])
        pos += 1
    items.append("".join(current).strip())
    return [item for item in items if item]


def render_template(text: str, variables: Mapping[str, Any], limits: ScriptLimits = DEFAULT_LIMITS) -> Any:
    """Evaluate a template: a lone ``${expr}`` keeps its value's type, otherwise a string."""
    parts = parse_template(text)
    if len(parts) == 1 and parts[0][0]:
        return evaluate(parts[0][1], variables, limits)
    rendered = []
    for is_expression, chunk in parts:
        rendered.append(_as_text(evaluate(chunk, variables, limits)) if is_expression else chunk)
    return "".join(rendered)


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def strip_expression(text: str) -> str:
    """A condition as checked Python: written Camunda-style as ``${...}`` (JUEL), or as restricted Python."""
    stripped = text.strip()
    if stripped.startswith(OPENERS) and _closing_brace(stripped, 2) == len(stripped) - 1:
        return expression_python(stripped[2:-1].strip())
    return stripped


Decide = Callable[[str, dict[str, Any]], Any]


def plain_data(values: Any, what: str) -> dict[str, Any]:
    """A deep copy of caller-supplied variables, refused (ValueError) unless plain JSON data."""
    if not isinstance(values, dict):
        raise ValueError(f"{what} must be a dict")
    problem = unsafe_value(values)
    if problem:
        raise ValueError(f"{what}: {problem}")
    for key in values:
        if key.startswith("__"):
            raise ValueError(f"{what}: the name {key!r} is not allowed")
    return copy.deepcopy(values)
