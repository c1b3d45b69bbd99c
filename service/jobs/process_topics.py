"""The effects of the topics that need no ticket (`PROCESS_TOPICS`), for processes beside the ticket flow."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.context import Context
from service.contracts.maintenance import open_due_maintenance
from service.db import utcnow


def run_process_topic(session: Session, ctx: Context, topic: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Do the effect of `topic` in the job's transaction and return the variables it gives back."""
    if topic == "maintenance.open_due":
        done = open_due_maintenance(session, ctx, today=utcnow().date())
        return {"opened": list(done.opened), "contracts_due": done.contracts}
    raise LookupError(f"no effect for the topic {topic!r}")
