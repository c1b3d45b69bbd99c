"""Process owners and analysts: diagrams, migrations, instance variables and modification, rule sets."""

from __future__ import annotations

from tests.integration.permissions.cases import (
    OWNERS,
    PROCESS_READERS,
    RULE_READERS,
    RULE_WRITERS,
    Case,
)

CASES = [
    Case("GET", "/process-definitions", "/process-definitions", PROCESS_READERS),
    Case("POST", "/process-definitions", "/process-definitions?filename=ticket.bpmn", OWNERS, raw="diagram"),
    Case("GET", "/process-definitions/<key>/versions", "/process-definitions/ticket/versions", PROCESS_READERS),
    Case(
        "GET",
        "/process-definitions/<key>/versions/<int:version>/xml",
        "/process-definitions/ticket/versions/1/xml",
        PROCESS_READERS,
    ),
    Case(
        "POST", "/process-definitions/<key>/start", "/process-definitions/preventive-maintenance/start", OWNERS, body={}
    ),
    Case("GET", "/process-instances", "/process-instances", PROCESS_READERS),
    Case("GET", "/process-instances/<int:instance_id>", "/process-instances/1", PROCESS_READERS),
    Case(
        "POST",
        "/migrations",
        "/migrations",
        OWNERS,
        body={"target": {"key": "ticket", "version": 1}, "tickets": ["{ticket}"], "dry_run": True},
    ),
    Case(
        "PATCH",
        "/tickets/<number>/variables",
        "/tickets/{ticket}/variables",
        OWNERS,
        body={"variables": {"matrix_note": "checked"}},
    ),
    Case(
        "POST",
        "/tickets/<number>/modification",
        "/tickets/{moved_ticket}/modification",
        OWNERS,
        body={"cancel": ["resolve"], "start_before": "resolve"},
    ),
    Case("GET", "/rulesets", "/rulesets", RULE_READERS),
    Case("GET", "/rulesets/<name>", "/rulesets/routing", RULE_READERS),
    Case("PUT", "/rulesets/<name>", "/rulesets/routing", RULE_WRITERS, raw="routing"),
    Case("GET", "/rulesets/<name>/versions", "/rulesets/routing/versions", RULE_READERS),
    Case(
        "POST",
        "/rulesets/<name>/versions/<int:version>/activate",
        "/rulesets/routing/versions/1/activate",
        RULE_WRITERS,
    ),
    Case(
        "POST",
        "/rulesets/<name>/evaluate",
        "/rulesets/routing/evaluate",
        RULE_WRITERS,
        body={"facts": {"equipment_class": "storage", "category": "hardware", "severity": "high"}},
    ),
    Case(
        "POST",
        "/rulesets/<name>/what-if",
        "/rulesets/routing/what-if",
        RULE_WRITERS,
        body={"yaml": "{routing}", "last": 5},
    ),
]
