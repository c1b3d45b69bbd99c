"""Every route x every role of the demo, on objects of one team and one client: who gets 2xx, 403 and 404.

The routes come from the app itself, so a new route without a row in `MATRIX` fails `test_every_route_has_a_row`.
The objects: ticket T of NORD-BANK held by the storage team (its task in the `storage-L1` queue). An engineer of
the servers team and the client user of MEGA-RETAIL are the "other team" and "other company": they get 404 for
T and its task, exactly as for something that does not exist. A request that changes something runs, for a role
that may make it, on an object of its own (a task to claim, a ticket waiting for parts...), so the cases do not
depend on each other's order; refusals change nothing and share T.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.app import create_app
from service.auth.models import User
from service.context import Context
from service.db import transaction, utcnow
from service.demo import load_demo
from service.deploy import deploy_all
from service.jobs.models import PENDING, RUNNING, Job
from service.sla.firing import run_due_event
from service.sla.levels import forget_service_levels
from service.sla.models import BreachReview
from service.worker import drain
from tests.conftest import ROOT, _empty
from tests.integration.conftest import Api
from tests.integration.test_docs import _json_after
from tests.support.incidents import fail_job

ROLES = (
    "duty", "storage.l1", "servers.l1", "rmc", "consultant", "manager", "admin",
    "nordbank", "megaretail", "owner", "analyst", "intake",
)  # fmt: skip
EVERYONE = frozenset(ROLES)
SEE_T = frozenset({"admin", "manager", "duty", "consultant", "rmc", "storage.l1", "nordbank"})
WORK_T = frozenset({"admin", "manager", "storage.l1"})
PROCESS_READERS = frozenset({"admin", "owner", "analyst", "manager"})
RULE_READERS = frozenset({"admin", "analyst", "owner", "manager"})
RULE_WRITERS = frozenset({"admin", "analyst"})
OWNERS = frozenset({"admin", "owner"})
SLA_READERS = frozenset({"admin", "manager"})
ADMINS = frozenset({"admin"})
INCIDENTS = frozenset({"admin", "manager", "duty", "owner"})
BOOKERS = frozenset({"admin", "manager", "storage.l1", "servers.l1"})
CLIENT_REPORTS = frozenset({"admin", "manager", "nordbank", "megaretail"})
OPENERS = frozenset({"admin", "manager", "duty", "nordbank", "megaretail", "intake"})
DIRECTORY_READERS = frozenset({"admin", "manager", "duty", "consultant"})
CONTRACT_READERS = frozenset({"admin", "manager", "consultant"})
CLIENT_USERS = frozenset({"nordbank", "megaretail"})
CONTACT_EDITORS = frozenset({"admin", "duty"})
NORD_IT = "it@nord-bank.example"
PEOPLE_READERS = frozenset({"admin", "manager"})
REASSIGNERS = frozenset({"admin", "manager", "duty"})
ANY_VERSION = {"If-Match": "*"}
EQUIPMENT_ADDERS = frozenset({"admin", "duty"})
#: Who checks in and out on T's task: those who book time and may work it.
VISITORS = BOOKERS & WORK_T
#: A multipart body of one file, for the upload into a ticket's folder.
PHOTO_BOUNDARY = "matrix-boundary"
PHOTO = (
    f'--{PHOTO_BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="matrix.png"\r\n'
    f"Content-Type: image/png\r\n\r\n\x89PNG\r\n--{PHOTO_BOUNDARY}--\r\n"
).encode("latin-1")
NEW_ITEM = {
    "serial": "{new_serial}",
    "client": "NEW-CLIENT",
    "vendor": "Cisco",
    "model": "Cisco Catalyst 9200",
    "equipment_class": "network",
}
NEW_CONTRACT = {"number": "MATRIX-C-NEW", "client": "NEW-CLIENT", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
EXTERNAL_WORKER = {"workerId": "matrix-worker"}
FETCH_EXTERNAL = {**EXTERNAL_WORKER, "maxTasks": 1, "topics": [{"topicName": "partner.matrix", "lockDuration": 1000}]}
EXTERNAL_ROUTES = ("external_complete", "external_failure", "external_bpmn_error", "external_extend_lock")
CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}


@dataclass(frozen=True)
class Case:
    """One route: who gets 2xx, who 404 (may not see the object), everyone else 403; the request to send."""

    method: str
    rule: str  # as the app names it, below /api/v1
    path: str  # with {placeholders} filled per role from the objects
    ok: frozenset[str]
    hidden: frozenset[str] = frozenset()
    body: Any = None
    raw: str | None = None  # a raw body placeholder (e.g. the diagram's XML)
    headers: dict[str, str] = field(default_factory=dict)

    def expected(self, role: str) -> str:
        return "2xx" if role in self.ok else "404" if role in self.hidden else "403"


MATRIX = [
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
    Case("GET", "/clients", "/clients", DIRECTORY_READERS),
    Case("POST", "/clients", "/clients", ADMINS, body={"code": "MATRIX-NEW", "name": "Matrix"}),
    Case("GET", "/clients/<code>", "/clients/NORD-BANK", DIRECTORY_READERS),
    Case("PATCH", "/clients/<code>", "/clients/NORD-BANK", ADMINS, body={"notes": "matrix"}, headers=ANY_VERSION),
    Case("DELETE", "/clients/<code>", "/clients/MATRIX-SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/clients/<code>/history", "/clients/NORD-BANK/history", DIRECTORY_READERS),
    Case("GET", "/price-list", "/price-list?on=2026-03-02", DIRECTORY_READERS),
    Case(
        "POST",
        "/price-list",
        "/price-list",
        ADMINS,
        body={"equipment_class": "storage", "item": "matrix", "price": "10.00", "valid_from": "2026-01-01"},
    ),
    Case("GET", "/price-list/<int:price_id>", "/price-list/{price}", DIRECTORY_READERS),
    Case(
        "PATCH", "/price-list/<int:price_id>", "/price-list/{price}", ADMINS, body={"price": "11"}, headers=ANY_VERSION
    ),
    Case("DELETE", "/price-list/<int:price_id>", "/price-list/{spare_price}", ADMINS, headers=ANY_VERSION),
    Case("GET", "/price-list/<int:price_id>/history", "/price-list/{price}/history", DIRECTORY_READERS),
    Case("GET", "/one-off-contracts", "/one-off-contracts", CONTRACT_READERS | CLIENT_USERS),
    # The contract is NEW-CLIENT's: the client users of other companies are told it does not exist.
    Case("GET", "/one-off-contracts/<number>", "/one-off-contracts/{contract}", CONTRACT_READERS, CLIENT_USERS),
    Case(
        "PATCH",
        "/one-off-contracts/<number>",
        "/one-off-contracts/{contract}",
        ADMINS,
        body={"paid": True},
        headers=ANY_VERSION,
    ),
    Case(
        "GET",
        "/one-off-contracts/<number>/history",
        "/one-off-contracts/{contract}/history",
        CONTRACT_READERS,
        CLIENT_USERS,
    ),
    Case("GET", "/clients/<code>/sites", "/clients/NORD-BANK/sites", DIRECTORY_READERS),
    Case("POST", "/clients/<code>/sites", "/clients/NORD-BANK/sites", ADMINS, body={"code": "MATRIX", "name": "M"}),
    Case("GET", "/clients/<code>/sites/<site>", "/clients/NORD-BANK/sites/HQ", DIRECTORY_READERS),
    Case(
        "PATCH",
        "/clients/<code>/sites/<site>",
        "/clients/NORD-BANK/sites/HQ",
        ADMINS,
        body={"access_notes": "matrix"},
        headers=ANY_VERSION,
    ),  # fmt: skip
    Case("DELETE", "/clients/<code>/sites/<site>", "/clients/NORD-BANK/sites/SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/clients/<code>/sites/<site>/history", "/clients/NORD-BANK/sites/HQ/history", DIRECTORY_READERS),
    Case("GET", "/clients/<code>/contacts", "/clients/NORD-BANK/contacts?confirmed=false", DIRECTORY_READERS),
    Case(
        "POST",
        "/clients/<code>/contacts",
        "/clients/NORD-BANK/contacts",
        CONTACT_EDITORS,
        body={"email": "{new_contact}", "name": "Matrix"},
    ),  # fmt: skip
    Case("GET", "/clients/<code>/contacts/<email>", f"/clients/NORD-BANK/contacts/{NORD_IT}", DIRECTORY_READERS),
    Case(
        "PATCH",
        "/clients/<code>/contacts/<email>",
        f"/clients/NORD-BANK/contacts/{NORD_IT}",
        CONTACT_EDITORS,
        body={"position": "matrix"},
        headers=ANY_VERSION,
    ),  # fmt: skip
    Case(
        "DELETE",
        "/clients/<code>/contacts/<email>",
        "/clients/NORD-BANK/contacts/spare@nord-bank.example",
        ADMINS,
        headers=ANY_VERSION,
    ),  # fmt: skip
    Case(
        "POST",
        "/clients/<code>/contacts/<email>/merge",
        "/clients/NORD-BANK/contacts/{merge_contact}/merge",
        CONTACT_EDITORS,
        body={"into": NORD_IT},
    ),  # fmt: skip
    Case(
        "GET",
        "/clients/<code>/contacts/<email>/history",
        f"/clients/NORD-BANK/contacts/{NORD_IT}/history",
        DIRECTORY_READERS,
    ),  # fmt: skip
    Case("POST", "/imports/<kind>", "/imports/clients?dry_run=true", ADMINS, raw="clients_csv"),
    Case("GET", "/exports/<kind>", "/exports/clients", ADMINS),
    Case("GET", "/teams", "/teams", DIRECTORY_READERS),
    Case("POST", "/teams", "/teams", ADMINS, body={"code": "matrix-new", "name": "Matrix team"}),
    Case("GET", "/teams/<code>", "/teams/storage", DIRECTORY_READERS),
    Case("PATCH", "/teams/<code>", "/teams/storage", ADMINS, body={"classes": ["storage"]}, headers=ANY_VERSION),
    Case("DELETE", "/teams/<code>", "/teams/matrix-spare", ADMINS, headers=ANY_VERSION),
    Case("GET", "/teams/<code>/history", "/teams/storage/history", DIRECTORY_READERS),
    Case("GET", "/users", "/users", PEOPLE_READERS),
    Case(
        "POST",
        "/users",
        "/users",
        ADMINS,
        body={
            "username": "matrix.new",
            "name": "M",
            "email": "m@x.example",
            "roles": ["engineer"],
            "groups": ["storage-L1"],
        },
    ),
    Case("GET", "/users/<username>", "/users/storage.l1", PEOPLE_READERS),
    Case(
        "PATCH",
        "/users/<username>",
        "/users/storage.l3",
        ADMINS,
        body={"phone": "+7 495 000-00-00"},
        headers=ANY_VERSION,
    ),
    Case("GET", "/users/<username>/history", "/users/storage.l1/history", PEOPLE_READERS),
    Case("GET", "/equipment", "/equipment", DIRECTORY_READERS),
    Case("POST", "/equipment", "/equipment", EQUIPMENT_ADDERS, body=NEW_ITEM),
    Case("GET", "/equipment/<serial>", "/equipment/IBM-FS5200-0001", DIRECTORY_READERS),
    Case(
        "PATCH",
        "/equipment/<serial>",
        "/equipment/CISCO-C9300-0001",
        ADMINS,
        body={"model": "Cisco Catalyst 9300-48P"},
        headers=ANY_VERSION,
    ),
    Case("DELETE", "/equipment/<serial>", "/equipment/MATRIX-EQ-SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/equipment/<serial>/history", "/equipment/IBM-FS5200-0001/history", DIRECTORY_READERS),
    Case("GET", "/contracts", "/contracts", DIRECTORY_READERS),
    Case("POST", "/contracts", "/contracts", ADMINS, body=NEW_CONTRACT),
    Case("GET", "/contracts/<number>", "/contracts/C-NORD-1", DIRECTORY_READERS),
    Case(
        "PATCH", "/contracts/<number>", "/contracts/C-TEL-1", ADMINS, body={"parts_included": True}, headers=ANY_VERSION
    ),
    Case("DELETE", "/contracts/<number>", "/contracts/MATRIX-C-SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/contracts/<number>/history", "/contracts/C-NORD-1/history", DIRECTORY_READERS),
    Case("GET", "/auth/tokens", "/auth/tokens", EVERYONE),
    Case("POST", "/auth/tokens", "/auth/tokens", EVERYONE, body={"name": "matrix"}),
    Case("DELETE", "/auth/tokens/<int:token_id>", "/auth/tokens/{own_token}", EVERYONE),
    Case("POST", "/auth/logout-all", "/auth/logout-all", EVERYONE),
    Case("POST", "/auth/invitations", "/auth/invitations", ADMINS, body={"username": "megaretail"}),
    Case("GET", "/reports/open-tickets", "/reports/open-tickets", SLA_READERS),
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
#: Served by the framework, not by a domain: the OpenAPI document and its browsable UI, and their static files.
#: Routes with no domain object and no role: the document, its browser, and readiness (public, like /health, and
#: answering 503 here since no worker runs: tests/integration/test_readiness.py covers it).
NOT_DOMAIN_ROUTES = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/<path:filename>"),
    ("GET", "/health/ready"),
    # Signing in is public (no caller yet): tests/integration/test_login.py and test_password_reset.py cover them.
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"),
}


@dataclass
class Objects:
    """What the placeholders of `MATRIX` name: shared ones, and per (placeholder, role) the mutable ones."""

    shared: dict[str, Any]
    own: dict[tuple[str, str], Any] = field(default_factory=dict)

    def fill(self, value: Any, role: str) -> Any:
        if isinstance(value, dict):
            return {key: self.fill(item, role) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item, role) for item in value]
        if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value.count("{") == 1:
            name = value[1:-1]
            return self.own.get((name, role), self.shared.get(name))
        if isinstance(value, str) and "{" in value:
            names = {name for (name, who) in self.own if who == role}
            return value.format(**{**self.shared, **{name: self.own[(name, role)] for name in names}})
        return value


@dataclass
class Matrix:
    api: Api
    objects: Objects


def _at_resolve(api: Api) -> tuple[str, str]:
    """A NORD-BANK ticket held by the storage team, and its task in the storage-L1 queue."""
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    return number, api.task(number, "resolve", as_="storage.l1")["id"]


def _one_off_contract(api: Api) -> str:
    """The one-off contract of a NEW-CLIENT ticket whose per-call estimate was accepted."""
    number = api.open_ticket(
        client="NEW-CLIENT", contact_email="it@new-client.example", equipment_serial="CISCO-C9300-0005"
    )["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {**CLARIFY, "category": "configuration"}, as_="duty")
    api.complete(number, "estimate", {"diagnostics_cost": 12000}, as_="consultant")
    api.complete(number, "record_payment", {"accepted": True, "paid": False}, as_="duty")
    return str(api.ticket(number)["one_off_contract"])


def _price(api: Api, item: str) -> int:
    body = {"equipment_class": "storage", "item": item, "price": "100", "valid_from": "2026-01-01"}
    response = api.post("/price-list", as_="admin", json=body)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def _external_task(api: Api) -> int:
    """The first job of a new ticket, left to outside workers and locked for the matrix's, as fetch-and-lock does."""
    api.open_ticket()
    with transaction(api.ctx.sessions) as session:
        job = session.scalar(select(Job).where(Job.status == PENDING).order_by(Job.id.desc()).limit(1))
        assert job is not None
        job.external, job.status, job.attempts = True, RUNNING, 1
        job.locked_by, job.locked_until = EXTERNAL_WORKER["workerId"], utcnow() + timedelta(hours=1)
        return job.id


def _waiting_for_parts(api: Api) -> str:
    number, _task = _at_resolve(api)
    api.complete(number, "resolve", {"outcome": "need_parts", "parts": "controller"}, as_="storage.l1")
    api.complete(number, "order_parts", {"source": "warehouse"}, as_="rmc")
    return number


@pytest.fixture(scope="module")
def matrix(session_ctx: Context) -> Iterator[Matrix]:
    """One database load for every case: the demo, the shipped processes and rules, and the objects."""
    _empty(session_ctx)
    with transaction(session_ctx.sessions) as session:
        load_demo(session)
    lines = deploy_all(
        session_ctx, rules_dir=session_ctx.config.rules_dir, processes_dir=session_ctx.config.processes_dir, actor="t"
    )
    assert all(line.ok for line in lines), lines
    session_ctx.rules.refresh_seconds = 0.0
    forget_service_levels()
    app: Flask = create_app(context=session_ctx)
    api = Api(app.test_client(), session_ctx)
    ticket, task = _at_resolve(api)
    objects = Objects(
        {"ticket": ticket, "task": task, "own_client": "NORD-BANK", "own_contact": "it@nord-bank.example"}
    )
    objects.own[("own_client", "megaretail")] = "MEGA-RETAIL"
    objects.own[("own_contact", "megaretail")] = "it@mega-retail.example"
    for role in sorted(WORK_T):
        objects.own[("claim_task", role)] = _at_resolve(api)[1]
        objects.own[("complete_task", role)] = _at_resolve(api)[1]
    objects.shared["claim_task"] = objects.shared["complete_task"] = task
    for role in sorted(REASSIGNERS):
        objects.own[("assign_task", role)] = _at_resolve(api)[1]
    objects.shared["assign_task"] = task
    for role in ("admin", "rmc"):
        objects.own[("parts_ticket", role)] = _waiting_for_parts(api)
    objects.shared["parts_ticket"] = _waiting_for_parts(api)
    for role in sorted(OWNERS):
        objects.own[("moved_ticket", role)] = _at_resolve(api)[0]
    objects.shared["moved_ticket"] = ticket
    objects.shared.update(photo=PHOTO, check_in_task=task, check_out_task=task)
    for role in sorted(VISITORS):
        objects.own[("check_in_task", role)] = _at_resolve(api)[1]
        objects.own[("check_out_task", role)] = visited = _at_resolve(api)[1]
        assert api.post(f"/tasks/{visited}/check-in", as_=role, json={}).status_code == 201
    upload = {"files": (io.BytesIO(b"matrix"), "matrix.txt")}
    stored = api.post(f"/tickets/{ticket}/files", as_="admin", data=upload, content_type="multipart/form-data")
    assert stored.status_code == 201, stored.get_json()

    text = (ROOT / "docs" / "sla.md").read_text()
    calendar = _json_after(text, '{"title": "Moscow office"')
    level = _json_after(text, '{"title": "Silver')
    assert api.post("/sla/calendars", as_="admin", json={**calendar, "name": "matrix-office"}).status_code == 201
    objects.shared.update(
        calendar=calendar,
        new_calendar={**calendar, "name": "matrix-new"},
        level=level,
        new_level={**level, "name": "x"},
    )
    assert api.post("/clients", as_="admin", json={"code": "MATRIX-SPARE", "name": "Spare"}).status_code == 201
    objects.shared.update(
        price=_price(api, "matrix price"), spare_price=_price(api, "matrix spare"), contract=_one_off_contract(api)
    )
    spare_site = {"code": "SPARE", "name": "Spare"}
    assert api.post("/clients/NORD-BANK/sites", as_="admin", json=spare_site).status_code == 201
    objects.shared["new_contact"] = "matrix@nord-bank.example"
    objects.shared["merge_contact"] = "merge@nord-bank.example"
    for email in ("spare@nord-bank.example", "merge@nord-bank.example"):
        assert api.post("/clients/NORD-BANK/contacts", as_="admin", json={"email": email}).status_code == 201
    for role in sorted(CONTACT_EDITORS):
        objects.own[("new_contact", role)] = f"matrix-{role}@nord-bank.example"
        objects.own[("merge_contact", role)] = f"merge-{role}@nord-bank.example"
        new = {"email": f"merge-{role}@nord-bank.example"}
        assert api.post("/clients/NORD-BANK/contacts", as_="admin", json=new).status_code == 201
    assert api.post("/teams", as_="admin", json={"code": "matrix-spare", "name": "Spare"}).status_code == 201
    objects.shared["new_serial"] = "MATRIX-EQ-REFUSED"
    for role in sorted(EQUIPMENT_ADDERS):
        objects.own[("new_serial", role)] = f"MATRIX-EQ-{role.upper()}"
    spare_item = {**NEW_ITEM, "serial": "MATRIX-EQ-SPARE"}
    assert api.post("/equipment", as_="admin", json=spare_item).status_code == 201
    spare_contract = {**NEW_CONTRACT, "number": "MATRIX-C-SPARE"}
    assert api.post("/contracts", as_="admin", json=spare_contract).status_code == 201
    for role in ROLES:  # a token of each role's own to revoke
        objects.own[("own_token", role)] = api.post("/auth/tokens", as_=role, json={"name": "spare"}).get_json()["id"]
    for role in ROLES:  # a saved filter of each role's own to delete
        spare = {"name": "spare", "query": "severity=high"}
        objects.own[("own_filter", role)] = api.post("/me/filters", as_=role, json=spare).get_json()["id"]
    objects.shared["diagram"] = (ROOT / "processes" / "ticket.bpmn").read_text()
    objects.shared["routing"] = (ROOT / "rules" / "routing.yaml").read_text()
    objects.shared["clients_csv"] = "code;name\r\nMATRIX-IMPORT;Matrix import\r\n"

    later = utcnow() + timedelta(days=60)  # every open clock has breached by then
    while run_due_event(session_ctx, now=later) is not None:
        pass
    with transaction(session_ctx.sessions) as session:
        reviews = list(session.scalars(select(BreachReview.id).order_by(BreachReview.id)))
        jobs = [
            fail_job(session, job, "matrix")
            for job in session.scalars(select(Job).order_by(Job.id).limit(len(INCIDENTS) + 1))
        ]
        assert session.scalar(select(User.id).where(User.username == "admin"))
    assert len(reviews) >= 5, reviews
    objects.shared.update(review=reviews[0], claim_review=reviews[0], complete_review=reviews[0])
    spare = iter(reviews[1:])
    for role in sorted(SLA_READERS):
        objects.own[("claim_review", role)] = next(spare)
        objects.own[("complete_review", role)] = next(spare)
    objects.shared["incident"] = jobs[0]
    for role, job in zip(sorted(INCIDENTS), jobs[1:], strict=True):
        objects.own[("incident", role)] = job
    refused = _external_task(api)
    for route in EXTERNAL_ROUTES:
        objects.shared[route] = refused
        objects.own[(route, "admin")] = _external_task(api)
    yield Matrix(api, objects)


def _status_class(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


@pytest.mark.parametrize(
    ("case", "role"),
    [(case, role) for case in MATRIX for role in ROLES],
    ids=[f"{case.method} {case.rule} as {role}" for case in MATRIX for role in ROLES],
)
def test_route_answers_the_role(matrix: Matrix, case: Case, role: str) -> None:
    objects = matrix.objects
    kwargs: dict[str, Any] = {}
    if case.raw is not None:
        kwargs["data"] = objects.shared[case.raw]
        types = {"diagram": "application/xml", "clients_csv": "text/csv"}
        types["photo"] = f"multipart/form-data; boundary={PHOTO_BOUNDARY}"
        kwargs["content_type"] = types.get(case.raw, "application/yaml")
    elif case.body is not None:
        kwargs["json"] = objects.fill(case.body, role)
    kwargs["headers"] = case.headers
    response = matrix.api.call(case.method, objects.fill(case.path, role), as_=role, **kwargs)
    if case.rule == "/auth/logout-all":  # the role's token ended with the rest: the next case needs a new one
        matrix.api.forget_token(role)
    got = _status_class(response.status_code)
    detail = response.get_json(silent=True) if got != "2xx" else None
    assert got == case.expected(role), json.dumps(detail)


def test_every_route_has_a_row(matrix: Matrix) -> None:
    app = matrix.api.client.application
    served = {
        (method, rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served - NOT_DOMAIN_ROUTES == {(case.method, case.rule) for case in MATRIX}


@pytest.mark.parametrize("role", ROLES)
def test_lists_show_the_ticket_and_task_only_to_those_who_see_them(matrix: Matrix, role: str) -> None:
    ticket, task = matrix.objects.shared["ticket"], matrix.objects.shared["task"]
    tickets = matrix.api.get("/tickets?page_size=200", as_=role).get_json()["items"]
    assert (ticket in {item["number"] for item in tickets}) == (role in SEE_T)
    tasks = matrix.api.get("/tasks?page_size=500", as_=role).get_json()["items"]
    assert (task in {item["id"] for item in tasks}) == (role in WORK_T)
