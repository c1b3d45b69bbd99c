"""The durable_rules compilation agrees with the plain-Python reference evaluator on generated tickets."""

import random
from pathlib import Path

import pytest
import yaml

from service.decisions import RulesetError, evaluate, parse_ruleset
from service.decisions.facts import build_outcome, type_facts
from service.decisions.reference import reference_rule

ROOT = Path(__file__).resolve().parents[2]

STRINGS = ["a", "b", "c", "", "NORD-BANK", "é", 'q"uote', "back\\slash", "x y", "😀"]
INTEGERS = [-3, -1, 0, 1, 2, 3, 5, 9, 10, 11, 2**40]
NUMBERS = [-1e20, -1.5, -0.0, 0.0, 1e-6, 0.5, 1.0, 2.0, 3.25, 1e20]

# Every operator on every type it applies to, with all the fact types.
SYNTHETIC = """\
ruleset: synthetic
facts:
  tier: {type: string, enum: [gold, silver, bronze, ""]}
  name: string
  count: {type: integer, min: -5, max: 20}
  big: integer
  ratio: number
  flag: boolean
outcome:
  which: string
  copy: integer
rules:
  - {name: eq, priority: 1, when: {tier: gold, flag: true}, then: {which: eq, copy: {fact: count, otherwise: -9}}}
  - {name: ne, priority: 2, when: {name: {ne: a}, count: {lt: 0}}, then: {which: ne, copy: {fact: count}}}
  - {name: in, priority: 3, when: {name: [b, "", 'q"uote'], ratio: {gte: 0.5}}, then: {which: in, copy: 1}}
  - {name: not_in, priority: 4, when: {tier: {not_in: [gold, silver]}, big: {gt: 3}}, then: {which: ni, copy: 2}}
  - {name: range, priority: 5, when: {count: {gte: 2, lte: 9}, ratio: {lt: 2.0}}, then: {which: rg, copy: 3}}
  - {name: absent, priority: 6, when: {name: {present: false}, flag: {present: true}}, then: {which: ab, copy: 4}}
  - {name: present, priority: 6, when: {big: {present: true, ne: 5}, tier: {eq: silver}}, then: {which: pr, copy: 5}}
  - {name: big, priority: 7, when: {big: {in: [1099511627776, -1]}}, then: {which: bg, copy: {fact: big}}}
  - {name: neg, priority: 8, when: {ratio: {lte: -0.0}, flag: false}, then: {which: ng, copy: 6}}
  - {name: tiny, priority: 9, when: {ratio: {gt: 0.000001, lt: 1}}, then: {which: tn, copy: 7}}
default:
  then: {which: default, copy: 0}
"""

RANDOM_FACTS = {
    "s": {"type": "string", "enum": ["a", "b", "c", ""]},
    "t": {"type": "string"},
    "i": {"type": "integer"},
    "j": {"type": "integer", "min": 0, "max": 10},
    "n": {"type": "number"},
    "f": {"type": "boolean"},
}
OPERATORS = {
    "string": ["eq", "ne", "in", "not_in", "present"],
    "boolean": ["eq", "ne", "present"],
    "integer": ["eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "present"],
    "number": ["eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "present"],
}


def pool(spec):
    if spec.get("enum"):
        return list(spec["enum"])
    return {"string": STRINGS, "integer": INTEGERS, "number": NUMBERS, "boolean": [True, False]}[spec["type"]]


def random_ruleset_text(rng, index):
    rules = []
    for number in range(rng.randint(1, 8)):
        when = {}
        for fact in rng.sample(sorted(RANDOM_FACTS), rng.randint(1, 3)):
            spec = RANDOM_FACTS[fact]
            values = [v for v in pool(spec) if spec["type"] != "integer" or 0 <= v <= 10 or "min" not in spec]
            tests = {}
            for op in rng.sample(OPERATORS[spec["type"]], 1 if rng.random() < 0.75 else 2):
                if op == "present":
                    tests[op] = rng.random() < 0.6
                elif op in ("in", "not_in"):
                    tests[op] = rng.sample(values, rng.randint(1, min(3, len(values))))
                else:
                    tests[op] = rng.choice(values)
            when[fact] = tests
        rules.append(
            {"name": f"r{number}", "priority": rng.randint(1, 5), "when": when, "then": {"rule": f"r{number}"}}
        )
    document = {"ruleset": f"random{index}", "facts": RANDOM_FACTS, "outcome": ["rule"], "rules": rules}
    document["default"] = {"then": {"rule": "default"}}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def random_facts(rng, ruleset):
    facts = {}
    for name, spec in ruleset.facts.items():
        roll = rng.random()
        if roll < 0.2:
            continue
        if roll < 0.25:
            facts[name] = None
            continue
        if spec.type == "boolean":
            facts[name] = rng.random() < 0.5
        elif spec.enum is not None:
            facts[name] = rng.choice(spec.enum)
        elif spec.type == "string":
            facts[name] = rng.choice(STRINGS + ["client-" + str(rng.randint(0, 9))])
        else:
            base = [v for rule in ruleset.rules for c in rule.conditions if c.fact == name for v in _values(c)]
            candidates = (INTEGERS if spec.type == "integer" else NUMBERS) + base
            value = rng.choice(candidates)
            if spec.type == "integer":
                value = int(value) + rng.choice([-1, 0, 0, 1])
                low = spec.minimum if spec.minimum is not None else -(2**62)
                high = spec.maximum if spec.maximum is not None else 2**62
                value = min(max(value, low), high)
            else:
                value = rng.choice([value, value + rng.uniform(-1, 1), value * 1.000001, int(value)])
            facts[name] = value
    return facts


def _values(condition):
    if condition.op == "present":
        return []
    return list(condition.value) if isinstance(condition.value, tuple) else [condition.value]


def shipped(name):
    return parse_ruleset((ROOT / "rules" / f"{name}.yaml").read_text(encoding="utf-8"), filename=name)


def agree(ruleset, rng, rounds):
    fired = set()
    for _ in range(rounds):
        facts = random_facts(rng, ruleset)
        expected = reference_rule(ruleset, type_facts(ruleset, facts))
        decision = evaluate(ruleset, facts)
        assert (decision.rule, decision.outcome) == (
            expected.name,
            build_outcome(expected, type_facts(ruleset, facts)),
        ), (
            ruleset.name,
            facts,
        )
        fired.add(decision.rule)
    return fired


@pytest.mark.parametrize("name", ["entitlement", "routing", "escalation"])
def test_shipped_rulesets_agree_with_the_reference(name):
    ruleset = shipped(name)
    fired = agree(ruleset, random.Random(f"shipped-{name}"), 1500)
    assert len(fired) >= len(ruleset.rules)  # the generator reaches (nearly) every rule and the default


def test_synthetic_ruleset_with_every_operator_agrees_with_the_reference():
    ruleset = parse_ruleset(SYNTHETIC, filename="synthetic.yaml")
    fired = agree(ruleset, random.Random("synthetic"), 4000)
    assert fired == {rule.name for rule in ruleset.rules} | {"default"}


def test_random_rulesets_agree_with_the_reference():
    rng = random.Random(20240601)
    accepted = refused = 0
    for index in range(300):
        try:
            ruleset = parse_ruleset(random_ruleset_text(rng, index), filename=f"random{index}.yaml")
        except RulesetError as error:
            assert "can never" in error.detail, error
            refused += 1
            continue
        accepted += 1
        agree(ruleset, rng, 40)
    assert accepted >= 100 and refused >= 20
