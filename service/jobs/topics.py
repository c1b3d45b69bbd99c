"""What each external topic does: the side effect, through an adapter, and the variables it gives back."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.files import FileStore
from adapters.mail import Mailer, MailError, OutgoingMail
from service.auth.models import Group, User
from service.sla import notices
from service.tickets.history import record
from service.tickets.models import Ticket

#: The BPMN error code a mail topic throws when the client's mail server refuses the address for good (SMTP 5xx).
MAIL_REFUSED = "mail_refused"


class BpmnError(Exception):
    """The work cannot be done, for a reason the diagram may handle: an error boundary event of `code` on the
    service task (or a sub-process around it) takes over, `variables` merging into the process variables. With no
    such event the ticket stops with an incident naming the code."""

    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None) -> None:
        super().__init__(f"BPMN error {code!r}: {message}" if message else f"BPMN error {code!r}")
        self.code = code
        self.message = message
        self.variables = dict(variables or {})


@dataclass(frozen=True)
class TopicCall:
    """Everything a topic handler may use."""

    session: Session
    ticket: Ticket
    variables: dict[str, Any]
    file_store: FileStore
    mailer: Mailer
    message_id: str
    #: The id of the request that led to the job; sent as the mail's X-Request-ID header.
    request_id: str | None = None

    @property
    def mail_headers(self) -> dict[str, str]:
        """The headers every mail of the job carries besides the mailer's own."""
        return {"X-Request-ID": self.request_id} if self.request_id else {}


Handler = Callable[[TopicCall], dict[str, Any]]


def create_folder(call: TopicCall) -> dict[str, Any]:
    """The ticket's folder in the file store, named by the ticket number."""
    url = call.file_store.create_folder(call.ticket.number or "")
    call.ticket.folder_url = url
    return {"folder_url": url}


def _to_client(call: TopicCall, subject: str, body: str) -> dict[str, Any]:
    """Mail the ticket's contact, only once a person confirmed that address.

    Anyone who opens a ticket may name any address as its contact: mailing an unconfirmed one would let a caller
    make the service write to strangers. Such a mail is withheld (the history says so) and the flow goes on; the
    mails after a duty officer confirms the contact reach it.
    """
    ticket = call.ticket
    if not ticket.contact.confirmed:
        record(call.session, ticket, "worker", "mail_withheld", subject=subject, reason="contact_unconfirmed")
        return {}
    try:
        call.mailer.send(
            OutgoingMail(
                to=(ticket.contact.email,),
                subject=f"[{ticket.number}] {subject}",
                body=body,
                message_id=call.message_id,
                headers=call.mail_headers,
            )
        )
    except MailError as error:
        if error.transient or not isinstance(error.__cause__, smtplib.SMTPRecipientsRefused):
            raise  # a retry may help, or a person must fix the settings
        replies = "; ".join(
            f"{code} {reply.decode(errors='replace')}" for code, reply in error.__cause__.recipients.values()
        )
        raise BpmnError(MAIL_REFUSED, f"the mail server refused {ticket.contact.email}: {replies}") from error
    return {}


def _folder_line(call: TopicCall) -> str:
    url = call.ticket.folder_url or call.variables.get("folder_url")
    return f"Files and diagnostic data: {url}\n" if url else ""


def ticket_opened(call: TopicCall) -> dict[str, Any]:
    """Tell the client the ticket is open, with its number and the folder link."""
    ticket = call.ticket
    body = (
        f"Your ticket {ticket.number} is open: {ticket.summary}\n\n"
        f"{_folder_line(call)}"
        "Upload diagnostic data to the folder; reply to this e-mail to add details.\n"
    )
    return _to_client(call, f"Ticket opened: {ticket.summary}", body)


def notify_duty_officers(call: TopicCall) -> dict[str, Any]:
    """Tell every duty officer a new ticket needs clarifying."""
    ticket = call.ticket
    query = select(User.email).join(User.groups).where(Group.name == "duty", User.email != "")
    recipients = tuple(sorted(set(call.session.scalars(query))))
    if recipients:
        call.mailer.send(
            OutgoingMail(
                to=recipients,
                subject=f"[{ticket.number}] New ticket from {ticket.client.code}: {ticket.summary}",
                body=f"Ticket {ticket.number} ({ticket.channel}) waits to be clarified.\n{_folder_line(call)}",
                message_id=call.message_id,
                headers=call.mail_headers,
            )
        )
    return {}


def _money(value: Any) -> str:
    return f"{float(value):,.2f}" if value not in (None, "") else "-"


def estimate(call: TopicCall) -> dict[str, Any]:
    """Send the client the consultant's estimate of per-call work."""
    v = call.variables
    body = (
        "There is no contract covering this request, so it is priced per call:\n"
        f"  diagnostics: {_money(v.get('diagnostics_cost'))}\n"
        f"  repair:      {_money(v.get('repair_cost'))}\n"
        f"  parts:       {_money(v.get('parts_cost'))}\n"
        f"{v.get('notes') or ''}\n"
        "Reply to accept; work starts once payment is settled.\n"
    )
    return _to_client(call, "Estimate for your request", body)


def ticket_declined(call: TopicCall) -> dict[str, Any]:
    """Tell the client the ticket is closed as declined."""
    return _to_client(call, "Ticket declined", "The estimate was not accepted, so the ticket is closed.\n")


def ticket_closed(call: TopicCall) -> dict[str, Any]:
    """Tell the client the ticket is solved and closed."""
    notes = call.variables.get("notes") or ""
    return _to_client(call, "Ticket closed", f"Your ticket {call.ticket.number} is solved and closed.\n{notes}\n")


TOPICS: dict[str, Handler] = {
    "files.create_folder": create_folder,
    "mail.ticket_opened": ticket_opened,
    "notify.duty_officers": notify_duty_officers,
    "mail.estimate": estimate,
    "mail.ticket_declined": ticket_declined,
    "mail.ticket_closed": ticket_closed,
    notices.TOPIC: notices.mail_sla,
}

#: Topics whose effect needs no ticket, for processes beside the ticket flow: their handlers are looked up when a job
#: runs (`service.jobs.process_topics`), since they open tickets themselves.
PROCESS_TOPICS = frozenset({"maintenance.open_due"})

#: Topics of jobs the service makes itself, not an external task of the diagram: done, they complete no task.
NOTICES = frozenset({notices.TOPIC})


@dataclass(frozen=True)
class ServedTopics(Container[str]):
    """The topics a diagram may call: those of the service's adapters, and those configuration leaves to outside
    workers (`ORCHESTRATOR_EXTERNAL_TOPICS`)."""

    external: frozenset[str]

    @classmethod
    def of(cls, setting: str) -> ServedTopics:
        """From the setting: topic names separated by commas, `*` for any topic."""
        return cls(frozenset(name.strip() for name in setting.split(",") if name.strip()))

    def __contains__(self, topic: object) -> bool:
        served = (topic in TOPICS and topic not in NOTICES) or topic in PROCESS_TOPICS
        return served or "*" in self.external or topic in self.external


#: Topics whose effect may run again without harm, so the worker may run them in a chain (`service.jobs.services`):
#: right after the step that made them ready, in that step's transaction, with no job row of their own until the
#: chain is saved. A kill between two effects of a chain rolls back everything after the chain's first job, whose
#: effect was recorded on its own (`effect_done`), so the effects of the later ones run again on the retry:
#: - `files.create_folder`: creating a folder that exists is a no-op (`FileStore.create_folder`);
#: - `mail.ticket_opened`, `notify.duty_officers`: their Message-ID is the instance's and the element's
#:   (`stable_message_id`), so a resend is the same message, which mail clients and archives show once. Each is an
#:   element that an instance passes once (intake), so no two different mails share that id.
#: The other mails (estimate, declined, closed) can be sent more than once per instance and stay jobs of their own,
#: with a Message-ID per job and `effect_done` guarding the resend.
CHAINABLE: frozenset[str] = frozenset({"files.create_folder", "mail.ticket_opened", "notify.duty_officers"})


def stable_message_id(*, instance_id: int, element_id: str, domain: str) -> str:
    """The Message-ID of a chainable topic's mail: the same for every run of the effect of one element."""
    return f"instance-{instance_id}.{element_id}@{domain}"
