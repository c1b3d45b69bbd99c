"""Trying rules before they go live: one set of facts (a dry run), or the facts past decisions saw (a what-if).

A what-if through the API answers its rows a page at a time (`what_if_page`): the first page reads every matching
decision for the totals and keeps the first rows; a later page decides again only the decisions after its cursor. The
cursor holds the newest decision id the first page saw, so later decisions never join a what-if already under way,
and it names the draft it was made for, so the cursor of one draft is refused for another. The command line and the
CSV answer take every row at once (`what_if`).
"""

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
from service.paging import decode, encode
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
class WhatIfPage:
    """A page of a what-if's rows; `total` and `changed` (over every decision read) come with the first page only."""

    ruleset: str
    hash: str
    version: str | None
    total: int | None
    changed: int | None
    rows: list[WhatIfRow]
    next: str | None


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


def what_if_page(
    session: Session,
    *,
    user: Caller,
    name: str,
    text: str,
    last: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    changed_only: bool = False,
    cursor: str | None = None,
    page_size: int = 50,
) -> WhatIfPage:
    """A page of a what-if asked through the API (for the rules' authors only): `page_size` rows, only the changed
    ones when `changed_only`, after the `cursor` of the previous page."""
    authorize(user, Permission.WRITE_RULESETS)
    draft = parse_named(text, name=name)
    content_hash, version = _published(session, name, text)
    list_name = f"what-if {name} {content_hash}"
    if cursor is not None:
        after, newest = decode(list_name, cursor, (DecisionRecord.id, DecisionRecord.id))
        query = _decisions(session, name, last, _utc(since, "since"), _utc(until, "until"), newest=newest)
        rows: list[tuple[int, WhatIfRow]] = []
        found = _rows(session, query.where(DecisionRecord.id > after))
        for record in found:
            row = _decide_again(draft, *record[1:])
            if row.changed or not changed_only:
                rows.append((record.id, row))
                if len(rows) > page_size:
                    break
        found.close()
        return _page(name, content_hash, version, None, None, rows, page_size, list_name, newest)
    newest = session.scalar(select(func.max(DecisionRecord.id))) or 0
    query = _decisions(session, name, last, _utc(since, "since"), _utc(until, "until"), newest=newest)
    total, changed, rows = _count(session, query), 0, []
    for record in _rows(session, query):
        row = _decide_again(draft, *record[1:])
        changed += row.changed
        if (row.changed or not changed_only) and len(rows) <= page_size:
            rows.append((record.id, row))
    return _page(name, content_hash, version, total, changed, rows, page_size, list_name, newest)


def _page(
    name: str,
    content_hash: str,
    version: str | None,
    total: int | None,
    changed: int | None,
    rows: list[tuple[int, WhatIfRow]],
    page_size: int,
    list_name: str,
    newest: int,
) -> WhatIfPage:
    """The page of at most `page_size` rows, with a cursor when a row beyond them was found."""
    following = encode(list_name, (rows[page_size - 1][0], newest)) if len(rows) > page_size else None
    return WhatIfPage(name, content_hash, version, total, changed, [row for _, row in rows[:page_size]], following)


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
    (all their decisions of this ruleset) and/or of the time range [since, until); every row at once.

    `progress(done, total)` is called every `BATCH` decisions.
    """
    draft = parse_named(text, name=name)
    query = _decisions(session, name, last, _utc(since, "since"), _utc(until, "until"))
    rows: list[WhatIfRow] = []
    keys = dict.fromkeys(draft.outcome)
    total = _count(session, query)
    for done, record in enumerate(_rows(session, query), 1):
        row = _decide_again(draft, *record[1:])
        rows.append(row)
        keys.update(dict.fromkeys(row.old_outcome))
        if progress is not None and (done % BATCH == 0 or done == total):
            progress(done, total)
    content_hash, version = _published(session, name, text)
    changed = sum(1 for row in rows if row.changed)
    return WhatIf(name, content_hash, version, len(rows), changed, rows, list(keys))


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
    """Every row of a what-if asked through the API (its CSV answer): for the rules' authors only."""
    authorize(user, Permission.WRITE_RULESETS)
    return what_if(session, name=name, text=text, last=last, since=since, until=until)


def _count(session: Session, query: Select[Any]) -> int:
    """How many decisions `query` reads; more than `MAX_DECISIONS` is refused."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if total > MAX_DECISIONS:
        raise Invalid(f"{total} decisions match; a what-if reads at most {MAX_DECISIONS}: narrow `last` or the range")
    return total


def _rows(session: Session, query: Select[Any]) -> Any:
    """The rows of `query`, fetched `BATCH` at a time."""
    return session.execute(query.execution_options(yield_per=BATCH))


def _utc(moment: datetime | None, field: str) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except OverflowError:
        raise Invalid("a time out of range", errors={field: ["not a time a decision can have"]}) from None


def _decisions(
    session: Session,
    name: str,
    last: int | None,
    since: datetime | None,
    until: datetime | None,
    *,
    newest: int | None = None,
) -> Select[Any]:
    """The decisions of a what-if in id order (each row's id first), none newer than `newest` when given.

    The last `last` tickets are those from the `last`-th newest ticket with such decisions on, found first: a range of
    ticket ids, which the planner reads as one whether or not it has statistics of the table."""
    conditions = [DecisionRecord.ruleset == name]
    if newest is not None:
        conditions.append(DecisionRecord.id <= newest)
    if since is not None:
        conditions.append(DecisionRecord.at >= since)
    if until is not None:
        conditions.append(DecisionRecord.at < until)
    if last is not None:
        oldest = session.scalar(
            select(DecisionRecord.ticket_id)
            .where(*conditions)
            .distinct()
            .order_by(DecisionRecord.ticket_id.desc())
            .offset(last - 1)
            .limit(1)
        )
        if oldest is not None:
            conditions.append(DecisionRecord.ticket_id >= oldest)
    return (
        select(
            DecisionRecord.id,
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
