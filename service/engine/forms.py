"""The form of a user task (from ``camunda:formData``) and its server-side validation."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .errors import FormError

FIELD_TYPES = frozenset({"string", "long", "number", "double", "boolean", "date", "enum"})
CONSTRAINTS = frozenset({"required", "readonly", "minlength", "maxlength", "min", "max"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FormField:
    """One field of a user task's form, as the process owner declared it."""

    id: str
    label: str
    type: str
    required: bool = False
    readonly: bool = False
    values: tuple[tuple[str, str], ...] = ()  # enum options: (id, label)
    default: str | None = None
    constraints: dict[str, float] = field(default_factory=dict)  # minlength/maxlength/min/max
    #: The label per language the diagram gives (`label_ru`, `label_en` properties): (language, label).
    labels: tuple[tuple[str, str], ...] = ()

    def label_in(self, language: str) -> str:
        """The label in this language when the diagram gives one, else the label as written."""
        return dict(self.labels).get(language) or self.label

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by the serializer and the API)."""
        return {
            "id": self.id,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "readonly": self.readonly,
            "values": [{"id": key, "label": label} for key, label in self.values],
            "default": self.default,
            "constraints": dict(self.constraints),
            "labels": dict(self.labels),
        }

    @classmethod
    def from_dict(cls, dct: dict[str, Any]) -> FormField:
        """Inverse of ``to_dict``."""
        return cls(
            id=dct["id"],
            label=dct["label"],
            type=dct["type"],
            required=dct["required"],
            readonly=dct["readonly"],
            values=tuple((item["id"], item["label"]) for item in dct["values"]),
            default=dct["default"],
            constraints=dict(dct["constraints"]),
            labels=tuple(sorted(dct.get("labels", {}).items())),  # forms stored before labels had none
        )


def validate_form(fields: tuple[FormField, ...], data: Any) -> dict[str, Any]:
    """Check submitted data against the form; return the values to merge (raises FormError).

    A field left out, or sent as null, keeps the variable's previous value (unless required).
    """
    if not isinstance(data, dict):
        raise FormError({"_": ["form data must be an object"]})
    by_id = {f.id: f for f in fields}
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in data:
        if name not in by_id:
            errors.setdefault(str(name), []).append("unknown field")
    for spec in fields:
        value = data.get(spec.id)
        if _is_empty(value):
            if spec.required:
                errors.setdefault(spec.id, []).append("this field is required")
            continue
        if spec.readonly:
            errors.setdefault(spec.id, []).append("this field is read-only")
            continue
        problems = _check_value(spec, value)
        if problems:
            errors.setdefault(spec.id, []).extend(problems)
        else:
            clean[spec.id] = value
    if errors:
        raise FormError(errors)
    return clean


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_value(spec: FormField, value: Any) -> list[str]:
    kind = spec.type
    if kind == "string":
        if not isinstance(value, str):
            return ["must be a string"]
        return _check_length(spec, value)
    if kind == "boolean":
        return [] if isinstance(value, bool) else ["must be true or false"]
    if kind == "long":
        if isinstance(value, bool) or not isinstance(value, int):
            return ["must be a whole number"]
        return _check_range(spec, value)
    if kind in ("number", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return ["must be a number"]
        if isinstance(value, float) and not math.isfinite(value):
            return ["must be a finite number"]
        return _check_range(spec, value)
    if kind == "date":
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            return ["must be a date written YYYY-MM-DD"]
        try:
            date.fromisoformat(value)
        except ValueError:
            return ["is not a valid date"]
        return []
    if kind == "enum":
        allowed = [key for key, _ in spec.values]
        if value not in allowed:
            return [f"must be one of: {', '.join(allowed)}"]
        return []
    return [f"unsupported field type {kind!r}"]


def _check_length(spec: FormField, value: str) -> list[str]:
    problems = []
    if "minlength" in spec.constraints and len(value) < spec.constraints["minlength"]:
        problems.append(f"must be at least {int(spec.constraints['minlength'])} characters")
    if "maxlength" in spec.constraints and len(value) > spec.constraints["maxlength"]:
        problems.append(f"must be at most {int(spec.constraints['maxlength'])} characters")
    return problems


def _check_range(spec: FormField, value: float) -> list[str]:
    problems = []
    if "min" in spec.constraints and value < spec.constraints["min"]:
        problems.append(f"must be at least {spec.constraints['min']:g}")
    if "max" in spec.constraints and value > spec.constraints["max"]:
        problems.append(f"must be at most {spec.constraints['max']:g}")
    return problems
