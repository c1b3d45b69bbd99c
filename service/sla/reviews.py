"""Breach reviews: every breach opens one for the managers, who record why the deadline was missed.

A review is not a BPMN user task: it belongs to a breach, not to the ticket's flow; a ticket can have two (reaction
and resolution) and most are done after the ticket closed, when its instance has ended. So the SLA package keeps
them in their own table and serves them in the shape of a task (id, name `breach_review`, candidate group
`managers`, form), while the diagram can still react to the breach through the `sla_breach` message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from service.augmented import Augmented
from service.auth.models import Caller
from service.auth.permissions import Permission, allowed
from service.db import utcnow
from service.errors import Conflict, Forbidden, NotFound
from service.paging import Page, keyset_rows
from service.sla.models import BREACH_REASONS, BreachReview
from service.tickets.history import record
from service.tickets.models import Ticket

NAME = "breach_review"
GROUP = "managers"
OPEN, COMPLETED = "open", "completed"
FORM = [
    {
        "id": "reason",
        "label": "Why the deadline was missed",
        "type": "enum",
        "required": True,
        "readonly": False,
        "values": [{"id": reason, "label": reason.replace("_", " ").capitalize()} for reason in BREACH_REASONS],
        "default": None,
        "constraints": {"required": True},
    },
    {
        "id": "comment",
        "label": "What happened",
        "type": "string",
        "required": True,
        "readonly": False,
        "values": [],
        "default": None,
        "constraints": {"required": True},
    },
]


def may_review(user: Caller) -> bool:
    """Managers (and administrators) review breaches, and so does anyone in the `managers` queue."""
    return allowed(user, Permission.REVIEW_BREACHES) or GROUP in user.group_names


def _may_review(user: Caller) -> None:
    if not may_review(user):
        raise Forbidden("breach reviews are for the managers")


def list_reviews(
    session: Session, *, user: Caller, state: str | None = OPEN, cursor: str | None = None, page_size: int = 50
) -> Page[Augmented]:
    """A page of the breach reviews, oldest first (the open ones by default), by one query with the ticket's number.

    A review's creation time and id never change, so reviews opened or completed between two pages neither shift the
    others nor appear twice."""
    _may_review(user)
    query = (
        select(BreachReview, Ticket.number.label("ticket_number"), BreachReview.created_at, BreachReview.id)
        .join(Ticket, Ticket.id == BreachReview.ticket_id)
        .options(lazyload(BreachReview.ticket))
    )
    if state:
        query = query.where(BreachReview.state == state)
    page = keyset_rows(
        session,
        query,
        list_name="reviews",
        keys=(BreachReview.created_at, BreachReview.id),
        cursor=cursor,
        page_size=page_size,
    )
    return Page([Augmented(row["BreachReview"], ticket_number=row["ticket_number"]) for row in page.items], page.next)


def get_review(session: Session, *, user: Caller, review_id: int) -> BreachReview:
    """One breach review."""
    _may_review(user)
    review = session.get(BreachReview, review_id)
    if review is None:
        raise NotFound(f"no breach review {review_id}")
    return review


def claim_review(session: Session, *, user: Caller, review_id: int) -> BreachReview:
    """Take a review so that nobody else works on it (409 when someone else holds it or it is done)."""
    review = _open(session, user, review_id)
    if review.claimed_by is None:
        review.claimed_by = user.username
    return review


def complete_review(session: Session, *, user: Caller, review_id: int, data: dict[str, Any]) -> BreachReview:
    """Record the reason (one of BREACH_REASONS) and the comment of a breach; the schema has checked both."""
    review = _open(session, user, review_id)
    review.reason = data["reason"]
    review.comment = data["comment"]
    review.state = COMPLETED
    review.reviewed_by = user.username
    review.reviewed_at = utcnow()
    record(
        session,
        review.ticket,
        user.username,
        "breach_reviewed",
        clock=review.clock,
        reason=review.reason,
        comment=review.comment,
        review=review.id,
    )
    return review


def _open(session: Session, user: Caller, review_id: int) -> BreachReview:
    """The review, read afresh and locked until the transaction ends, still open and free for the user (409
    otherwise): of two managers claiming, or one claiming while another completes, one waits and sees the other's."""
    get_review(session, user=user, review_id=review_id)
    query = (
        select(BreachReview)
        .where(BreachReview.id == review_id)
        .with_for_update(of=BreachReview)  # SQLite: the transaction already holds the database's write lock
        .execution_options(populate_existing=True)
    )
    review = session.scalars(query).one()
    if review.state != OPEN:
        raise Conflict(f"the breach review is no longer open: it was {review.state}")
    if review.claimed_by not in (None, user.username):
        raise Conflict(f"the breach review is claimed by {review.claimed_by}")
    return review
