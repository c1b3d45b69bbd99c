"""The meaning of conditions, in plain Python.

This is the specification the durable_rules compiler must agree with: the parser uses it to find rules that
can never fire, and the differential test compares it with the engine over generated tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import ABSENT, Condition, Rule, Ruleset


def condition_holds(condition: Condition, value: Any) -> bool:
    """Whether one condition holds for a fact's typed value (ABSENT when the fact is not given)."""
    op, target = condition.op, condition.value
    if op == "present":
        return (value is not ABSENT) is target
    if value is ABSENT:
        return False
    if op == "eq":
        return bool(value == target)
    if op == "ne":
        return bool(value != target)
    if op == "in":
        return value in target
    if op == "not_in":
        return value not in target
    if op == "lt":
        return bool(value < target)
    if op == "lte":
        return bool(value <= target)
    if op == "gt":
        return bool(value > target)
    if op == "gte":
        return bool(value >= target)
    raise ValueError(f"unknown operator {op!r}")


def rule_matches(rule: Rule, typed: Mapping[str, Any]) -> bool:
    """Whether every condition of the rule holds for the typed facts."""
    return all(condition_holds(c, typed.get(c.fact, ABSENT)) for c in rule.conditions)


def reference_rule(ruleset: Ruleset, typed: Mapping[str, Any]) -> Rule:
    """The first rule in checking order whose conditions hold, else the default."""
    for rule in ruleset.rules:
        if rule_matches(rule, typed):
            return rule
    return ruleset.default
