"""The restricted Python that diagrams may contain: what is refused, what runs, templates."""

from __future__ import annotations

import pytest

from service.engine.scripting import (
    UnsafeCode,
    check_code,
    evaluate,
    parse_template,
    render_template,
    run_script,
    split_list,
    strip_expression,
    unsafe_value,
)

ESCAPES = [
    "import os",
    "import os as o",
    "from subprocess import run",
    "__import__('os')",
    "x = ().__class__.__base__.__subclasses__()",
    "x = [].__class__",
    "x = (lambda: 0).__globals__",
    "x = (i for i in [1]).gi_frame.f_back.f_globals",
    "x = '{0.__class__}'.format(1)",
    "x = str.format",
    "x = open('/etc/passwd')",
    "x = eval('1+1')",
    "exec('x = 1')",
    "x = compile('1', 'f', 'eval')",
    "x = getattr(1, 'real')",
    "x = globals()",
    "x = vars()",
    "x = type(1)",
    "x = __builtins__",
    "__name__ = 'x'",
    "global x",
    "class A: pass",
    "def f(): pass",
    "while True: pass",
    "with a: pass",
    "try:\n  x = 1\nexcept Exception:\n  pass",
    "x = lambda __self: 1",
    "x = _private",
    "try:\n  x = 1\nexcept* Exception:\n  pass",
    "match x:\n  case str(format=f):\n    y = f",
]


@pytest.mark.parametrize("code", ESCAPES)
def test_escapes_are_refused(code):
    with pytest.raises(UnsafeCode):
        check_code(code, "exec")


def test_refusal_names_the_line_inside_the_code():
    with pytest.raises(UnsafeCode) as caught:
        check_code("a = 1\nb = 2\nimport os\n", "exec")
    assert caught.value.lineno == 3
    assert "imports are not allowed" in str(caught.value)


@pytest.mark.parametrize(
    "code",
    [
        'team = routing["team"]\nlevel = routing["level"]\ncircle = 1',
        "total = sum([a, b]) if a else max(b, 0)",
        "names = sorted(n.strip().lower() for n in raw.split(','))",
        "label = f'{team}-L{level}'",
        "pick = sorted(items, key=lambda i: i['n'])",
        "x = {k: v for k, v in d.items() if v}",
        "del tmp",
        "if a:\n  b = 1\nelse:\n  b = 2",
        "for i in [1, 2]:\n  total = total + i",
        "area = side ** 2 + r ** 0.5",
    ],
)
def test_plain_scripts_pass(code):
    check_code(code, "exec")


def test_scripts_run_with_whitelisted_builtins_only():
    result = run_script("n = len(items) + max(1, 2)\nt = str(round(2.6))", {"items": [1, 2, 3]})
    assert result == {"items": [1, 2, 3], "n": 5, "t": "3"}
    with pytest.raises(NameError):
        run_script("print('hello')", {})
    with pytest.raises(NameError):
        run_script("x = range(3)", {})


def test_scripts_can_delete_variables_and_callables_are_dropped():
    result = run_script("del tmp\nf = lambda: 1\nkept = 1", {"tmp": 1})
    assert result == {"kept": 1}


def test_expressions_evaluate_against_variables():
    assert evaluate('route == "per_call"', {"route": "per_call"}) is True
    assert evaluate('escalation["action"] in ("next_level", "second_circle")', {"escalation": {"action": "x"}}) is False
    with pytest.raises(UnsafeCode):
        evaluate("x = 1", {})


def test_templates():
    assert parse_template("${team}-L${level}") == ((True, "team"), (False, "-L"), (True, "level"))
    assert render_template("${team}-L${level}", {"team": "storage", "level": 1}) == "storage-L1"
    assert render_template("${level}", {"level": 2}) == 2  # a lone expression keeps its type
    assert render_template("duty", {}) == "duty"
    assert render_template("${ {'a': 1}.get(k, 0) }", {"k": "a"}) == 1
    assert render_template("x${none}y", {"none": None}) == "xy"
    with pytest.raises(UnsafeCode):
        parse_template("${__import__('os')}")
    with pytest.raises(UnsafeCode):
        parse_template("${team")
    with pytest.raises(UnsafeCode):
        parse_template("${}")


def test_split_list_ignores_commas_inside_expressions():
    assert split_list("duty, ${max(a, b)}-L1 ,managers,") == ["duty", "${max(a, b)}-L1", "managers"]
    assert split_list("") == []


def test_strip_expression_accepts_camunda_style_conditions():
    assert strip_expression('  ${route == "contract"} ') == "(route == 'contract')"
    assert strip_expression('route == "contract"') == 'route == "contract"'
    assert strip_expression("${a}-${b}") == "${a}-${b}"


def test_unsafe_value_finds_what_json_cannot_hold():
    assert unsafe_value({"a": [1, 2.5, "x", None, True, {"b": []}]}) is None
    assert "set" in (unsafe_value({"a": {1, 2}}) or "")
    assert "non-string key" in (unsafe_value({1: "a"}) or "")
    assert "finite" in (unsafe_value({"a": float("nan")}) or "")
