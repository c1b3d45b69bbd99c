"""The ticket card of the task page: what the person working the task needs to see of its ticket.

Every section comes from the service functions the API's views use (`ticket_details` of `GET /tickets/{number}`,
`ticket_history` of its history route, `files.list_files` of its files route), one query a section at most: the
decisions and the one-off contract come with the details, the contract is the one the entitlement decision saw
(its facts), the history is one page newest first, the files are the folder's listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.files import FileStore
from service.auth.models import Caller
from service.db import utcnow
from service.errors import Invalid
from service.paging import Page
from service.sla.labour import on_site
from service.sla.models import SlaClock
from service.tasks import services
from service.tasks.models import UserTask
from service.tickets import files
from service.tickets import services as tickets

#: Events of the history shown on the card; "more" pages on from the last one.
HISTORY_PAGE = 20
#: Words for the keys and values of a decision's outcome (a key or value without one is shown as it is).
OUTCOME_WORDS = {
    "route": _l("route"),
    "reason": _l("reason"),
    "contract": _l("contract"),
    "team": _l("team"),
    "level": _l("level"),
    "per_call": _l("per call"),
}


@dataclass(frozen=True)
class Clock:
    """One SLA clock of the ticket."""

    kind: str
    state: str
    due_at: datetime | None
    seconds_left: int | None


@dataclass(frozen=True)
class ContractSeen:
    """The service contract the entitlement decision found for the ticket."""

    number: str
    service_level: str


@dataclass(frozen=True)
class Card:
    """The ticket as the task page shows it."""

    ticket: Any
    site: Any
    clocks: list[Clock]
    contract: ContractSeen | None = None
    one_off_contract: str | None = None
    decisions: tuple[Any, ...] = ()
    history: Page[Any] | None = None
    files: tuple[files.TicketFile, ...] = ()
    #: On an on-site task its own section lists the folder's files (with the upload form): the card does not.
    files_on_site: bool = False


def ticket_card(
    session: Session,
    task: Any,
    *,
    user: Caller | None = None,
    store: FileStore | None = None,
    cursor: str | None = None,
) -> Card:
    """The task's ticket, the site of its equipment and its SLA clocks with the time left; for a person (`user`)
    also its contract, decisions, a page of its history from `cursor` and the files of its folder in `store`."""
    ticket = task.ticket
    now = utcnow()
    rows = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.id))
    clocks = [
        Clock(
            kind=row.kind,
            state=row.state,
            due_at=row.due_at,
            seconds_left=int((row.due_at - now).total_seconds()) if row.due_at is not None else None,
        )
        for row in rows
    ]
    site = services.task_site(task) if hasattr(task, "ticket_id") else None
    if user is None:
        return Card(ticket=ticket, site=site, clocks=clocks)
    details = tickets.ticket_details(session, ticket)
    files_on_site = isinstance(task, UserTask) and on_site(task)
    listed = [] if files_on_site or store is None else files.list_files(session, store, user=user, number=ticket.number)
    return Card(
        ticket=ticket,
        site=site,
        clocks=clocks,
        contract=contract_seen(details.decisions) if ticket.route != "per_call" else None,
        one_off_contract=details.one_off_contract,
        decisions=tuple(details.decisions),
        history=_history(session, user, ticket, cursor),
        files=tuple(listed),
        files_on_site=files_on_site,
    )


def _history(session: Session, user: Caller, ticket: Any, cursor: str | None) -> Page[Any]:
    """A page of the ticket's events, newest first; a cursor that is not one reads the first page."""
    try:
        return tickets.ticket_history(
            session, user=user, ticket=ticket, cursor=cursor, page_size=HISTORY_PAGE, newest_first=True
        )
    except Invalid:
        return tickets.ticket_history(session, user=user, ticket=ticket, page_size=HISTORY_PAGE, newest_first=True)


def contract_seen(decisions: list[Any]) -> ContractSeen | None:
    """The contract in the facts of the latest decision that saw one (the entitlement's), or None."""
    for decision in reversed(decisions):
        facts = decision.facts or {}
        if facts.get("contract_number"):
            return ContractSeen(str(facts["contract_number"]), str(facts.get("service_level") or ""))
    return None


def outcome_text(outcome: dict[str, Any]) -> str:
    """A decision's outcome in words: `route: per call; reason: contract expired`."""
    return "; ".join(f"{_outcome_word(key)}: {_outcome_word(value)}" for key, value in (outcome or {}).items())


def _outcome_word(code: Any) -> str:
    if code == "" or code is None:
        return "—"
    return str(OUTCOME_WORDS.get(code, code)) if isinstance(code, str) else str(code)
