"""Parsing and validating one rule file (YAML written by business analysts) into a Ruleset."""

from __future__ import annotations

import hashlib
import re
from types import MappingProxyType

import yaml

from .analysis import empty_fact, shadows
from .clauses import parse_then, parse_when
from .model import FACT_TYPES, Rule, Ruleset, ValueSpec
from .values import describe, show, type_problem
from .yamlnodes import Node, Reader, line_of, suggest

TOP_KEYS = ("ruleset", "description", "facts", "outcome", "rules", "default")
RULE_KEYS = ("name", "description", "priority", "when", "then")
DEFAULT_KEYS = ("name", "description", "then")
SPEC_KEYS = ("type", "enum", "min", "max", "description")
DEFAULT_NAME = "default"
RULESET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
FACT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
MAX_DECLARED = 200


def parse_ruleset(text: str, *, filename: str) -> Ruleset:
    """Parse and validate a YAML rule file; raise RulesetError(filename, line, detail) on any problem."""
    reader = Reader(text, filename)
    top = reader.mapping(
        reader.root, "the file", allowed=TOP_KEYS, required=("ruleset", "facts", "outcome", "rules", "default")
    )
    name_node = top["ruleset"][1]
    name = reader.text(name_node, "`ruleset`")
    if not RULESET_NAME.fullmatch(name):
        reader.fail(name_node, "`ruleset` must start with a letter and use only letters, digits, '_', '-', '.'")
    description = _description(reader, top)
    facts = _parse_specs(reader, top["facts"][1], "facts", allow_list=False)
    outcome = _parse_specs(reader, top["outcome"][1], "outcome", allow_list=True)
    rules, lines = _parse_rules(reader, top["rules"][1], facts, outcome)
    default = _parse_default(reader, top["default"][1], facts, outcome, {r.name for r in rules})
    ordered = tuple(sorted(rules, key=lambda r: r.priority))  # sorted() is stable: ties keep file order
    _check_reachable(reader, ordered, facts, lines)
    return Ruleset(
        name=name,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12],
        text=text,
        facts=MappingProxyType(facts),
        outcome=MappingProxyType(outcome),
        rules=ordered,
        default=default,
        description=description,
        filename=filename,
    )


def _description(reader: Reader, entries: dict[str, tuple[Node, Node]]) -> str:
    if "description" not in entries:
        return ""
    value = reader.scalar(entries["description"][1], "`description`")
    if not isinstance(value, str):
        reader.fail(entries["description"][1], f"`description` must be text, got {describe(value)}")
    return value.strip()


def _parse_specs(reader: Reader, node: Node, section: str, *, allow_list: bool) -> dict[str, ValueSpec]:
    specs: dict[str, ValueSpec] = {}
    if allow_list and isinstance(node, yaml.SequenceNode):
        for item in reader.sequence(node, f"`{section}`"):
            key = reader.text(item, f"a key in `{section}`")
            if key in specs:
                reader.fail(item, f"{key!r} appears twice in `{section}`")
            if not FACT_NAME.fullmatch(key):
                reader.fail(item, f"{key!r} in `{section}`: use letters, digits and '_', starting with a letter")
            specs[key] = ValueSpec(key, None, line=line_of(item))
    else:
        for key, (key_node, value_node) in reader.mapping(node, f"`{section}`").items():
            if not FACT_NAME.fullmatch(key):
                reader.fail(key_node, f"{key!r} in `{section}`: use letters, digits and '_', starting with a letter")
            specs[key] = _parse_spec(reader, key, value_node, section)
    if not specs:
        reader.fail(node, f"`{section}` declares nothing")
    if len(specs) > MAX_DECLARED:  # the rules engine reads at most 255 keys in one event
        reader.fail(node, f"`{section}` declares {len(specs)} names; at most {MAX_DECLARED} are supported")
    return specs


def _parse_spec(reader: Reader, name: str, node: Node, section: str) -> ValueSpec:
    where = f"{name!r} in `{section}`"
    entries: dict[str, tuple[Node, Node]]
    if isinstance(node, yaml.ScalarNode):
        entries = {"type": (node, node)}
    else:
        entries = reader.mapping(node, where, allowed=SPEC_KEYS, required=("type",))
    type_node = entries["type"][1]
    type_name = reader.text(type_node, f"the type of {where}")
    if type_name not in FACT_TYPES:
        reader.fail(
            type_node,
            f"{where}: unknown type {type_name!r}{suggest(type_name, FACT_TYPES)}; use one of {', '.join(FACT_TYPES)}",
        )
    enum = None
    if "enum" in entries:
        enum_node = entries["enum"][1]
        values = []
        for item in reader.sequence(enum_node, f"the `enum` of {where}"):
            value = reader.scalar(item, f"a value in the `enum` of {where}")
            problem = type_problem(type_name, value)
            if problem:
                reader.fail(item, f"a value in the `enum` of {where}: {problem}")
            if value in values:
                reader.fail(item, f"{show(value)} appears twice in the `enum` of {where}")
            values.append(float(value) if type_name == "number" else value)
        if not values:
            reader.fail(enum_node, f"the `enum` of {where} is empty")
        enum = tuple(values)
    bounds: list[int | float | None] = []
    for key in ("min", "max"):
        if key not in entries:
            bounds.append(None)
            continue
        bound_node = entries[key][1]
        if type_name not in ("integer", "number") or enum is not None:
            reader.fail(bound_node, f"{where}: `{key}` applies only to integer or number types without `enum`")
        bound = reader.scalar(bound_node, f"`{key}` of {where}")
        problem = type_problem(type_name, bound)
        if problem:
            reader.fail(bound_node, f"`{key}` of {where}: {problem}")
        bounds.append(float(bound) if type_name == "number" else bound)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        reader.fail(entries["max"][1], f"{where}: `max` is below `min`")
    return ValueSpec(name, type_name, enum, bounds[0], bounds[1], line_of(node))


def _parse_rules(
    reader: Reader, node: Node, facts: dict[str, ValueSpec], outcome: dict[str, ValueSpec]
) -> tuple[list[Rule], dict[str, dict[str, int]]]:
    rules: list[Rule] = []
    lines: dict[str, dict[str, int]] = {}
    seen: dict[str, int] = {}
    for item in reader.sequence(node, "`rules`"):
        entries = reader.mapping(item, "a rule", allowed=RULE_KEYS, required=("name",))
        name_node = entries["name"][1]
        name = reader.text(name_node, "the rule's `name`")
        if name == DEFAULT_NAME:
            reader.fail(name_node, f"{DEFAULT_NAME!r} is reserved for the default rule; choose another name")
        if name in seen:
            reader.fail(name_node, f"two rules are named {name!r} (the other is on line {seen[name]})")
        seen[name] = line_of(item)
        for key in ("priority", "when", "then"):
            if key not in entries:
                reader.fail(item, f"rule {name!r} has no {key!r}")
        priority_node = entries["priority"][1]
        priority = reader.scalar(priority_node, f"the priority of rule {name!r}")
        if isinstance(priority, bool) or not isinstance(priority, int):
            reader.fail(
                priority_node, f"the priority of rule {name!r} must be a whole number, got {describe(priority)}"
            )
        conditions, lines[name] = parse_when(reader, entries["when"][1], facts, name)
        then = parse_then(reader, entries["then"][1], outcome, facts, conditions, name)
        description = _description(reader, entries)
        rules.append(Rule(name, priority, conditions, then, line_of(item), description))
    return rules, lines


def _parse_default(
    reader: Reader, node: Node, facts: dict[str, ValueSpec], outcome: dict[str, ValueSpec], taken: set[str]
) -> Rule:
    entries = reader.mapping(node, "`default`", allowed=DEFAULT_KEYS, required=("then",))
    name = DEFAULT_NAME
    if "name" in entries:
        name_node = entries["name"][1]
        name = reader.text(name_node, "the default's `name`")
        if name in taken:
            reader.fail(name_node, f"the default is named {name!r} like a rule; choose another name")
    then = parse_then(reader, entries["then"][1], outcome, facts, (), name)
    return Rule(name, 0, (), then, line_of(node), _description(reader, entries))


def _check_reachable(
    reader: Reader, rules: tuple[Rule, ...], facts: dict[str, ValueSpec], lines: dict[str, dict[str, int]]
) -> None:
    for index, rule in enumerate(rules):
        fact = empty_fact(rule, facts)
        if fact is not None:
            reader.fail_at(
                lines[rule.name][fact],
                f"rule {rule.name!r} can never match: its tests on {fact!r} cannot all hold "
                "(they contradict each other or the fact's declared values)",
            )
        for earlier in rules[:index]:
            if shadows(earlier, rule, facts):
                order = (
                    f"has a lower priority number ({earlier.priority} < {rule.priority})"
                    if earlier.priority < rule.priority
                    else f"has the same priority ({rule.priority}) and comes first in the file"
                )
                reader.fail_at(
                    rule.line,
                    f"rule {rule.name!r} can never fire: rule {earlier.name!r} (line {earlier.line}) {order} "
                    f"and matches every ticket that {rule.name!r} matches",
                )
