"""Translating a Ruleset into a durable_rules ruleset definition (its JSON form) and facts into an event.

Each rule becomes one single-pattern rule on the event; its `pri` is its position in checking order, so the
engine's first-match-by-`pri` for events picks exactly the rule the reference evaluator picks. The default
becomes a last rule that matches any decision event, so every event is handled and none stays in a session.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from .model import Condition, Ruleset, ValueSpec

# Every compiled rule requires this key and value. The session state that durable_rules re-asserts after each
# action never carries it, so no rule can match the state itself (a `$nex` test would, and loop for ever).
GUARD_KEY = "kind"
GUARD_VALUE = "decision"
FACT_PREFIX = "f_"  # event keys of facts; keeps them apart from `sid`, `id` and the guard
SID = "sid"


def fact_key(name: str) -> str:
    """The event key carrying a fact."""
    return FACT_PREFIX + name


def rule_key(index: int) -> str:
    """The durable rule name for the rule at `index` in checking order (the default is len(rules))."""
    return f"r{index}"


def encode(spec: ValueSpec, value: Any) -> Any:
    """A typed value as the engine should see it.

    The engine's JSON reader rejects numbers like 1e+20 (an exponent without a '.'), so a `number` value is sent
    as a 64-bit integer that sorts like the float does: comparisons stay exact and the text stays plain digits.
    """
    if spec.type == "number":
        bits = struct.unpack("<q", struct.pack("<d", float(value)))[0]
        # Positive floats already sort like their bit patterns; negative ones sort in reverse. -0.0 maps to 0.
        return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)
    return value


def _test(condition: Condition, spec: ValueSpec) -> dict[str, Any]:
    key, op, value = fact_key(condition.fact), condition.op, condition.value
    if op == "present":
        return {"$ex" if value else "$nex": {key: 1}}
    if op == "eq":
        return {key: encode(spec, value)}
    if op == "ne":
        return {"$neq": {key: encode(spec, value)}}
    if op == "in":
        return {"$or": [{key: encode(spec, v)} for v in value]}
    if op == "not_in":
        return {"$and": [{"$neq": {key: encode(spec, v)}} for v in value]}
    return {f"${op}": {key: encode(spec, value)}}  # lt, lte, gt, gte share the engine's names


def definition(ruleset: Ruleset, *, guard: bool = True) -> dict[str, dict[str, Any]]:
    """The durable_rules definition (without actions) as {rule key: {"pri": n, "all": [...]}}.

    `guard=False` exists only so that a test can show the trap the guard prevents.
    """
    rules: dict[str, dict[str, Any]] = {}
    for index, rule in enumerate(ruleset.rules + (ruleset.default,)):
        tests = [_test(c, ruleset.facts[c.fact]) for c in rule.conditions]
        if guard:
            tests.insert(0, {GUARD_KEY: GUARD_VALUE})
        if not tests:
            # Only reachable unguarded: the default with no tests still needs a pattern; require a session id.
            tests = [{"$ex": {SID: 1}}]
        pattern = tests[0] if len(tests) == 1 else {"$and": tests}
        rules[rule_key(index)] = {"pri": index, "all": [{"m": pattern}]}
    return rules


def event(ruleset: Ruleset, typed: Mapping[str, Any], sid: str) -> dict[str, Any]:
    """The event posted for one evaluation: the guard, the session id and the given facts."""
    message: dict[str, Any] = {SID: sid, GUARD_KEY: GUARD_VALUE}
    for name, value in typed.items():
        message[fact_key(name)] = encode(ruleset.facts[name], value)
    return message
