"""Rule files are validated before use: every refusal names the file, the line and the reason."""

import textwrap

import pytest

from service.decisions import RulesetError, parse_ruleset

HEAD = """\
ruleset: demo
facts:
  kind: {type: string, enum: [a, b, c]}
  name: string
  count: {type: integer, min: 0, max: 10}
  ratio: number
  flag: boolean
outcome: [team]
"""
# HEAD is 8 lines: `rules:` in a test body starts on line 9.
DEFAULT = "default: {then: {team: y}}\n"


def refusal(body: str, head: str = HEAD) -> RulesetError:
    with pytest.raises(RulesetError) as caught:
        parse_ruleset(head + textwrap.dedent(body), filename="rules/demo.yaml")
    error = caught.value
    assert error.filename == "rules/demo.yaml"
    assert str(error).startswith(f"rules/demo.yaml, line {error.line}: ")
    return error


def test_a_valid_file_parses_with_ordered_rules_and_a_version():
    text = HEAD + textwrap.dedent(
        """\
        rules:
          - {name: later, priority: 5, when: {kind: b}, then: {team: x}}
          - {name: first, priority: 1, when: {kind: a}, then: {team: y}}
          - {name: same priority as later, priority: 5, when: {kind: c}, then: {team: z}}
        default:
          then: {team: w}
        """
    )
    ruleset = parse_ruleset(text, filename="demo.yaml")
    assert [r.name for r in ruleset.rules] == ["first", "later", "same priority as later"]
    assert ruleset.name == "demo" and ruleset.default.name == "default"
    assert len(ruleset.version) == 12 and ruleset.text == text
    assert ruleset.facts["count"].type == "integer" and ruleset.facts["count"].maximum == 10
    assert parse_ruleset(text + "\n", filename="demo.yaml").version != ruleset.version


@pytest.mark.parametrize(
    ("text", "line", "detail"),
    [
        ("ruleset: demo\nfacts: [a\n", 3, "not valid YAML"),
        ("ruleset: demo\n  facts: x\n", 2, "not valid YAML"),
        ("", 1, "the file is empty"),
        ("ruleset: a\n---\nruleset: b\n", 2, "not valid YAML"),
        ("- just\n- a list\n", 1, "the file must be a mapping"),
    ],
)
def test_yaml_syntax_and_shape(text, line, detail):
    with pytest.raises(RulesetError) as caught:
        parse_ruleset(text, filename="bad.yaml")
    assert (caught.value.line, caught.value.filename) == (line, "bad.yaml")
    assert detail in caught.value.detail


def test_unknown_top_level_key_with_a_suggestion():
    error = refusal("rules: []\ndefault: {then: {team: x}}\ndefualt: 1\n")
    assert error.line == 11
    assert "unknown key 'defualt'" in error.detail and "did you mean 'default'" in error.detail


def test_missing_default_is_refused():
    error = refusal("rules: []\n")
    assert error.line == 1 and "has no 'default'" in error.detail


def test_duplicate_key_is_refused():
    error = refusal(
        """\
        rules:
          - name: r
            priority: 1
            priority: 2
            when: {kind: a}
            then: {team: x}
        default: {then: {team: y}}
        """
    )
    assert error.line == 12 and "'priority' appears twice" in error.detail


def test_unknown_rule_key():
    error = refusal(
        """\
        rules:
          - name: r
            priority: 1
            when: {kind: a}
            then: {team: x}
            otherwise: {team: y}
        default: {then: {team: y}}
        """
    )
    assert error.line == 14 and "unknown key 'otherwise' in a rule" in error.detail


@pytest.mark.parametrize("missing", ["priority", "when", "then"])
def test_rule_parts_are_required(missing):
    parts = {"priority": "priority: 1", "when": "when: {kind: a}", "then": "then: {team: x}"}
    lines = ["rules:", "  - name: r"] + [f"    {v}" for k, v in parts.items() if k != missing]
    error = refusal("\n".join(lines) + "\ndefault: {then: {team: y}}\n")
    assert error.line == 10 and f"rule 'r' has no '{missing}'" in error.detail


def test_rule_without_name():
    error = refusal("rules:\n  - {priority: 1, when: {kind: a}, then: {team: x}}\ndefault: {then: {team: y}}\n")
    assert error.line == 10 and "has no 'name'" in error.detail


def test_duplicate_rule_names():
    error = refusal(
        """\
        rules:
          - {name: r, priority: 1, when: {kind: a}, then: {team: x}}
          - {name: r, priority: 2, when: {kind: b}, then: {team: x}}
        default: {then: {team: y}}
        """
    )
    assert error.line == 11 and "two rules are named 'r' (the other is on line 10)" in error.detail


@pytest.mark.parametrize("priority", ['"1"', "1.5", "true", "high"])
def test_priority_must_be_an_integer(priority):
    error = refusal(f"rules:\n  - {{name: r, priority: {priority}, when: {{kind: a}}, then: {{team: x}}}}\n" + DEFAULT)
    assert error.line == 10 and "priority of rule 'r' must be a whole number" in error.detail


def test_condition_on_an_undeclared_fact():
    error = refusal(
        """\
        rules:
          - name: r
            priority: 1
            when:
              knid: a
            then: {team: x}
        default: {then: {team: y}}
        """
    )
    assert error.line == 13
    assert "'knid', which is not a declared fact" in error.detail and "did you mean 'kind'" in error.detail


def test_unknown_operator():
    error = refusal(
        """\
        rules:
          - name: r
            priority: 1
            when:
              count: {greater: 3}
            then: {team: x}
        default: {then: {team: y}}
        """
    )
    assert error.line == 13 and "unknown operator 'greater'" in error.detail and "gt" in error.detail


@pytest.mark.parametrize(
    ("condition", "detail"),
    [
        ('count: "4"', "expected a whole number, got the text '4'"),
        ("count: {gt: three}", "expected a whole number, got the text 'three'"),
        ("count: 2.5", "expected a whole number, got the number 2.5"),
        ("name: 42", "expected text, got the number 42 (put it in quotes to make it text)"),
        ("name: no", "expected text, got false (put it in quotes"),
        ("flag: 1", "expected true or false, got the number 1"),
        ("ratio: {lte: yes}", "expected a number, got true"),
        ("name: {lt: b}", "`lt` compares numbers, but 'name' is a string fact"),
        ("kind: {in: a}", "`in` takes a list of values"),
        ("kind: {in: []}", "the list of values is empty"),
        ("kind: {present: 1}", "`present` takes true or false"),
        ("kind: {}", "no test given"),
    ],
)
def test_value_types_must_match_the_declared_fact(condition, detail):
    error = refusal(
        f"rules:\n  - name: r\n    priority: 1\n    when:\n      {condition}\n    then: {{team: x}}\n" + DEFAULT
    )
    assert error.line == 13
    assert detail in error.detail
    assert "rule 'r'" in error.detail


@pytest.mark.parametrize(
    "condition", ["kind: d", "kind: [a, d]", "kind: {ne: d}", "kind: {not_in: [d]}", "count: 11", "count: {in: [-1]}"]
)
def test_values_outside_the_enum_or_bounds_are_refused(condition):
    error = refusal(
        f"rules:\n  - name: r\n    priority: 1\n    when:\n      {condition}\n    then: {{team: x}}\n" + DEFAULT
    )
    assert error.line == 13
    assert (
        "is not one of the allowed values: 'a', 'b', 'c'" in error.detail
        or "the minimum" in error.detail
        or ("the maximum" in error.detail)
    )


@pytest.mark.parametrize(
    "condition",
    [
        "count: {gt: 5, lt: 3}",
        "count: {gt: 10}",
        "kind: {in: [a], ne: a}",
        "flag: {eq: true, ne: true}",
        "name: {present: false, eq: x}",
        "ratio: {gt: 1.5, lte: 1.5}",
    ],
)
def test_contradictory_conditions_are_refused(condition):
    error = refusal(
        f"rules:\n  - name: r\n    priority: 1\n    when:\n      {condition}\n    then: {{team: x}}\n" + DEFAULT
    )
    assert error.line == 13 and "rule 'r' can never match" in error.detail


def test_outcome_must_have_the_declared_keys():
    head = HEAD.replace("outcome: [team]", "outcome: [team, level]")
    rules = "rules:\n  - {name: r, priority: 1, when: {kind: a}, then: {team: x}}\n"
    error = refusal(rules + "default: {then: {team: x, level: 1}}\n", head=head)
    assert error.line == 10 and "the outcome of rule 'r' lacks 'level'" in error.detail
    error = refusal("rules: []\ndefault:\n  then: {team: x, level: 1, tema: y}\n", head=head)
    assert error.line == 11 and "'tema', which is not a declared outcome key" in error.detail
    error = refusal("rules: []\ndefault:\n  then: {team: x}\n", head=head)
    assert error.line == 11 and "the outcome of rule 'default' lacks 'level'" in error.detail


def test_typed_outcome_values_are_checked():
    head = HEAD.replace("outcome: [team]", "outcome:\n  team: {type: string, enum: [x, y]}\n  level: integer")
    error = refusal("rules: []\ndefault:\n  then: {team: z, level: 1}\n", head=head)
    assert error.line == 13 and "'z' is not one of the allowed values" in error.detail
    error = refusal("rules: []\ndefault:\n  then: {team: x, level: '2'}\n", head=head)
    assert error.line == 13 and "expected a whole number, got the text '2'" in error.detail


def test_fact_copies_in_outcomes():
    head = HEAD.replace("outcome: [team]", "outcome:\n  n: {type: integer, min: 0}\n  team: string")
    ok = head + "rules:\n  - {name: r, priority: 1, when: {count: {gt: 1}}, then: {n: {fact: count}, team: x}}\n"
    ok += "default: {then: {n: {fact: count, otherwise: 0}, team: y}}\n"
    ruleset = parse_ruleset(ok, filename="ok.yaml")
    assert ruleset.rules[0].outcome[0][1].fact == "count"
    error = refusal("rules: []\ndefault: {then: {n: {fact: count}, team: y}}\n", head=head)
    assert error.line == 12 and "copies fact 'count', which may be missing" in error.detail
    error = refusal("rules: []\ndefault: {then: {n: {fact: name, otherwise: 0}, team: y}}\n", head=head)
    assert error.line == 12 and "it is a string fact and the outcome is a integer" in error.detail
    error = refusal("rules: []\ndefault: {then: {n: {fact: count, otherwise: -1}, team: y}}\n", head=head)
    assert error.line == 12 and "-1 is below the minimum 0" in error.detail


def test_a_rule_without_conditions_is_refused():
    error = refusal("rules:\n  - name: always\n    priority: 1\n    when: {}\n    then: {team: x}\n" + DEFAULT)
    assert error.line == 12 and "rule 'always' has no conditions" in error.detail


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("{kind: a}", "{kind: a, flag: true}"),
        ("{kind: [a, b]}", "{kind: a}"),
        ("{count: {gte: 2}}", "{count: {in: [3, 4]}}"),
        ("{count: {gt: 2}}", "{count: {gte: 3, lte: 5}}"),
        ("{ratio: {gt: 0.5}}", "{ratio: {gt: 1}}"),
        ("{name: {ne: x}}", "{name: y}"),
        ("{name: {present: true}}", "{name: {not_in: [x]}}"),
        ("{name: {present: false}}", "{name: {present: false}, flag: false}"),
        ("{kind: {not_in: [c]}}", "{kind: {in: [a, b]}}"),
    ],
)
def test_a_rule_shadowed_by_an_earlier_one_is_refused(first, second):
    error = refusal(
        f"""\
        rules:
          - {{name: broad, priority: 1, when: {first}, then: {{team: x}}}}
          - {{name: narrow, priority: 2, when: {second}, then: {{team: y}}}}
        default: {{then: {{team: z}}}}
        """
    )
    assert error.line == 11
    assert "rule 'narrow' can never fire: rule 'broad' (line 10) has a lower priority number (1 < 2)" in error.detail


def test_shadowing_follows_priority_not_file_order():
    error = refusal(
        """\
        rules:
          - {name: narrow, priority: 5, when: {kind: a, flag: true}, then: {team: y}}
          - {name: broad, priority: 5, when: {kind: a}, then: {team: x}}
          - {name: broader, priority: 1, when: {kind: [a, b]}, then: {team: x}}
        default: {then: {team: z}}
        """
    )
    assert error.line == 10 and "rule 'narrow' can never fire: rule 'broader' (line 12)" in error.detail
    error = refusal(
        """\
        rules:
          - {name: broad, priority: 5, when: {kind: a}, then: {team: x}}
          - {name: narrow, priority: 5, when: {kind: a, flag: true}, then: {team: y}}
        default: {then: {team: z}}
        """
    )
    assert error.line == 11 and "has the same priority (5) and comes first in the file" in error.detail


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("{kind: a, flag: true}", "{kind: a}"),  # the later rule is broader: reachable
        ("{count: {gt: 2}}", "{count: {gte: 2}}"),  # 2 itself reaches the later rule
        ("{ratio: {gt: 1}}", "{ratio: {gt: 0.5}}"),
        ("{name: {ne: x}}", "{name: {present: true}}"),  # "x" reaches the later rule
        ("{name: {present: true}}", "{name: {present: false}}"),
        ("{count: {lt: 3}}", "{count: {gt: 1}}"),
    ],
)
def test_overlapping_rules_that_can_both_fire_are_accepted(first, second):
    text = HEAD + textwrap.dedent(
        f"""\
        rules:
          - {{name: one, priority: 1, when: {first}, then: {{team: x}}}}
          - {{name: two, priority: 2, when: {second}, then: {{team: y}}}}
        default: {{then: {{team: z}}}}
        """
    )
    assert [r.name for r in parse_ruleset(text, filename="ok.yaml").rules] == ["one", "two"]


@pytest.mark.parametrize(
    ("facts", "line", "detail"),
    [
        ("facts:\n  a: {type: int}\n", 3, "unknown type 'int'"),
        ("facts:\n  a: {type: string, enum: [x, 1]}\n", 3, "expected text, got the number 1"),
        ("facts:\n  a: {type: string, enum: [x, x]}\n", 3, "'x' appears twice"),
        ("facts:\n  a: {type: string, min: 1}\n", 3, "`min` applies only to integer or number"),
        ("facts:\n  a: {type: integer, min: 5, max: 1}\n", 3, "`max` is below `min`"),
        ("facts:\n  a: {typ: string}\n", 3, "unknown key 'typ'"),
        ("facts:\n  a b: string\n", 3, "use letters, digits and '_'"),
        ("facts: {}\n", 2, "`facts` declares nothing"),
    ],
)
def test_fact_declarations_are_checked(facts, line, detail):
    with pytest.raises(RulesetError) as caught:
        parse_ruleset("ruleset: d\n" + facts + "outcome: [x]\nrules: []\ndefault: {then: {x: 1}}\n", filename="f")
    assert caught.value.line == line and detail in caught.value.detail


def test_rule_named_default_is_reserved():
    error = refusal("rules:\n  - {name: default, priority: 1, when: {kind: a}, then: {team: x}}\n" + DEFAULT)
    assert error.line == 10 and "'default' is reserved" in error.detail
