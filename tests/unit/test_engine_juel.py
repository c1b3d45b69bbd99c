"""Camunda expressions (JUEL) in diagrams: translated into the restricted evaluator, never run as Python text."""

from __future__ import annotations

from typing import Any

import pytest

from service.engine import DiagramError, load_definition
from service.engine.juel import JuelError, to_python
from service.engine.scripting import UnsafeCode, evaluate, expression_python, render_template
from tests.unit.test_engine_elements import flow, no_decisions
from tests.unit.test_engine_helpers import process_xml


def value(expression: str, **variables: Any) -> Any:
    return evaluate(expression_python(expression), variables)


@pytest.mark.parametrize(
    ("expression", "variables", "expected"),
    [
        ("approved == true", {"approved": True}, True),
        ("approved == false", {"approved": True}, False),
        ("!rejected", {"rejected": False}, True),
        ("not rejected", {"rejected": True}, False),
        ("a && b || !c", {"a": False, "b": True, "c": False}, True),
        ("a and b or not c", {"a": True, "b": False, "c": True}, False),
        ("amount gt 1000 && level le 2", {"amount": 1500, "level": 2}, True),
        ("amount lt 10 || amount ge 100", {"amount": 50}, False),
        ("status eq 'open' and owner ne null", {"status": "open", "owner": "kim"}, True),
        ("x != null", {"x": None}, False),
        ("empty comment", {"comment": ""}, True),
        ("empty items", {"items": []}, True),
        ("empty items", {"items": [0]}, False),
        ("empty count", {"count": 0}, False),
        ("not empty note ? note : 'none'", {"note": None}, "none"),
        ("level > 2 ? 'L3' : level == 2 ? 'L2' : 'L1'", {"level": 2}, "L2"),
        ('client.sector eq "bank"', {"client": {"sector": "bank"}}, True),
        ("parts[0].serial", {"parts": [{"serial": "S-1"}]}, "S-1"),
        ("client['code']", {"client": {"code": "NB"}}, "NB"),
        ("execution.getVariable('level') + 1", {"level": 1}, 2),
        ("execution.getVariable('missing') == null", {}, True),
        ("7 mod 3 + 6 div 4", {}, 2.5),
        ("-x * 2", {"x": 3}, -6),
        ("summary.lower().startswith('disk')", {"summary": "Disk array"}, True),
        ("'it\\'s'", {}, "it's"),
    ],
)
def test_juel_means_what_camunda_means(expression: str, variables: dict[str, Any], expected: Any) -> None:
    assert value(expression, **variables) == expected


def test_restricted_python_inside_an_expression_still_runs() -> None:
    assert value("x in ('a', 'b')", x="a") is True
    assert value("'yes' if done else 'no'", done=False) == "no"
    assert value("len(items) > 1", items=[1, 2]) is True


@pytest.mark.parametrize(
    ("expression", "position"),
    [("a &&", 5), ("a ? b", 6), ("x.", 3), ("execution.run()", 11), ("(a || b", 8), ("x eq", 5)],
)
def test_a_broken_expression_is_refused_naming_its_position(expression: str, position: int) -> None:
    with pytest.raises(JuelError) as translated:
        to_python(expression)
    assert translated.value.position + 1 == position
    with pytest.raises(UnsafeCode, match=f"at position {position} of"):
        expression_python(expression)


def test_the_translation_goes_through_the_restricted_checker() -> None:
    assert to_python("x.__class__") == "x['__class__']"  # a property is a key of the map, never an attribute
    with pytest.raises(UnsafeCode, match="'__class__' is not allowed"):
        expression_python("x.__class__()")
    with pytest.raises(UnsafeCode, match="'open' is not allowed"):
        expression_python("open('/etc/passwd')")
    assert "execution_variable" in to_python("execution.getVariable('x')")


def test_templates_take_both_openers() -> None:
    assert render_template("${team}-L#{level + 1}", {"team": "storage", "level": 1}) == "storage-L2"
    assert render_template("${level ge 2}", {"level": 3}) is True


def _gateway(condition: str) -> bytes:
    return process_xml(
        '<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="fork" default="to_no" />'
        '<bpmn:userTask id="yes" camunda:candidateGroups="x" /><bpmn:userTask id="no" camunda:candidateGroups="x" />'
        + flow("f1", "start", "fork")
        + flow("to_yes", "fork", "yes", condition)
        + flow("to_no", "fork", "no")
    )


@pytest.mark.parametrize(
    ("condition", "variables", "taken"),
    [
        ("${approved == true}", {"approved": True}, "yes"),
        ("${approved == true}", {"approved": False}, "no"),
        ("${!approved &amp;&amp; amount gt 100}", {"approved": False, "amount": 500}, "yes"),
        ("#{empty reason}", {"reason": "late"}, "no"),
    ],
)
def test_a_camunda_condition_picks_the_flow(condition: str, variables: dict[str, Any], taken: str) -> None:
    run = load_definition(_gateway(condition), filename="juel.bpmn").start(variables, decide=no_decisions)
    run.advance()
    assert [task.name for task in run.user_tasks()] == [taken]


def test_a_broken_camunda_condition_is_refused_at_load_with_its_element() -> None:
    with pytest.raises(DiagramError) as refused:
        load_definition(_gateway("${approved == }"), filename="juel.bpmn")
    assert refused.value.element_id == "to_yes" and "position" in refused.value.detail
