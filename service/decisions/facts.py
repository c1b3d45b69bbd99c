"""Checking a ticket's facts against a ruleset's declaration, and building outcomes from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import ABSENT, FactRef, FactsError, Rule, Ruleset
from .values import normalise, value_problem


def type_facts(ruleset: Ruleset, facts: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the declared facts that are given (None counts as not given), checked and normalised."""
    if not isinstance(facts, Mapping):
        raise TypeError(f"facts must be a mapping, not {type(facts).__name__}")
    typed: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, spec in ruleset.facts.items():
        value = facts.get(name)
        if value is None:
            continue
        problem = value_problem(spec, value)
        if problem:
            errors[name] = [problem]
        else:
            typed[name] = normalise(spec, value)
    if errors:
        raise FactsError(errors)
    return typed


def build_outcome(rule: Rule, typed: Mapping[str, Any]) -> dict[str, Any]:
    """A fresh outcome dict for `rule`, with fact references filled from the typed facts."""
    outcome: dict[str, Any] = {}
    for key, value in rule.outcome:
        if isinstance(value, FactRef):
            value = typed.get(value.fact, value.otherwise)
            if value is ABSENT:  # the parser makes this impossible; fail loudly rather than return ABSENT
                raise RuntimeError(f"rule {rule.name!r} copies an absent fact into {key!r}")
        outcome[key] = value
    return outcome
