"""Tickets, tasks and the work on them: messages, incidents, files, site visits, outside workers, saved filters."""

from __future__ import annotations

from tests.integration.permissions.cases import (
    ADMINS,
    BOOKERS,
    EVERYONE,
    EXTERNAL_WORKER,
    FETCH_EXTERNAL,
    INCIDENTS,
    OPENERS,
    REASSIGNERS,
    SEE_T,
    VISITORS,
    WORK_T,
    Case,
)

CASES = [
    Case("GET", "/health", "/health", EVERYONE),
    Case("GET", "/tickets", "/tickets", EVERYONE),
    Case(
        "POST",
        "/tickets",
        "/tickets",
        OPENERS,
        body={"client": "{own_client}", "contact_email": "{own_contact}", "channel": "api", "summary": "matrix"},
    ),
    Case("GET", "/tickets/<number>", "/tickets/{ticket}", SEE_T, EVERYONE - SEE_T),
    Case("GET", "/tickets/<number>/history", "/tickets/{ticket}/history", SEE_T, EVERYONE - SEE_T),
    Case(
        "POST", "/tickets/<number>/contact/confirm", "/tickets/{ticket}/contact/confirm", {"admin", "manager", "duty"}
    ),
    Case("GET", "/tasks", "/tasks", EVERYONE),
    Case("GET", "/tasks/<task_id>", "/tasks/{task}", WORK_T, EVERYONE - WORK_T),
    Case("POST", "/tasks/<task_id>/claim", "/tasks/{claim_task}/claim", WORK_T, EVERYONE - WORK_T),
    Case("POST", "/tasks/<task_id>/release", "/tasks/{task}/release", WORK_T, EVERYONE - WORK_T),
    Case(
        "POST",
        "/tasks/<task_id>/complete",
        "/tasks/{complete_task}/complete",
        WORK_T,
        EVERYONE - WORK_T,
        body={"data": {"outcome": "solved"}},
    ),
    Case("POST", "/tasks/<task_id>/assign", "/tasks/{assign_task}/assign", REASSIGNERS, body={"group": "storage-L2"}),
    Case(
        "POST",
        "/messages",
        "/messages",
        {"admin", "rmc"},
        body={"name": "parts_delivered", "ticket": "{parts_ticket}", "data": {"delivery_note": "DN-1"}},
    ),
    Case("GET", "/incidents", "/incidents", INCIDENTS),
    Case("POST", "/incidents/<int:incident_id>/retry", "/incidents/{incident}/retry", INCIDENTS),
    Case("GET", "/tickets/<number>/files", "/tickets/{ticket}/files", SEE_T, EVERYONE - SEE_T),
    Case("POST", "/tickets/<number>/files", "/tickets/{ticket}/files", SEE_T, EVERYONE - SEE_T, raw="photo"),
    Case("GET", "/tickets/<number>/files/<name>", "/tickets/{ticket}/files/matrix.txt", SEE_T, EVERYONE - SEE_T),
    Case("POST", "/tasks/<task_id>/check-in", "/tasks/{check_in_task}/check-in", VISITORS, BOOKERS - VISITORS, {}),
    Case("POST", "/tasks/<task_id>/check-out", "/tasks/{check_out_task}/check-out", VISITORS, BOOKERS - VISITORS, {}),
    # No demo user is an outside worker: only the administrator, who serves every topic, gets through.
    Case("POST", "/external-tasks/fetch-and-lock", "/external-tasks/fetch-and-lock", ADMINS, body=FETCH_EXTERNAL),
    Case(
        "POST",
        "/external-tasks/<int:task_id>/complete",
        "/external-tasks/{external_complete}/complete",
        ADMINS,
        body=EXTERNAL_WORKER,
    ),
    Case(
        "POST",
        "/external-tasks/<int:task_id>/failure",
        "/external-tasks/{external_failure}/failure",
        ADMINS,
        body={**EXTERNAL_WORKER, "retries": 1},
    ),
    Case(
        "POST",
        "/external-tasks/<int:task_id>/bpmn-error",
        "/external-tasks/{external_bpmn_error}/bpmn-error",
        ADMINS,
        body={**EXTERNAL_WORKER, "errorCode": "MATRIX"},
    ),
    Case(
        "POST",
        "/external-tasks/<int:task_id>/extend-lock",
        "/external-tasks/{external_extend_lock}/extend-lock",
        ADMINS,
        body={**EXTERNAL_WORKER, "newDuration": 60000},
    ),
    Case("GET", "/me/filters", "/me/filters", EVERYONE),
    Case("POST", "/me/filters", "/me/filters", EVERYONE, body={"name": "matrix", "query": "sort=sla"}),
    Case("DELETE", "/me/filters/<int:filter_id>", "/me/filters/{own_filter}", EVERYONE),
]
