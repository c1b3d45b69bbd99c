"""The active ruleset versions of this process, looked up again every few seconds.

Every web and worker process holds one registry. A new active version published by any process is picked up
at the next refresh, without a restart; compiled versions are cached by content hash, so a refresh that finds
nothing new compiles nothing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import decisions
from service.errors import NotFound
from service.rulesets.models import RulesetVersion


@dataclass(frozen=True)
class ActiveRuleset:
    """A compiled ruleset and the published version number it came from."""

    ruleset: decisions.Ruleset
    number: int
    content_hash: str


@dataclass(frozen=True)
class RuleDecision:
    """What a decision gives the engine: the outcome, the rule that fired and the version used."""

    ruleset: str
    outcome: dict[str, Any]
    rule: str
    version: str
    content_hash: str
    facts: dict[str, Any]
    #: The outcome keys the fired rule copied from facts (unbounded values, such as a contract's number).
    copied: frozenset[str] = frozenset()


class RulesRegistry:
    """Per-process cache of the active versions, refreshed at most every `refresh_seconds`."""

    def __init__(self, refresh_seconds: float = 1.0) -> None:
        self.refresh_seconds = refresh_seconds
        self._active: dict[str, ActiveRuleset] = {}
        self._compiled: dict[str, decisions.Ruleset] = {}
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def active(self, session: Session, name: str) -> ActiveRuleset:
        """The active version of a ruleset."""
        if time.monotonic() - self._checked_at >= self.refresh_seconds:
            self.refresh(session)
        try:
            return self._active[name]
        except KeyError:
            raise NotFound(f"no active version of ruleset {name!r}") from None

    def names(self, session: Session) -> set[str]:
        """The names of the rulesets that have an active version."""
        self.refresh(session)
        return set(self._active)

    def refresh(self, session: Session) -> None:
        """Read which versions are active and compile any not seen before."""
        rows = session.execute(
            select(RulesetVersion.name, RulesetVersion.version, RulesetVersion.content_hash).where(
                RulesetVersion.active.is_(True)
            )
        ).all()
        active: dict[str, ActiveRuleset] = {}
        for name, number, content_hash in rows:
            compiled = self._compiled.get(content_hash)
            if compiled is None:
                text = session.scalar(
                    select(RulesetVersion.text).where(
                        RulesetVersion.name == name, RulesetVersion.content_hash == content_hash
                    )
                )
                compiled = decisions.parse_ruleset(text or "", filename=f"{name}.yaml")
                self._compiled[content_hash] = compiled
            active[name] = ActiveRuleset(compiled, number, content_hash)
        with self._lock:
            self._active = active
            self._checked_at = time.monotonic()

    def decider(self, session: Session):  # type: ignore[no-untyped-def]
        """The `decide(ruleset, facts)` callback the engine calls for business rule tasks."""

        def decide(name: str, facts: dict[str, Any]) -> RuleDecision:
            active = self.active(session, name)
            decision = decisions.evaluate(active.ruleset, facts)
            used = {key: facts[key] for key in active.ruleset.facts if key in facts}
            copied = decisions.copied_keys(active.ruleset, decision.rule)
            return RuleDecision(
                name, decision.outcome, decision.rule, str(active.number), active.content_hash, used, copied
            )

        return decide
