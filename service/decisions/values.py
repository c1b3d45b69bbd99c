"""Strict typing of single values against a declared type; shared by the parser and by fact checking."""

from __future__ import annotations

import math
from typing import Any

from .model import INT_MAX, INT_MIN, MAX_STRING_LENGTH, ValueSpec

TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    None: "text, a number or true/false",
}


def describe(value: Any) -> str:
    """Say what a value is, in words an analyst understands."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def type_problem(type_name: str | None, value: Any) -> str | None:
    """Why `value` is not of the declared type (no coercion: "4" is not an integer), or None."""
    if type_name == "string":
        ok = isinstance(value, str)
    elif type_name == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif type_name == "boolean":
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str | int | float)
    if not ok:
        return f"expected {TYPE_WORDS[type_name]}, got {describe(value)}"
    # Limits of the rules engine: it would compare these wrongly rather than fail.
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            return f"text longer than {MAX_STRING_LENGTH} characters"
        if "\x00" in value:
            return "text contains a NUL character"
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int) and type_name != "number":
        if not INT_MIN <= value <= INT_MAX:
            return "number out of range (64-bit)"
    elif isinstance(value, int | float):
        # A `number` is compared as a 64-bit float (a large whole number is rounded to the nearest one).
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            return f"expected a finite number, got {value!r}"
    return None


def normalise(spec: ValueSpec, value: Any) -> Any:
    """The value as the rules compare it: numbers of a `number` fact are compared as floats."""
    if spec.type == "number":
        return float(value)
    return value


def range_problem(spec: ValueSpec, value: Any) -> str | None:
    """Why a correctly typed value is outside the declared enum or bounds, or None."""
    if spec.enum is not None and value not in spec.enum:
        allowed = ", ".join(_show(v) for v in spec.enum)
        return f"{_show(value)} is not one of the allowed values: {allowed}"
    if spec.minimum is not None and value < spec.minimum:
        return f"{_show(value)} is below the minimum {_show(spec.minimum)}"
    if spec.maximum is not None and value > spec.maximum:
        return f"{_show(value)} is above the maximum {_show(spec.maximum)}"
    return None


def value_problem(spec: ValueSpec, value: Any) -> str | None:
    """Type problem first, then enum/bounds problem, or None when the value fits the spec."""
    return type_problem(spec.type, value) or range_problem(spec, value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def show(value: Any) -> str:
    """A value as YAML would spell it (strings quoted)."""
    return _show(value)
