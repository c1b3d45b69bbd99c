"""Parsing the `when` (conditions) and `then` (outcome) parts of a rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from .model import ABSENT, OPERATORS, ORDER_OPERATORS, Condition, FactRef, ValueSpec
from .values import describe, normalise, range_problem, show, type_problem, value_problem
from .yamlnodes import Node, Reader, suggest

SEQUENCE_OPERATORS = ("in", "not_in")


def parse_when(
    reader: Reader, node: Node, facts: Mapping[str, ValueSpec], rule: str
) -> tuple[tuple[Condition, ...], dict[str, int]]:
    """The conditions of a rule, and the line of each fact's conditions (for later messages)."""
    entries = reader.mapping(node, f"the conditions (`when`) of rule {rule!r}")
    if not entries:
        reader.fail(
            node,
            f"rule {rule!r} has no conditions, so it would match every ticket and no later rule or "
            "the default could ever be used; put its outcome under `default` instead",
        )
    conditions: list[Condition] = []
    lines: dict[str, int] = {}
    for fact, (key_node, value_node) in entries.items():
        if fact not in facts:
            reader.fail(
                key_node,
                f"rule {rule!r} tests {fact!r}, which is not a declared fact{suggest(fact, facts)}; "
                f"declared facts: {', '.join(facts)}",
            )
        lines[fact] = key_node.start_mark.line + 1
        conditions.extend(_parse_tests(reader, value_node, facts[fact], rule))
    return tuple(conditions), lines


def _parse_tests(reader: Reader, node: Node, spec: ValueSpec, rule: str) -> list[Condition]:
    where = f"rule {rule!r}, fact {spec.name!r}"
    if isinstance(node, yaml.SequenceNode):
        return [Condition(spec.name, "in", _parse_list(reader, node, spec, where))]
    if isinstance(node, yaml.ScalarNode):
        return [Condition(spec.name, "eq", _parse_constant(reader, node, spec, where))]
    tests = reader.mapping(node, f"the tests on {spec.name!r} in rule {rule!r}")
    if not tests:
        reader.fail(node, f"{where}: no test given; write a value or a test such as `{{in: [...]}}`")
    conditions = []
    for op, (op_node, value_node) in tests.items():
        if op not in OPERATORS:
            reader.fail(
                op_node,
                f"{where}: unknown operator {op!r}{suggest(op, OPERATORS)}; operators: {', '.join(OPERATORS)}",
            )
        conditions.append(Condition(spec.name, op, _parse_operand(reader, op, value_node, spec, where)))
    return conditions


def _parse_operand(reader: Reader, op: str, node: Node, spec: ValueSpec, where: str) -> Any:
    if op == "present":
        value = reader.scalar(node, f"{where}, `present`")
        if not isinstance(value, bool):
            reader.fail(node, f"{where}: `present` takes true or false, got {describe(value)}")
        return value
    if op in SEQUENCE_OPERATORS:
        if not isinstance(node, yaml.SequenceNode):
            reader.fail(node, f"{where}: `{op}` takes a list of values, such as `[a, b]`")
        return _parse_list(reader, node, spec, where)
    if op in ORDER_OPERATORS:
        if spec.type not in ("integer", "number"):
            reader.fail(node, f"{where}: `{op}` compares numbers, but {spec.name!r} is a {spec.type} fact")
        value = reader.scalar(node, f"{where}, `{op}`")
        problem = type_problem(spec.type, value)
        if problem:
            reader.fail(node, f"{where}, `{op}`: {problem}{type_hint(spec.type, value)}")
        return normalise(spec, value)
    return _parse_constant(reader, node, spec, where)


def _parse_list(reader: Reader, node: Node, spec: ValueSpec, where: str) -> tuple[Any, ...]:
    items = reader.sequence(node, f"{where}: the list")
    if not items:
        reader.fail(node, f"{where}: the list of values is empty")
    values: list[Any] = []
    for item in items:
        value = _parse_constant(reader, item, spec, where)
        if value not in values:
            values.append(value)
    return tuple(values)


def _parse_constant(reader: Reader, node: Node, spec: ValueSpec, where: str) -> Any:
    value = reader.scalar(node, where)
    problem = value_problem(spec, value)
    if problem:
        reader.fail(node, f"{where}: {problem}{type_hint(spec.type, value)}")
    return normalise(spec, value)


def type_hint(type_name: str | None, value: Any) -> str:
    """A hint for the usual YAML surprises: `no` is false, `1e-5` is text (an exponent needs a '.')."""
    if type_name == "string" and isinstance(value, bool | int | float):
        return " (put it in quotes to make it text)"
    if type_name in ("integer", "number") and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return " (write numbers without quotes; YAML reads 1e-5 as text, write 1.0e-5 or 0.00001)"
    return ""


def parse_then(
    reader: Reader,
    node: Node,
    outcome: Mapping[str, ValueSpec],
    facts: Mapping[str, ValueSpec],
    conditions: tuple[Condition, ...],
    rule: str,
) -> tuple[tuple[str, Any], ...]:
    """The outcome of a rule: exactly the declared keys, each a typed value or a `{fact: ...}` copy."""
    entries = reader.mapping(node, f"the outcome (`then`) of rule {rule!r}")
    for key, (key_node, _) in entries.items():
        if key not in outcome:
            reader.fail(
                key_node,
                f"rule {rule!r} gives {key!r}, which is not a declared outcome key{suggest(key, outcome)}; "
                f"declared: {', '.join(outcome)}",
            )
    missing = [key for key in outcome if key not in entries]
    if missing:
        reader.fail(node, f"the outcome of rule {rule!r} lacks {', '.join(map(repr, missing))}")
    given = {c.fact for c in conditions if c.op != "present" or c.value is True}
    result = []
    for key, spec in outcome.items():
        value_node = entries[key][1]
        where = f"rule {rule!r}, outcome {key!r}"
        if isinstance(value_node, yaml.MappingNode):
            value: Any = _parse_fact_ref(reader, value_node, spec, facts, given, where)
        else:
            value = reader.scalar(value_node, where)
            problem = value_problem(spec, value)
            if problem:
                reader.fail(value_node, f"{where}: {problem}")
        result.append((key, value))
    return tuple(result)


def _parse_fact_ref(
    reader: Reader,
    node: Node,
    spec: ValueSpec,
    facts: Mapping[str, ValueSpec],
    given: set[str],
    where: str,
) -> FactRef:
    entries = reader.mapping(node, f"{where} (a copy of a fact)", allowed=("fact", "otherwise"), required=("fact",))
    fact_node = entries["fact"][1]
    name = reader.text(fact_node, f"{where}, `fact`")
    if name not in facts:
        reader.fail(fact_node, f"{where}: {name!r} is not a declared fact{suggest(name, facts)}")
    problem = _copy_problem(facts[name], spec)
    if problem:
        reader.fail(fact_node, f"{where}: cannot copy fact {name!r}: {problem}")
    otherwise: Any = ABSENT
    if "otherwise" in entries:
        other_node = entries["otherwise"][1]
        otherwise = reader.scalar(other_node, f"{where}, `otherwise`")
        problem = value_problem(spec, otherwise)
        if problem:
            reader.fail(other_node, f"{where}, `otherwise`: {problem}")
    elif name not in given:
        reader.fail(
            node,
            f"{where}: copies fact {name!r}, which may be missing; test it in `when` "
            f"(for example `{name}: {{present: true}}`) or add `otherwise: <value>`",
        )
    return FactRef(name, otherwise)


def _copy_problem(fact: ValueSpec, target: ValueSpec) -> str | None:
    if target.type is None:
        return None
    if fact.type != target.type and not (fact.type == "integer" and target.type == "number"):
        return f"it is a {fact.type} fact and the outcome is a {target.type}"
    if fact.enum is not None:
        for value in fact.enum:
            problem = range_problem(target, value)
            if problem:
                return f"its allowed value {problem}"
        return None
    if target.enum is not None:
        return f"the outcome allows only {', '.join(show(v) for v in target.enum)} but the fact is not limited"
    if target.minimum is not None and (fact.minimum is None or fact.minimum < target.minimum):
        return f"the outcome's minimum is {show(target.minimum)} but the fact may be lower"
    if target.maximum is not None and (fact.maximum is None or fact.maximum > target.maximum):
        return f"the outcome's maximum is {show(target.maximum)} but the fact may be higher"
    return None
