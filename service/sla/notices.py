"""The e-mail of a fired SLA warning or breach: a job of the job queue (topic `mail.sla`), so that a mail server
that refuses it backs off, retries and ends as an incident like every job, instead of blocking the firing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.mail import OutgoingMail
from service.auth.models import Group, User
from service.sla.models import BREACH, DONE, SlaEvent

TOPIC = "mail.sla"
#: The groups told of every warning and breach, besides the team's queue.
MANAGERS = "managers"


def notice_job(event: SlaEvent, *, instance_id: int) -> dict[str, Any]:
    """The job row (for ``insert_rows``) that mails the fired `event`: one per event, by its task id."""
    return {
        "instance_id": instance_id,
        "ticket_id": event.ticket_id,
        "task_id": f"sla-{event.id}.{event.kind}",
        "element_id": f"sla_{event.kind}",
        "topic": TOPIC,
        "variables": {"event": event.id},
    }


def mail_sla(call: Any) -> dict[str, Any]:
    """Mail the event's warning or breach to the queue holding the ticket and the managers; the event is done."""
    session: Session = call.session
    event = session.get(SlaEvent, call.variables["event"])
    if event is None or event.status == DONE:
        return {}
    recipients = _recipients(session, event.detail.get("team"), event.detail.get("level"))
    if recipients:
        call.mailer.send(_message(call, event, recipients))
    event.status = DONE
    event.detail = {**event.detail, "recipients": list(recipients)}
    return {"recipients": len(recipients)}


def _recipients(session: Session, team: str | None, level: int | None) -> tuple[str, ...]:
    """The members of the queue holding the ticket (duty officers before routing) and the managers."""
    groups = [MANAGERS, f"{team}-L{level}" if team and level else "duty"]
    query = select(User.email).join(User.groups).where(Group.name.in_(groups), User.email != "")
    return tuple(sorted(set(session.scalars(query))))


def _message(call: Any, event: SlaEvent, recipients: tuple[str, ...]) -> OutgoingMail:
    ticket, detail = call.ticket, event.detail
    word = "SLA breach" if event.kind == BREACH else "SLA warning"
    hours = int(detail.get("target_seconds") or 0) / 3600
    body = (
        f"Ticket {ticket.number} ({ticket.client.code}, {detail.get('service_level')}, {detail.get('severity')}): "
        f"the {event.clock} clock {'passed its deadline' if event.kind == BREACH else 'is close to its deadline'}.\n"
        f"Target: {hours:g} working hours; deadline: {detail.get('deadline')}.\n"
        f"Held by: {detail.get('team') or 'duty officers'}"
        f"{'-L' + str(detail.get('level')) if detail.get('level') else ''}.\n"
        f"{ticket.summary}\n"
    )
    return OutgoingMail(
        to=recipients,
        subject=f"[{ticket.number}] {word}: {event.clock}",
        body=body,
        message_id=call.message_id,
        headers=call.mail_headers,
    )
