"""The API's side of processes beside the ticket flow: who starts them, and the instances to follow."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize, visible_tickets
from service.context import Context
from service.errors import Invalid, NotFound
from service.paging import Page, keyset_rows
from service.processes.models import ProcessDefinition, ProcessInstance
from service.processes.standalone import start_process
from service.tickets.models import Ticket


def start_by_request(
    session: Session, ctx: Context, *, user: Caller, key: str, variables: dict[str, Any], ticket: str | None
) -> dict[str, Any]:
    """Start the newest version of `key` as `user` (role `process_owner`), belonging to the ticket numbered
    `ticket` if given (one the caller sees, else 422); the instance as `get_instance` gives it."""
    authorize(user, Permission.START_PROCESSES)
    owner = None
    if ticket is not None:
        owner = session.scalar(visible_tickets(user).where(Ticket.number == ticket))
        if owner is None:
            raise Invalid("unknown ticket", errors={"ticket": [f"no ticket {ticket}"]})
    instance = start_process(session, ctx, actor=user.username, variables=variables, key=key, ticket=owner)
    return _one(session, instance.id)


def get_instance(session: Session, *, user: Caller, instance_id: int) -> dict[str, Any]:
    """One instance of any process: its process, version, state and ticket (404 when there is none)."""
    authorize(user, Permission.READ_PROCESSES)
    return _one(session, instance_id)


def list_instances(
    session: Session, *, user: Caller, key: str | None = None, cursor: str | None = None, page_size: int = 50
) -> Page[Any]:
    """A page of the instances of processes beside the ticket flow (of `key` if given), newest first."""
    authorize(user, Permission.READ_PROCESSES)
    query = _query().where(ProcessInstance.ticket_id.is_(None))
    if key is not None:
        query = query.where(ProcessDefinition.key == key)
    keys = (ProcessInstance.id,)
    return keyset_rows(
        session, query, list_name="process-instances", keys=keys, descending=True, cursor=cursor, page_size=page_size
    )


def _one(session: Session, instance_id: int) -> dict[str, Any]:
    row = session.execute(_query().where(ProcessInstance.id == instance_id)).first()
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    return row._asdict()


def _query() -> Select[Any]:
    owner = aliased(Ticket)
    flow = aliased(Ticket)
    return (
        select(
            ProcessInstance.id,
            ProcessDefinition.key,
            ProcessDefinition.version,
            ProcessInstance.completed,
            ProcessInstance.started_by,
            ProcessInstance.created_at,
            ProcessInstance.updated_at,
            flow.number.label("flow_ticket"),
            owner.number.label("owner_ticket"),
        )
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .outerjoin(flow, flow.id == ProcessInstance.ticket_id)
        .outerjoin(owner, owner.id == ProcessInstance.for_ticket_id)
    )
