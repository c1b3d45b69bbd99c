"""The soak's load: clients that open tickets (some with Idempotency-Key retries), walk them along the flow and send
the parts_delivered message, each bounded in requests and time and talking only to 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

BODY = {
    "client": "NORD-BANK",
    "contact_email": "it@nord-bank.example",
    "equipment_serial": "IBM-FS5200-0001",
    "channel": "api",
    "severity": "high",
    "category": "hardware",
}
#: Who completes each task of the flow the soak walks, and with what.
STEPS: dict[str, tuple[str, dict[str, Any]]] = {
    "clarify": ("duty", {"description": "soak"}),
    "order_parts": ("rmc", {"source": "warehouse"}),
    "onsite_visit": ("storage.l1", {"outcome": "solved", "hours": 1}),
}
KEY_RETRIES = 6  # a keyed request is sent again until it is answered, at most this often


@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[str] = field(default_factory=Counter)
    #: Numbers answered 201 (or 200 for a keyed retry), and each idempotency key's answers.
    acknowledged: set[str] = field(default_factory=set)
    created: int = 0
    keys: dict[str, set[str]] = field(default_factory=dict)
    #: A request without a key that got no answer: the ticket may or may not exist, nobody was told.
    unanswered_opens: int = 0
    completed: int = 0
    messages: int = 0

    def count(self, status: int | None) -> None:
        with self.lock:
            self.statuses["no answer" if status is None else f"{status // 100}xx"] += 1

    @property
    def requests(self) -> int:
        """Requests that got an answer or lost their connection."""
        return sum(self.statuses.values())


class Client:
    """One keep-alive connection to the API, opened again after the worker holding it was killed."""

    def __init__(self, port: int, tokens: dict[str, str], tally: Tally) -> None:
        self.port, self.tokens, self.tally = port, tokens, tally
        self.conn: http.client.HTTPConnection | None = None
        self.sent = 0

    def call(
        self, method: str, path: str, *, as_: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int | None, Any]:
        """Status and decoded answer; (None, None) when the connection broke (a killed gunicorn worker)."""
        all_headers = {"Authorization": f"Bearer {self.tokens[as_]}", "Content-Type": "application/json"}
        all_headers.update(headers or {})
        payload = None if body is None else json.dumps(body)
        self.sent += 1
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, f"/api/v1{path}", body=payload, headers=all_headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            self.tally.count(None)
            time.sleep(0.05)
            return None, None
        self.tally.count(response.status)
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def open_ticket(client: Client, rng: random.Random, name: str) -> str | None:
    """Open one ticket; half of them carry an Idempotency-Key, are retried until answered and sometimes re-sent."""
    tally = client.tally
    keyed = rng.random() < 0.5
    body = {**BODY, "summary": f"Soak {name}"}  # the summary names the request, so the books can count its tickets
    if not keyed:
        status, answer = client.call("POST", "/tickets", as_="duty", body=body)
        if status != 201:
            with tally.lock:
                tally.unanswered_opens += status is None
            return None
        with tally.lock:
            tally.created += 1
            tally.acknowledged.add(answer["number"])
        return str(answer["number"])
    headers = {"Idempotency-Key": name}
    numbers: list[str] = []
    for _ in range(KEY_RETRIES):
        status, answer = client.call("POST", "/tickets", as_="duty", body=body, headers=headers)
        if status in (200, 201):
            numbers.append(answer["number"])
            with tally.lock:
                tally.created += status == 201
            break
        if status is not None and status < 500 and status != 409:
            break  # refused for good: nothing to retry
    if numbers and rng.random() < 0.3:  # the client did not hear the answer: the same request again
        status, answer = client.call("POST", "/tickets", as_="duty", body=body, headers=headers)
        if status in (200, 201):
            numbers.append(answer["number"])
            with tally.lock:
                tally.created += status == 201
    with tally.lock:
        tally.keys[name] = set(numbers)
        tally.acknowledged.update(numbers)
    return numbers[0] if numbers else None


class Step(Enum):
    """What advancing a ticket did."""

    TAKEN = "taken"
    WAITING = "waiting"
    CLOSED = "closed"


def advance(client: Client, rng: random.Random, number: str, outcome: str) -> Step:
    """Take the ticket's next step if one is open."""
    status, ticket = client.call("GET", f"/tickets/{number}", as_="admin")
    if status != 200:
        return Step.WAITING
    if ticket["status"] == "closed":
        return Step.CLOSED
    tally = client.tally
    if ticket["status"] == "waiting_parts" and not ticket["open_tasks"]:
        message = {"name": "parts_delivered", "ticket": number, "data": {"delivery": f"D-{rng.randrange(1000)}"}}
        status, _ = client.call("POST", "/messages", as_="rmc", body=message)
        with tally.lock:
            tally.messages += status == 200
        return Step.TAKEN
    for task in ticket["open_tasks"]:
        if task["name"] == "resolve":
            user, data = "storage.l1", {"outcome": outcome, "hours": 1, "parts": "disk"}
        elif task["name"] in STEPS:
            user, data = STEPS[task["name"]]
        else:
            continue
        status, _ = client.call("POST", f"/tasks/{task['id']}/complete", as_=user, body={"data": data})
        with tally.lock:
            tally.completed += status == 200
        return Step.TAKEN
    return Step.WAITING


def client_loop(index: int, port: int, tokens: dict[str, str], tally: Tally, deadline: float, bound: int) -> None:
    """Open tickets and walk them to their end until the deadline or `bound` requests, whichever comes first."""
    rng = random.Random(index)
    client = Client(port, tokens, tally)
    backlog: dict[str, str] = {}  # number -> the resolve outcome this ticket takes
    opened = 0
    while time.monotonic() < deadline and client.sent < bound:
        # A small backlog per client, so that tickets go along the flow rather than pile up waiting for the worker.
        if len(backlog) < 3 or (len(backlog) < 12 and rng.random() < 0.15):
            opened += 1
            number = open_ticket(client, rng, f"c{index}-{opened}")
            if number is not None:
                backlog[number] = "solved" if rng.random() < 0.6 else "need_parts"
            continue
        number = rng.choice(list(backlog))
        step = advance(client, rng, number, backlog[number])
        if step is Step.CLOSED:
            del backlog[number]
        elif step is Step.WAITING:
            time.sleep(0.02)  # its jobs are still with the worker
    client.close()
