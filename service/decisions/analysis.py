"""Finding rules that can never fire.

A rule's conditions are a conjunction of tests, each on one fact, so the tickets it matches form a product of
per-fact sets. Rule B can never fire after rule A when every ticket B matches also matches A, that is (B not
empty) when for each fact A tests, B's set for that fact is inside A's. Per-fact sets are compared exactly by
testing a finite set of witness values: every test is constant between the constants the rules mention.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .model import ABSENT, Condition, Rule, ValueSpec
from .reference import condition_holds


def witnesses(spec: ValueSpec, conditions: Iterable[Condition]) -> list[Any]:
    """Values of one fact (and ABSENT) that stand for every class of values the conditions tell apart."""
    if spec.type == "boolean":
        values: list[Any] = [True, False]
    elif spec.enum is not None:
        values = list(spec.enum)
    else:
        constants: set[Any] = set()
        for condition in conditions:
            if condition.op == "present":
                continue
            if condition.op in ("in", "not_in"):
                constants.update(condition.value)
            else:
                constants.add(condition.value)
        if spec.type == "string":
            # One text that differs from every constant stands for all the others.
            values = sorted(constants) + ["".join(sorted(constants)) + "?"]
        else:
            values = _numeric_witnesses(spec, constants)
    return values + [ABSENT]


def _numeric_witnesses(spec: ValueSpec, constants: set[Any]) -> list[Any]:
    points = set(constants)
    for bound in (spec.minimum, spec.maximum):
        if bound is not None:
            points.add(bound)
    if not points:
        points = {0}
    ordered = sorted(points)
    if spec.type == "integer":
        candidates = {p + d for p in ordered for d in (-1, 0, 1)}
    else:
        candidates = set(ordered) | {ordered[0] - 1.0, ordered[-1] + 1.0}
        candidates |= {(a + b) / 2 for a, b in zip(ordered, ordered[1:], strict=False)}
    if spec.minimum is not None:
        candidates = {c for c in candidates if c >= spec.minimum}
    if spec.maximum is not None:
        candidates = {c for c in candidates if c <= spec.maximum}
    return sorted(candidates)


def _holds_all(conditions: list[Condition], value: Any) -> bool:
    return all(condition_holds(c, value) for c in conditions)


def _by_fact(rule: Rule) -> dict[str, list[Condition]]:
    grouped: dict[str, list[Condition]] = {}
    for condition in rule.conditions:
        grouped.setdefault(condition.fact, []).append(condition)
    return grouped


def empty_fact(rule: Rule, facts: dict[str, ValueSpec]) -> str | None:
    """The fact whose conditions in this rule contradict each other (so it never matches), or None."""
    for fact, conditions in _by_fact(rule).items():
        if not any(_holds_all(conditions, w) for w in witnesses(facts[fact], conditions)):
            return fact
    return None


def shadows(first: Rule, later: Rule, facts: dict[str, ValueSpec]) -> bool:
    """Whether `first` matches every ticket `later` matches (`later` must be satisfiable)."""
    mine, theirs = _by_fact(first), _by_fact(later)
    for fact, conditions in mine.items():
        others = theirs.get(fact, [])
        for value in witnesses(facts[fact], conditions + others):
            if _holds_all(others, value) and not _holds_all(conditions, value):
                return False
    return True
