"""Trying rules before they go live: one set of facts (a dry run), or the facts past decisions saw (a what-if)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service import decisions
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.errors import Invalid
from service.rulesets.models import RulesetVersion
from service.rulesets.registry import RulesRegistry
from service.rulesets.services import parse_named
from service.tickets.models import DecisionRecord, Ticket

#: A what-if reads at most this many decisions; narrow `last` or the time range beyond it.
MAX_DECISIONS = 100_000
#: Rows fetched from the database at a time, and how often progress is reported.
BATCH = 2_000


@dataclass(frozen=True)
class Evaluation:
    """The outcome of a dry run, and which version decided it (`version` None for an unpublished draft)."""

    ruleset: str
    outcome: dict[str, Any]
    rule: str
    version: str | None
    hash: str
    draft: bool


@dataclass(frozen=True)
class WhatIfRow:
    """One past decision, and what the draft decides on the same facts."""

    ticket: str
    decided_at: datetime
    element_id: str
    old_version: str
    old_rule: str
    old_outcome: dict[str, Any]
    new_rule: str | None
    new_outcome: dict[str, Any] | None
    changed: bool
    error: str | None = None


@dataclass(frozen=True)
class WhatIf:
    """Every decision read, how many the draft decides differently, and the outcome keys seen (for CSV)."""

    ruleset: str
    hash: str
    version: str | None
    total: int
    changed: int
    rows: list[WhatIfRow]
    outcome_keys: list[str]


def _published(session: Session, name: str, text: str) -> tuple[str, str | None]:
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    number = session.scalar(
        select(RulesetVersion.version).where(RulesetVersion.name == name, RulesetVersion.content_hash == content_hash)
    )
    return content_hash[:12], None if number is None else str(number)


def evaluate_facts(
    session: Session,
    rules: RulesRegistry,
    *,
    user: Caller,
    name: str,
    facts: Mapping[str, Any],
    text: str | None = None,
) -> Evaluation:
    """Decide on `facts` with the active version, or with the draft `text`; nothing is recorded."""
    authorize(user, Permission.WRITE_RULESETS)
    version: str | None
    if text is None:
        active = rules.active(session, name)
        ruleset, content_hash, version = active.ruleset, active.content_hash[:12], str(active.number)
    else:
        ruleset = parse_named(text, name=name)
        content_hash, version = _published(session, name, text)
    try:
        decision = decisions.evaluate(ruleset, facts)
    except decisions.FactsError as error:
        raise Invalid("the facts do not fit the ruleset's declaration", errors=error.errors) from error
    return Evaluation(name, decision.outcome, decision.rule, version, content_hash, text is not None)


def what_if_for(
    session: Session,
    *,
    user: Caller,
    name: str,
    text: str,
    last: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> WhatIf:
    """A what-if asked through the API: for the rules' authors only (the command line runs `what_if` itself)."""
    authorize(user, Permission.WRITE_RULESETS)
    return what_if(session, name=name, text=text, last=last, since=since, until=until)


def what_if(
    session: Session,
    *,
    name: str,
    text: str,
    last: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WhatIf:
    """Decide again, with the draft `text`, on the facts recorded at each decision of the last `last` tickets
    (all their decisions of this ruleset) and/or of the time range [since, until).

    `progress(done, total)` is called every `BATCH` decisions.
    """
    draft = parse_named(text, name=name)
    query = _decisions(name, last, _utc(since, "since"), _utc(until, "until"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if total > MAX_DECISIONS:
        raise Invalid(f"{total} decisions match; a what-if reads at most {MAX_DECISIONS}: narrow `last` or the range")
    rows: list[WhatIfRow] = []
    keys = dict.fromkeys(draft.outcome)
    for done, record in enumerate(session.execute(query.execution_options(yield_per=BATCH)), 1):
        row = _decide_again(draft, *record)
        rows.append(row)
        keys.update(dict.fromkeys(row.old_outcome))
        if progress is not None and (done % BATCH == 0 or done == total):
            progress(done, total)
    content_hash, version = _published(session, name, text)
    changed = sum(1 for row in rows if row.changed)
    return WhatIf(name, content_hash, version, len(rows), changed, rows, list(keys))


def _utc(moment: datetime | None, field: str) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except OverflowError:
        raise Invalid("a time out of range", errors={field: ["not a time a decision can have"]}) from None


def _decisions(name: str, last: int | None, since: datetime | None, until: datetime | None) -> Select[Any]:
    conditions = [DecisionRecord.ruleset == name]
    if since is not None:
        conditions.append(DecisionRecord.at >= since)
    if until is not None:
        conditions.append(DecisionRecord.at < until)
    query = (
        select(
            Ticket.number,
            DecisionRecord.at,
            DecisionRecord.element_id,
            DecisionRecord.version,
            DecisionRecord.rule,
            DecisionRecord.outcome,
            DecisionRecord.facts,
        )
        .join(Ticket, Ticket.id == DecisionRecord.ticket_id)
        .where(*conditions)
        .order_by(DecisionRecord.id)
    )
    if last is not None:
        recent = (
            select(DecisionRecord.ticket_id)
            .where(*conditions)
            .group_by(DecisionRecord.ticket_id)
            .order_by(DecisionRecord.ticket_id.desc())
            .limit(last)
        )
        query = query.where(DecisionRecord.ticket_id.in_(recent.scalar_subquery()))
    return query


def _decide_again(
    draft: decisions.Ruleset,
    number: str | None,
    at: datetime,
    element_id: str,
    version: str,
    rule: str,
    outcome: dict[str, Any],
    facts: dict[str, Any] | None,
) -> WhatIfRow:
    old = dict(outcome or {})
    try:
        decision = decisions.evaluate(draft, facts or {})
    except decisions.FactsError as error:
        return WhatIfRow(number or "", at, element_id, version, rule, old, None, None, True, str(error))
    changed = decision.outcome != old
    return WhatIfRow(number or "", at, element_id, version, rule, old, decision.rule, decision.outcome, changed)


def what_if_csv(result: WhatIf) -> str:
    """The rows as CSV: one column per outcome key, old and new side by side."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    keys = result.outcome_keys
    writer.writerow(
        ["ticket", "decided_at", "element_id", "old_version", "old_rule"]
        + [f"old_{key}" for key in keys]
        + ["new_rule"]
        + [f"new_{key}" for key in keys]
        + ["changed", "error"]
    )
    for row in result.rows:
        new = row.new_outcome or {}
        writer.writerow(
            [row.ticket, row.decided_at.isoformat(), row.element_id, row.old_version, row.old_rule]
            + [_cell(row.old_outcome.get(key)) for key in keys]
            + [row.new_rule or ""]
            + [_cell(new.get(key)) for key in keys]
            + ["true" if row.changed else "false", row.error or ""]
        )
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
