"""Words for the codes the pages show (severity, SLA clocks and their states, task states, history kinds), in the
person's language; a code without a word is shown as it is. The shipped diagram's own English texts (task names,
the options of its forms) are translated too: a text the catalogue knows, as the diagram writes it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

WORDS = {
    "severity": {"critical": _l("critical"), "high": _l("high"), "normal": _l("normal"), "low": _l("low")},
    "clock": {"reaction": _l("Reaction"), "resolution": _l("Resolution")},
    "clock_state": {
        "running": _l("running"),
        "paused": _l("paused"),
        "met": _l("met"),
        "breached": _l("breached"),
        "cancelled": _l("cancelled"),
    },
    "ticket_status": {
        "new": _l("new"),
        "clarifying": _l("clarifying"),
        "estimating": _l("estimating"),
        "awaiting_payment": _l("awaiting payment"),
        "in_progress": _l("in progress"),
        "ordering_parts": _l("ordering parts"),
        "waiting_parts": _l("waiting for parts"),
        "onsite": _l("on site"),
        "manager_review": _l("manager review"),
        "closed": _l("closed"),
        "declined": _l("declined"),
        "incident": _l("stopped by a failure"),
    },
    "task_state": {"open": _l("open"), "completed": _l("completed"), "cancelled": _l("cancelled")},
    "category": {
        "hardware": _l("hardware"),
        "software": _l("software"),
        "configuration": _l("configuration"),
        "maintenance": _l("planned maintenance"),
    },
    "channel": {
        "portal": _l("portal"),
        "email": _l("e-mail"),
        "mobile": _l("mobile app"),
        "phone": _l("phone"),
        "api": _l("API"),
        "planned": _l("planned"),
    },
    #: Every kind of event the service writes into a ticket's history (a test reads the code for them).
    "history": {
        "ticket_opened": _l("Ticket opened"),
        "ticket_imported": _l("Ticket imported"),
        "status_changed": _l("Status changed"),
        "decision": _l("Decision taken"),
        "task_claimed": _l("Task taken"),
        "task_released": _l("Task given back to its queue"),
        "task_reassigned": _l("Task moved to another queue"),
        "task_completed": _l("Task completed"),
        "one_off_contract": _l("One-off contract made"),
        "message_received": _l("Message received"),
        "timer_fired": _l("Timer fired"),
        "job_done": _l("Step done"),
        "job_skipped": _l("Step skipped"),
        "bpmn_error": _l("Business error in a step"),
        "mail_withheld": _l("Mail withheld"),
        "incident": _l("Incident"),
        "incident_retried": _l("Step retried after an incident"),
        "incident_retry_failed": _l("Retry after an incident failed"),
        "incident_resolved": _l("Incident resolved"),
        "instance_modified": _l("Process moved to another step"),
        "variables_changed": _l("Process variables changed"),
        "process_migrated": _l("Process moved to another version"),
        "contact_confirmed": _l("Contact confirmed"),
        "contact_unconfirmed": _l("Contact not confirmed"),
        "contact_merged": _l("Contact merged into another"),
        "file_uploaded": _l("File uploaded"),
        "checked_in": _l("Checked in on site"),
        "checked_out": _l("Checked out of the site"),
        "sla_warning": _l("SLA warning"),
        "sla_breach": _l("SLA breached"),
        "breach_reviewed": _l("SLA breach reviewed"),
    },
}
#: The shipped diagram's (`processes/ticket.bpmn`) task names and form options, by the English text it writes; a
#: diagram that writes other texts shows them as written.
DIAGRAM_TEXTS = {
    "Clarify ticket details": _l("Clarify ticket details"),
    "Price diagnostics and repair": _l("Price diagnostics and repair"),
    "Record acceptance and payment": _l("Record acceptance and payment"),
    "Resolve the ticket": _l("Resolve the ticket"),
    "Order parts": _l("Order parts"),
    "Repair on site": _l("Repair on site"),
    "Manager review": _l("Manager review"),
    "Critical": _l("Critical"),
    "High": _l("High"),
    "Normal": _l("Normal"),
    "Low": _l("Low"),
    "Hardware": _l("Hardware"),
    "Software": _l("Software"),
    "Configuration": _l("Configuration"),
    "Solved": _l("Solved"),
    "Parts needed": _l("Parts needed"),
    "Escalate": _l("Escalate"),
    "Warehouse": _l("Warehouse"),
    "Logistics": _l("Logistics"),
    "Close the ticket": _l("Close the ticket"),
    "Continue in a new circle": _l("Continue in a new circle"),
}


def word(kind: str, code: str | None) -> str:
    """The word for `code` among the codes of `kind`, or the code itself."""
    if code is None:
        return "—"
    return str(WORDS.get(kind, {}).get(code, code))


def diagram_word(text: str | None) -> str:
    """A text of the diagram (a task's name, a form option) in the person's language when the catalogue knows it."""
    if text is None:
        return "—"
    return str(DIAGRAM_TEXTS.get(text, text))
