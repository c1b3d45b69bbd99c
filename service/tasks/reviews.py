"""Breach reviews in the task queues: managers see and work them through /tasks like any other task.

A review is kept by the SLA package (it belongs to a breach, not to the ticket's flow); here it gets the shape of a
task, with an id of its own kind (`breach-review-<n>`), so that one queue shows a manager everything to do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.augmented import Augmented
from service.auth.models import Caller
from service.errors import Forbidden, Invalid, NotFound
from service.sla import reviews
from service.sla.models import BREACH_REASONS, BreachReview
from service.tickets.models import Ticket

PREFIX = "breach-review-"


def review_id(task_id: str) -> int | None:
    """The review a task id names, or None for a task of a process."""
    if not task_id.startswith(PREFIX) or not task_id[len(PREFIX) :].isdigit():
        return None
    return int(task_id[len(PREFIX) :])


def _as_task(review: BreachReview) -> Augmented:
    return Augmented(
        review,
        id=f"{PREFIX}{review.id}",
        name=reviews.NAME,
        title=f"Why was the {review.clock} deadline of {review.ticket.number} missed?",
        candidate_groups=[reviews.GROUP],
        assignee=None,
        priority=None,
        due_at=None,
        ticket_number=review.ticket.number,
        form=reviews.FORM,
    )


def get(session: Session, *, user: Caller, task_id: str, number: int) -> Augmented:
    """One review as a task (404 for those who may not review, as for a task of another queue)."""
    try:
        return _as_task(reviews.get_review(session, user=user, review_id=number))
    except (Forbidden, NotFound):
        raise NotFound(f"no task {task_id}") from None


def claim(session: Session, *, user: Caller, task_id: str, number: int) -> Augmented:
    """Take a review."""
    get(session, user=user, task_id=task_id, number=number)
    return _as_task(reviews.claim_review(session, user=user, review_id=number))


def complete(session: Session, *, user: Caller, task_id: str, number: int, data: dict[str, Any]) -> Ticket:
    """Record why the deadline was missed; the form's rules are the review's (`reason`, `comment`, both required)."""
    get(session, user=user, task_id=task_id, number=number)
    errors: dict[str, list[str]] = {}
    if data.get("reason") not in BREACH_REASONS:
        errors["reason"] = [f"one of: {', '.join(BREACH_REASONS)}"]
    if not isinstance(data.get("comment"), str) or not data["comment"].strip():
        errors["comment"] = ["a comment is required"]
    for field in sorted(set(data) - {"reason", "comment"}):
        errors[field] = ["not a field of this form"]
    if errors:
        raise Invalid("the form is not satisfied", errors=errors)
    review = reviews.complete_review(session, user=user, review_id=number, data=data)
    return review.ticket
