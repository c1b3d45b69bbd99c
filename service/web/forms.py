"""A task's form on the page: the fields the diagram declares as inputs, and the form's values read back into the
types the engine checks (the engine's validation stays the only one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from service.web.i18n import locale
from service.web.labels import diagram_word

#: The HTML input of each form field type (enum is a select, boolean a checkbox).
INPUTS = {"string": "text", "long": "number", "number": "number", "double": "number", "date": "date"}

#: The engine's field errors in the person's language (others are shown as the engine wrote them).
ENGINE_ERRORS = {
    "this field is required": _l("This field is required."),
    "this field is read-only": _l("This field cannot be changed."),
    "must be a whole number": _l("Enter a whole number."),
    "must be a number": _l("Enter a number."),
    "must be a finite number": _l("Enter a number."),
    "must be a string": _l("Enter a text."),
    "must be true or false": _l("Tick or untick it."),
    "must be a date written YYYY-MM-DD": _l("Enter a date."),
    "is not a valid date": _l("Enter a date that exists."),
    "unknown field": _l("This form has no such field."),
}


@dataclass(frozen=True)
class PageField:
    """One field as the page shows it."""

    id: str
    label: str
    type: str
    input: str
    required: bool
    readonly: bool
    options: list[tuple[str, str]]
    value: str
    checked: bool
    errors: list[str]
    step: str | None
    minimum: float | None
    maximum: float | None


def fields_of(task: Any, *, values: Any = None, errors: dict[str, Any]) -> list[PageField]:
    """The task's form fields, with what was typed (after a refusal) or their defaults; each label in the person's
    language when the diagram gives one, each option when the catalogue knows its text."""
    out = []
    for spec in getattr(task, "form", None) or []:
        kind = spec["type"]
        typed = values.get(spec["id"]) if values is not None else None
        value = typed if typed is not None else (spec.get("default") or "")
        if kind == "boolean":
            checked = typed is not None if values is not None else str(spec.get("default")).lower() == "true"
        else:
            checked = False
        constraints = spec.get("constraints") or {}
        found = errors.get(spec["id"]) or []
        out.append(
            PageField(
                id=spec["id"],
                label=(spec.get("labels") or {}).get(locale()) or spec.get("label") or spec["id"],
                type=kind,
                input="select" if kind == "enum" else "checkbox" if kind == "boolean" else INPUTS.get(kind, "text"),
                required=bool(spec.get("required")),
                readonly=bool(spec.get("readonly")),
                options=[(item["id"], diagram_word(item["label"])) for item in spec.get("values") or []],
                value=str(value),
                checked=checked,
                errors=[_error(e) for e in (found if isinstance(found, list) else [found])],
                step="1" if kind == "long" else "any" if kind in ("number", "double") else None,
                minimum=constraints.get("min"),
                maximum=constraints.get("max"),
            )
        )
    return out


def data_of(task: Any, form: MultiDict[str, str]) -> dict[str, Any]:
    """The values to complete the task with: numbers as numbers, a checkbox as true or false, an empty field left
    out (the engine then says whether it was required); read-only fields are never sent."""
    data: dict[str, Any] = {}
    for spec in getattr(task, "form", None) or []:
        name, kind = spec["id"], spec["type"]
        if spec.get("readonly"):
            continue
        if kind == "boolean":
            data[name] = name in form
            continue
        text = (form.get(name) or "").strip()
        if not text:
            continue
        data[name] = _number(text, kind)
    return data


def _number(text: str, kind: str) -> Any:
    """The number typed, or the text as it is (the engine then refuses it with its own message)."""
    try:
        if kind == "long":
            return int(text)
        if kind in ("number", "double"):
            number = float(text.replace(",", "."))
            return int(number) if number.is_integer() else number
    except ValueError:
        return text
    return text


def _error(message: object) -> str:
    return str(ENGINE_ERRORS.get(str(message), message))
