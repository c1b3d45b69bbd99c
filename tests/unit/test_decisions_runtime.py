"""Evaluation on the real durable_rules engine: typing, no state between calls, threads, the known traps."""

import json
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.decisions import Decision, FactsError, compiler, evaluate, parse_ruleset, runtime

TEXT = """\
ruleset: runtime-demo
facts:
  tier: {type: string, enum: [gold, silver, bronze]}
  count: {type: integer, min: 0}
  ratio: number
  vip: boolean
  note: string
outcome:
  lane: string
  count: integer
rules:
  - name: no tier given
    priority: 1
    when: {tier: {present: false}}
    then: {lane: unknown, count: {fact: count, otherwise: -1}}
  - name: gold vip
    priority: 2
    when: {tier: gold, vip: true}
    then: {lane: fast, count: {fact: count, otherwise: 0}}
  - name: many
    priority: 3
    when: {count: {gte: 10}}
    then: {lane: bulk, count: {fact: count}}
  - name: tiny ratio
    priority: 4
    when: {ratio: {lt: 0.00001}}
    then: {lane: tiny, count: 0}
default:
  then: {lane: normal, count: 0}
"""
RULESET = parse_ruleset(TEXT, filename="runtime-demo.yaml")


def decide(**facts):
    return evaluate(RULESET, facts)


def test_decision_names_the_rule_version_and_a_fresh_outcome():
    first = decide(tier="gold", vip=True, count=3)
    assert first == Decision("runtime-demo", RULESET.version, "gold vip", {"lane": "fast", "count": 3})
    first.outcome["lane"] = "changed"
    assert decide(tier="gold", vip=True, count=3).outcome == {"lane": "fast", "count": 3}
    assert decide(tier="silver").rule == "default"


def test_undeclared_facts_are_ignored_and_none_counts_as_missing():
    assert decide(tier=None, count=4, unknown="x", other=[1]).rule == "no tier given"
    assert decide(tier=None).outcome == {"lane": "unknown", "count": -1}


@pytest.mark.parametrize(
    ("facts", "field", "message"),
    [
        ({"count": "4"}, "count", "expected a whole number, got the text '4'"),
        ({"count": 4.0}, "count", "expected a whole number, got the number 4.0"),
        ({"count": True}, "count", "expected a whole number, got true"),
        ({"count": -1}, "count", "-1 is below the minimum 0"),
        ({"count": 2**70}, "count", "number out of range"),
        ({"tier": "platinum"}, "tier", "'platinum' is not one of the allowed values"),
        ({"vip": "true"}, "vip", "expected true or false, got the text 'true'"),
        ({"vip": 1}, "vip", "expected true or false, got the number 1"),
        ({"ratio": "0.5"}, "ratio", "expected a number, got the text '0.5'"),
        ({"ratio": float("nan")}, "ratio", "expected a finite number"),
        ({"note": 7}, "note", "expected text, got the number 7"),
        ({"note": "a\x00b"}, "note", "NUL"),
        ({"note": "x" * 1001}, "note", "longer than 1000"),
    ],
)
def test_loosely_typed_facts_are_refused_not_coerced(facts, field, message):
    with pytest.raises(FactsError) as caught:
        evaluate(RULESET, facts)
    assert list(caught.value.errors) == [field]
    assert message in caught.value.errors[field][0]


def test_all_fact_errors_are_reported_together():
    with pytest.raises(FactsError) as caught:
        decide(tier="x", count="1", vip=None)
    assert set(caught.value.errors) == {"tier", "count"}
    with pytest.raises(TypeError):
        evaluate(RULESET, [("tier", "gold")])


def test_numbers_the_engine_cannot_read_as_json_still_compare_exactly():
    # durable_rules' JSON reader refuses 1e-05 or 1e+20; the compiler sends numbers in another form.
    assert decide(tier="silver", ratio=1e-6).rule == "tiny ratio"
    assert decide(tier="silver", ratio=1e-5).rule == "default"
    assert decide(tier="silver", ratio=9.999999999999999e-06).rule == "tiny ratio"
    assert decide(tier="silver", ratio=-1e300).rule == "tiny ratio"
    assert decide(tier="silver", ratio=1e20).rule == "default"
    assert decide(tier="silver", ratio=7).rule == "default"


def test_alternating_evaluations_do_not_influence_each_other():
    cases = [
        ({"tier": "gold", "vip": True, "count": 1}, "gold vip"),
        ({"tier": "silver", "count": 12}, "many"),
        ({"tier": "bronze"}, "default"),
        ({}, "no tier given"),
        ({"tier": "gold", "vip": False}, "default"),
        ({"tier": "gold", "ratio": 0.0}, "tiny ratio"),
    ]
    for round_number in range(300):
        for facts, expected in cases[round_number % 2 :] + cases[: round_number % 2]:
            assert evaluate(RULESET, facts).rule == expected


def test_more_evaluations_than_the_engine_allows_sessions():
    # durable_rules keeps at most 1024 sessions per ruleset; evaluations must not open one each.
    for count in range(3000):
        assert decide(tier="silver", count=count % 20).rule == ("many" if count % 20 >= 10 else "default")


def test_concurrent_evaluations_from_many_threads_are_correct():
    def work(seed):
        wrong = []
        for i in range(400):
            count = (seed * 7 + i) % 23
            decision = decide(tier="bronze", count=count)
            expected = (
                ("many", {"lane": "bulk", "count": count})
                if count >= 10
                else ("default", {"lane": "normal", "count": 0})
            )
            if (decision.rule, decision.outcome) != expected:
                wrong.append((count, decision))
        return wrong

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert [w for w in pool.map(work, range(24)) if w] == []


def _within(seconds, func):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", func()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"evaluation did not finish within {seconds}s (the state fact is matching)"
    return result["value"]


def test_a_missing_fact_matches_once_and_does_not_loop():
    # Without the guard, `present: false` would also match the session state durable_rules re-asserts after
    # each action, and post() would never return. Repeat so that a state left behind would show up.
    def run():
        return [decide(count=i).rule for i in range(50)]

    assert _within(10, run) == ["no tier given"] * 50


UNGUARDED = """
import json, os, sys
from durable import engine
from service.decisions import compiler, parse_ruleset

ruleset = parse_ruleset(sys.stdin.read(), filename="x.yaml")
definition = compiler.definition(ruleset, guard={guard})
calls = []
def action(c):
    calls.append(1)
    if len(calls) > 100:
        os._exit(3)  # the rule keeps matching the session state: the trap
for rule in definition.values():
    rule["run"] = action
class SyncHost(engine.Host):
    def _run(self):
        pass
host = SyncHost({{"trap": definition}})
host.post("trap", compiler.event(ruleset, {{}}, "0"))
print(len(calls))
"""


@pytest.mark.parametrize(("guard", "returncode", "calls"), [(True, 0, "1"), (False, 3, "")])
def test_the_guard_is_what_prevents_the_state_loop(guard, returncode, calls):
    text = "ruleset: trap\nfacts: {tier: string}\noutcome: [x]\nrules:\n"
    text += "  - {name: missing, priority: 1, when: {tier: {present: false}}, then: {x: 1}}\ndefault: {then: {x: 2}}\n"
    proc = subprocess.run(
        [sys.executable, "-c", UNGUARDED.format(guard=guard)],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert (proc.returncode, proc.stdout.strip()) == (returncode, calls), proc.stderr


def test_each_version_is_compiled_once_and_reused():
    decide(tier="gold")
    before = runtime.compiled_count()
    again = parse_ruleset(TEXT, filename="elsewhere.yaml")
    assert evaluate(again, {"tier": "gold", "vip": True}).rule == "gold vip"
    assert runtime.compiled_count() == before
    changed = parse_ruleset(TEXT.replace("lane: fast", "lane: faster"), filename="x.yaml")
    assert changed.version != RULESET.version and changed.name == RULESET.name
    assert evaluate(changed, {"tier": "gold", "vip": True}).outcome["lane"] == "faster"
    assert evaluate(RULESET, {"tier": "gold", "vip": True}).outcome["lane"] == "fast"


def test_old_versions_are_freed_beyond_the_cache_and_rebuilt_when_used(monkeypatch):
    monkeypatch.setattr(runtime, "CACHE_SIZE", 3)
    versions = [parse_ruleset(TEXT.replace("lane: bulk", f"lane: bulk{i}"), filename="v.yaml") for i in range(6)]
    for _ in range(2):
        for i, ruleset in enumerate(versions):
            assert evaluate(ruleset, {"count": 11, "tier": "gold"}).outcome["lane"] == f"bulk{i}"
    assert runtime.compiled_count() <= 3


def test_evaluation_is_fast():
    facts = {"tier": "silver", "count": 3, "ratio": 0.5, "vip": False, "note": "x"}
    decide(**facts)
    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        evaluate(RULESET, facts)
    per_call = (time.perf_counter() - start) / rounds
    print(f"evaluate: {per_call * 1e6:.1f} us per call")
    assert per_call < 0.002  # generous: about 30 us measured on a developer machine


def test_the_compiled_definition_is_plain_json_with_a_guard_on_every_rule():
    definition = compiler.definition(RULESET)
    assert json.loads(json.dumps(definition)) == definition
    for index, rule in enumerate(definition.values()):
        assert rule["pri"] == index
        pattern = rule["all"][0]["m"]
        tests = pattern["$and"] if "$and" in pattern else [pattern]
        assert tests[0] == {compiler.GUARD_KEY: compiler.GUARD_VALUE}


def test_several_rulesets_can_share_a_name_across_versions_without_clashing():
    text = textwrap.dedent(
        """\
        ruleset: runtime-demo
        facts: {tier: string}
        outcome: [lane]
        rules:
          - {name: any tier, priority: 1, when: {tier: {present: true}}, then: {lane: other}}
        default: {then: {lane: none}}
        """
    )
    other = parse_ruleset(text, filename="other.yaml")
    assert evaluate(other, {"tier": "gold"}).outcome == {"lane": "other"}
    assert decide(tier="gold", vip=True).outcome["lane"] == "fast"


def test_nothing_stays_in_the_engine_session_between_evaluations():
    cases = ({"tier": "gold", "vip": True}, {}, {"tier": "bronze", "count": 15}, {"ratio": 1e-9, "tier": "silver"})
    for facts in cases:
        evaluate(RULESET, facts)
        compiled = runtime._compiled(RULESET)
        host, name = compiled._host, compiled.name
        assert host.get_state(name, runtime._SID) == {"sid": runtime._SID, "id": f"sid-{runtime._SID}", "$s": 1}
        assert host.get_pending_events(name, runtime._SID) == []
        assert host.get_facts(name, runtime._SID) == []
