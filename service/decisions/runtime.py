"""Evaluating rulesets on durable_rules: one compiled host per ruleset version, used synchronously.

Known traps of durable_rules 2.0.28 and how they are avoided here:
- `Host()` starts dispatch threads that also run actions; `_SyncHost` starts none, so `post()` runs the action in
  the calling thread before it returns.
- The session state is re-asserted as a fact after every action; every compiled rule requires the guard key the
  state never has (see compiler.py), so a `present: false` test cannot loop on the state.
- A ruleset name cannot be registered twice in a host, so each version gets its own host, built once and cached.
- Sessions are bounded: each compiled host uses one session id, under a lock. The action writes nothing into the
  session, the event is always consumed (the default matches every event) and the state is checked after every
  post; a host whose session is not pristine, or whose post failed, is dropped, never reused (and its session
  is never deleted, which can crash the process when an event was not handled).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import durable_rules_engine
from durable import engine

from . import compiler
from .facts import build_outcome, type_facts
from .model import Decision, Ruleset

log = logging.getLogger(__name__)

CACHE_SIZE = 64  # compiled versions kept per process; older ones are freed and rebuilt if used again
_STATE_KEYS = frozenset({"sid", "id", "$s"})
_SID = "0"


class _SyncHost(engine.Host):
    """A durable_rules host without its background dispatch threads."""

    def _run(self) -> None:
        pass


class _Compiled:
    """One ruleset version compiled into its own durable_rules host."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.name = f"{ruleset.name}-{ruleset.version}"
        self._lock = threading.Lock()
        self._fired: int | None = None
        self.usable = True
        rules: dict[str, dict[str, Any]] = compiler.definition(ruleset)
        for index, key in enumerate(rules):
            rules[key]["run"] = self._action(index)
        self._host = _SyncHost({self.name: rules})

    def _action(self, index: int) -> Callable[[Any], None]:
        # durable_rules calls an action with one argument synchronously (two would make it asynchronous).
        def action(c: Any) -> None:
            self._fired = index

        return action

    def fire(self, typed: Mapping[str, Any]) -> int | None:
        """Post the facts as one event; the index of the rule that fired, or None if this host is unusable."""
        with self._lock:
            if not self.usable:
                return None
            self._fired = None
            try:
                state = self._host.post(self.name, compiler.event(self.ruleset, typed, _SID))
            except BaseException:
                self.usable = False  # the session may hold a half-handled event: never post to it again
                raise
            fired = self._fired
            if fired is None or not isinstance(state, dict) or not _STATE_KEYS.issuperset(state):
                self.usable = False
                log.error("decisions: %s left session state %r (fired %r); host dropped", self.name, state, fired)
                return None
            return fired

    def close(self) -> None:
        """Free the engine's ruleset if this host is healthy and idle (a broken one is left alone)."""
        with self._lock:
            if self.usable:
                self.usable = False
                durable_rules_engine.delete_ruleset(self._host.get_ruleset(self.name)._handle)


_cache: OrderedDict[str, _Compiled] = OrderedDict()
_cache_lock = threading.Lock()


def _compiled(ruleset: Ruleset) -> _Compiled:
    # Keyed by the rule text: equal texts give equal rulesets, and a reparse of the same file reuses the host.
    with _cache_lock:
        compiled = _cache.get(ruleset.text)
        if compiled is not None and compiled.usable:
            _cache.move_to_end(ruleset.text)
            return compiled
        compiled = _Compiled(ruleset)
        _cache[ruleset.text] = compiled
        while len(_cache) > CACHE_SIZE:
            _, evicted = _cache.popitem(last=False)
            evicted.close()
        return compiled


def evaluate(ruleset: Ruleset, facts: Mapping[str, Any]) -> Decision:
    """Decide on one ticket's facts with durable_rules: the outcome, the rule that fired and the version."""
    typed = type_facts(ruleset, facts)
    for _ in range(3):
        index = _compiled(ruleset).fire(typed)
        if index is not None:
            break
    else:
        raise RuntimeError(f"decisions: could not evaluate {ruleset.name} {ruleset.version}")
    rule = ruleset.rules[index] if index < len(ruleset.rules) else ruleset.default
    return Decision(ruleset.name, ruleset.version, rule.name, build_outcome(rule, typed))


def compiled_count() -> int:
    """How many ruleset versions are compiled in this process (for tests and metrics)."""
    with _cache_lock:
        return len(_cache)
