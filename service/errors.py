"""Errors the services raise; the API turns them into application/problem+json answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import StatementError


class ServiceError(Exception):
    """A refusal the caller can act on; `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = {key: value for key, value in extra.items() if value is not None}


class NotFound(ServiceError):
    """The thing does not exist, or the caller may not see it (the two look the same)."""

    status = 404
    title = "Not found"


class Forbidden(ServiceError):
    """The caller is known but lacks the role for this."""

    status = 403
    title = "Forbidden"


class Unauthorized(ServiceError):
    """No valid bearer token."""

    status = 401
    title = "Unauthorized"


class TooManyRequests(ServiceError):
    """Too many failed attempts: the caller must wait `retry_after` seconds (sent as Retry-After)."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


class Conflict(ServiceError):
    """The state changed under the caller: the task was taken or completed, the instance moved on."""

    status = 409
    title = "Conflict"


class PreconditionFailed(ServiceError):
    """The caller's `If-Match` names a version of the record that is no longer the current one."""

    status = 412
    title = "Precondition failed"


class PreconditionRequired(ServiceError):
    """A change of a record needs the `If-Match` of the version the caller read."""

    status = 428
    title = "Precondition required"


class TooLarge(ServiceError):
    """The content is larger than the service accepts (an uploaded file past its cap)."""

    status = 413
    title = "Content too large"


class Invalid(ServiceError):
    """The input is well-formed but not acceptable; `errors` maps each field to its messages."""

    status = 422
    title = "Unprocessable entity"

    def __init__(self, detail: str, errors: dict[str, Any] | None = None, **extra: Any) -> None:
        super().__init__(detail, errors=errors, **extra)


class ProcessFailed(ServiceError):
    """The engine failed inside a diagram (a script, an expression, a gateway, a decision, a budget); the step's own
    changes were not saved, and the process stands stopped at `element` until a person resolves the incident.

    ``ticket_id`` and ``actor`` say whose step failed, ``action`` and ``action_data`` what it was doing (so that a
    retry can do it again), ``incident_id`` the incident being retried, if any: whoever ends the transaction records
    the incident (``service.incidents.records``). ``database`` marks a failure caused by a database error.
    """

    status = 409
    title = "Process failed"
    ticket_id: int | None = None
    actor: str | None = None
    action: str | None = None
    action_data: dict[str, Any] | None = None
    incident_id: int | None = None
    #: The instance of a process beside the ticket flow that failed (it has no ticket to stop).
    instance_id: int | None = None
    database: bool = False


def from_the_database(error: BaseException) -> bool:
    """True when a database error (its text carries the SQL and its parameters) is in the chain of `error`'s causes."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, StatementError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
