"""The roles of the demo, the sets of them a route admits, the bodies the routes are sent, and one row's shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
