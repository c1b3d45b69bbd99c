"""SLA: calendars, service levels, clocks, time entries, breach reviews and reports."""

from __future__ import annotations

from tests.integration.permissions.cases import (
    ADMINS,
    BOOKERS,
    CLIENT_REPORTS,
    EVERYONE,
    SEE_T,
    SLA_READERS,
    Case,
)

CASES = [
    Case("GET", "/sla/calendars", "/sla/calendars", SLA_READERS),
    Case("POST", "/sla/calendars", "/sla/calendars", ADMINS, body="{new_calendar}"),
    Case("GET", "/sla/calendars/<name>", "/sla/calendars/moscow-business", SLA_READERS),
    Case("PUT", "/sla/calendars/<name>", "/sla/calendars/matrix-office", ADMINS, body="{calendar}"),
    Case("GET", "/sla/calendars/<name>/years/<int:year>", "/sla/calendars/moscow-business/years/2026", SLA_READERS),
    Case("GET", "/sla/service-levels", "/sla/service-levels", SLA_READERS),
    Case("POST", "/sla/service-levels", "/sla/service-levels", ADMINS, body="{new_level}"),
    Case("GET", "/sla/service-levels/<name>", "/sla/service-levels/silver", SLA_READERS),
    Case("PUT", "/sla/service-levels/<name>", "/sla/service-levels/silver", ADMINS, body="{level}"),
    Case("POST", "/sla/recompute", "/sla/recompute", ADMINS),
    Case("GET", "/sla/tickets/<number>", "/sla/tickets/{ticket}", SEE_T, EVERYONE - SEE_T),
    Case("GET", "/sla/time-entries", "/sla/time-entries", BOOKERS),
    Case(
        "POST",
        "/sla/time-entries",
        "/sla/time-entries",
        BOOKERS - {"servers.l1"},
        {"servers.l1"},  # an engineer books time only on a ticket they see
        body={"ticket": "{ticket}", "day": "2026-03-02", "hours": 1, "kind": "remote"},
    ),
    Case("GET", "/sla/reviews", "/sla/reviews", SLA_READERS),
    Case("GET", "/sla/reviews/<int:review_id>", "/sla/reviews/{review}", SLA_READERS),
    Case("POST", "/sla/reviews/<int:review_id>/claim", "/sla/reviews/{claim_review}/claim", SLA_READERS),
    Case(
        "POST",
        "/sla/reviews/<int:review_id>/complete",
        "/sla/reviews/{complete_review}/complete",
        SLA_READERS,
        body={"data": {"reason": "capacity", "comment": "matrix"}},
    ),
    Case("GET", "/reports/sla", "/reports/sla", CLIENT_REPORTS),
    Case("GET", "/reports/breaches", "/reports/breaches", CLIENT_REPORTS),
    Case("GET", "/reports/labour", "/reports/labour", SLA_READERS),
    Case("GET", "/reports/utilisation", "/reports/utilisation", SLA_READERS),
    Case("GET", "/reports/open-tickets", "/reports/open-tickets", SLA_READERS),
]
