"""The shipped rule files in rules/ parse and decide the demo tickets as the business expects."""

import re
from pathlib import Path

import pytest

from service.decisions import FactsError, RulesetError, evaluate, parse_ruleset

ROOT = Path(__file__).resolve().parents[2]


def load(name):
    path = ROOT / "rules" / f"{name}.yaml"
    return parse_ruleset(path.read_text(encoding="utf-8"), filename=f"rules/{name}.yaml")


@pytest.fixture(scope="module")
def entitlement():
    return load("entitlement")


@pytest.fixture(scope="module")
def routing():
    return load("routing")


@pytest.fixture(scope="module")
def escalation():
    return load("escalation")


def test_every_shipped_file_parses_and_declares_the_service_facts():
    declared = {p.stem: set(load(p.stem).facts) for p in sorted((ROOT / "rules").glob("*.yaml"))}
    assert declared == {
        "entitlement": {
            "contract_status",
            "contract_covers_equipment",
            "contract_number",
            "service_level",
            "equipment_class",
        },
        "routing": {"equipment_class", "category", "severity", "client", "channel"},
        "escalation": {"level", "circle", "team"},
    }


NORD_BANK = {
    "client": "NORD-BANK",
    "contract_status": "active",
    "contract_covers_equipment": True,
    "contract_number": "C-NORD-1",
    "service_level": "gold",
    "equipment_class": "storage",
}


def test_entitlement_without_a_contract_names_none(entitlement):
    facts = {**NORD_BANK, "contract_status": "none", "contract_number": "", "service_level": ""}
    assert evaluate(entitlement, facts).outcome == {"route": "per_call", "reason": "no contract", "contract": ""}


@pytest.mark.parametrize(
    ("changes", "route", "reason"),
    [
        ({}, "contract", "valid contract"),
        ({"contract_status": "expired"}, "per_call", "contract expired"),
        ({"contract_status": "suspended"}, "per_call", "contract suspended"),
        ({"contract_status": "terminated"}, "per_call", "contract terminated"),
        ({"contract_covers_equipment": False}, "per_call", "equipment not covered by the contract"),
        ({"service_level": ""}, "per_call", "contract names no service level"),
        ({"service_level": None}, "per_call", "contract names no service level"),
        ({"equipment_class": ""}, "contract", "valid contract"),
        ({"contract_status": None}, "per_call", "contract could not be checked"),
        ({"contract_covers_equipment": None}, "per_call", "contract could not be checked"),
    ],
)
def test_entitlement(entitlement, changes, route, reason):
    decision = evaluate(entitlement, {**NORD_BANK, **changes})
    assert decision.outcome == {"route": route, "reason": reason, "contract": "C-NORD-1"}
    assert decision.ruleset == "entitlement" and decision.version == entitlement.version


@pytest.mark.parametrize(
    ("equipment_class", "category", "team", "level"),
    [
        ("storage", "hardware", "storage", 1),
        ("storage", "software", "storage", 2),
        ("storage", "configuration", "storage", 2),
        ("servers", "hardware", "servers", 1),
        ("servers", "configuration", "servers", 2),
        ("network", "hardware", "network", 1),
        ("network", "software", "network", 2),
        ("", "hardware", "servers", 2),
        ("", "software", "servers", 2),
        (None, None, "servers", 2),
        ("storage", None, "storage", 2),
    ],
)
def test_routing(routing, equipment_class, category, team, level):
    facts = {"equipment_class": equipment_class, "category": category, "severity": "high", "client": "NORD-BANK"}
    decision = evaluate(routing, {**facts, "channel": "portal"})
    assert decision.outcome == {"team": team, "level": level}
    assert decision.rule == ("default" if equipment_class in ("", None) else decision.rule)


def test_routing_refuses_unknown_values(routing):
    with pytest.raises(FactsError) as caught:
        evaluate(routing, {"equipment_class": "mainframe", "category": "hardware", "channel": "fax"})
    assert set(caught.value.errors) == {"equipment_class", "channel"}


def test_escalation_walks_both_circles_then_asks_a_manager(escalation):
    state = {"level": 1, "circle": 1, "team": "storage"}
    actions = []
    for _ in range(6):
        outcome = evaluate(escalation, state).outcome
        actions.append((outcome["action"], outcome["level"], outcome["circle"]))
        if outcome["action"] == "manager_review":
            break
        state = {**state, "level": outcome["level"], "circle": outcome["circle"]}
    assert actions == [
        ("next_level", 2, 1),
        ("next_level", 3, 1),
        ("second_circle", 2, 2),
        ("next_level", 3, 2),
        ("manager_review", 3, 2),
    ]


@pytest.mark.parametrize(
    ("facts", "outcome"),
    [
        ({"level": 2, "circle": 3}, {"action": "manager_review", "level": 2, "circle": 3}),
        ({"level": 3, "circle": 7}, {"action": "manager_review", "level": 3, "circle": 7}),
        ({"level": 1, "circle": 2}, {"action": "manager_review", "level": 1, "circle": 2}),
        ({"circle": 4}, {"action": "manager_review", "level": 3, "circle": 4}),
        ({}, {"action": "manager_review", "level": 3, "circle": 1}),
    ],
)
def test_escalation_after_the_circles_and_by_default(escalation, facts, outcome):
    assert evaluate(escalation, facts).outcome == outcome


@pytest.mark.parametrize("facts", [{"level": 4, "circle": 1}, {"level": 1, "circle": 0}, {"level": "2", "circle": 1}])
def test_escalation_refuses_impossible_levels_and_circles(escalation, facts):
    with pytest.raises(FactsError):
        evaluate(escalation, facts)


def test_the_analysts_guide_examples_are_valid_rule_files():
    guide = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", guide, flags=re.S)
    complete = [b for b in blocks if b.startswith("ruleset:")]
    declarations = [b for b in blocks if b.startswith("facts:")]
    assert complete and declarations
    for block in complete:
        parse_ruleset(block, filename="docs/analysts.md")
    for block in declarations:
        ruleset = parse_ruleset(
            "ruleset: x\n" + block + "outcome: [x]\nrules: []\ndefault: {then: {x: 1}}\n", filename="docs"
        )
        assert ruleset.facts


def test_the_refusal_shown_in_the_analysts_guide_is_the_real_message():
    guide = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
    shown = re.findall(r"```yaml\n(# refused\n.*?)```\n+is refused with:\n+```text\n(.*?)\n```", guide, flags=re.S)
    assert shown
    for text, message in shown:
        with pytest.raises(RulesetError) as caught:
            parse_ruleset(text, filename="rules/routing.yaml")
        assert str(caught.value) == message
