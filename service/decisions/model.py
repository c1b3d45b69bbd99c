"""The values the decisions package hands out: parsed rulesets, decisions and errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FACT_TYPES = ("string", "integer", "number", "boolean")
OPERATORS = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "present")
ORDER_OPERATORS = ("lt", "lte", "gt", "gte")

# Integers travel to the rules engine as signed 64-bit numbers; anything larger would overflow silently there.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
# The rules engine compares text with 16-bit lengths; keep every string far below that.
MAX_STRING_LENGTH = 1000


class _Absent:
    """The value of a fact that was not given (or given as None)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class RulesetError(Exception):
    """A rule file that cannot be used: which file, which line (1-based) and why."""

    def __init__(self, filename: str, line: int, detail: str) -> None:
        super().__init__(f"{filename}, line {line}: {detail}")
        self.filename = filename
        self.line = line
        self.detail = detail


class FactsError(ValueError):
    """Facts that do not match the ruleset's declaration: field -> list of messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ValueSpec:
    """The declared type of a fact or of an outcome key (`type` None means any plain value)."""

    name: str
    type: str | None
    enum: tuple[Any, ...] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    line: int = 0


@dataclass(frozen=True)
class Condition:
    """One test on one fact; the value is typed (a tuple for in/not_in, a bool for present)."""

    fact: str
    op: str
    value: Any


@dataclass(frozen=True)
class FactRef:
    """An outcome value taken from a fact, with a fallback when the fact is absent."""

    fact: str
    otherwise: Any = ABSENT


@dataclass(frozen=True)
class Rule:
    """A named rule: all its conditions must hold; `outcome` is a tuple of (key, value or FactRef)."""

    name: str
    priority: int
    conditions: tuple[Condition, ...]
    outcome: tuple[tuple[str, Any], ...]
    line: int = 0
    description: str = ""


@dataclass(frozen=True)
class Ruleset:
    """A validated rule file: rules in the order they are checked, then the default."""

    name: str
    version: str
    text: str
    facts: Mapping[str, ValueSpec]
    outcome: Mapping[str, ValueSpec]
    rules: tuple[Rule, ...]
    default: Rule
    description: str = ""
    filename: str = ""


@dataclass(frozen=True)
class Decision:
    """The result of one evaluation: which ruleset and version, which rule fired, its outcome."""

    ruleset: str
    version: str
    rule: str
    outcome: dict[str, Any]


def copied_keys(ruleset: Ruleset, rule_name: str) -> frozenset[str]:
    """The outcome keys that the named rule (or the default) copies from facts instead of stating."""
    for rule in (*ruleset.rules, ruleset.default):
        if rule.name == rule_name:
            return frozenset(key for key, value in rule.outcome if isinstance(value, FactRef))
    return frozenset()
