"""Words for the codes the pages show (severity, SLA clocks and their states, task states), in the person's
language; a code without a word is shown as it is."""

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
    },
    "task_state": {"open": _l("open"), "completed": _l("completed"), "cancelled": _l("cancelled")},
    "category": {"hardware": _l("hardware"), "software": _l("software"), "configuration": _l("configuration")},
    "channel": {
        "portal": _l("portal"),
        "email": _l("e-mail"),
        "mobile": _l("mobile app"),
        "phone": _l("phone"),
        "api": _l("API"),
    },
}


def word(kind: str, code: str | None) -> str:
    """The word for `code` among the codes of `kind`, or the code itself."""
    if code is None:
        return "—"
    return str(WORDS.get(kind, {}).get(code, code))
