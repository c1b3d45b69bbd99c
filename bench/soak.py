"""Soak: minutes of mixed load against gunicorn (2 workers) and the worker while a chaos loop SIGKILLs them; then,
with everything drained, the books: nothing lost, nothing duplicated, nothing stuck."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import select

from bench.common import ROOT, label, prepared, wait_http
from bench.soak_load import Tally, client_loop
from service.auth.services import issue_token
from service.context import Context
from service.db import transaction, utcnow
from service.jobs.models import DONE, FAILED, Job
from service.tickets.models import Ticket
from tests.support.processes import stop
from tests.support.smtp import SmtpServerProcess, free_port, read_mbox

USERS = ("duty", "admin", "storage.l1", "rmc")
CLIENTS = 4
LEASE_SECONDS = 5


@dataclass
class Stack:
    """gunicorn (its master respawns killed workers), the job worker (the soak restarts it) and the SMTP server."""

    env: dict[str, str]
    folder: Path
    port: int
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    kills: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    logs: list[IO[bytes]] = field(default_factory=list)

    def _log(self, name: str) -> IO[bytes]:
        log = (self.folder / f"{name}.log").open("ab")
        self.logs.append(log)
        return log

    def start_web(self) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        command = [gunicorn, "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "service.wsgi:app"]
        log = self._log("gunicorn")
        self.web = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        wait_http(self.port, "/api/v1/health")

    def start_worker(self) -> None:
        log = self._log("worker")
        command = [sys.executable, "-m", "service.cli", "worker"]
        self.worker = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)

    def kill_worker(self) -> None:
        """SIGKILL the job worker and start another, as a supervisor would."""
        with self.lock:
            assert self.worker is not None
            self.worker.send_signal(signal.SIGKILL)
            self.worker.wait()
            self.kills["worker"] += 1
            self.start_worker()

    def kill_web_worker(self, rng: random.Random) -> None:
        """SIGKILL one of gunicorn's workers (its master starts a new one)."""
        assert self.web is not None
        children = _children(self.web.pid)
        if children:
            os.kill(rng.choice(children), signal.SIGKILL)
            self.kills["gunicorn worker"] += 1

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None:
                stop(process, wait_seconds=30)
        for log in self.logs:
            log.close()


def _children(pid: int) -> list[int]:
    """The processes whose parent is pid (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def chaos(stack: Stack, stop: threading.Event, *, every: float) -> None:
    """Kill the job worker or a gunicorn worker at random moments, `every` seconds apart on average."""
    rng = random.Random(7)
    while not stop.wait(rng.uniform(0.3, 1.7) * every):
        if rng.random() < 0.5:
            stack.kill_worker()
        else:
            stack.kill_web_worker(rng)


def drained(ctx: Context, timeout: float) -> None:
    """Wait until no job is pending or running (a dead worker's lease runs out first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.sessions() as session:
            busy = session.scalar(select(Job.id).where(Job.status.not_in((DONE, FAILED))).limit(1))
        if busy is None:
            return
        time.sleep(0.5)


@dataclass(frozen=True)
class Books:
    """The figures of one soak."""

    tickets: int
    acknowledged: int
    lost: int
    duplicated: int
    mails_lost: int
    resent: int
    mail_duplicates: int
    closed: int
    closing_mails_lost: int
    stuck: int
    incidents: int


def books(ctx: Context, tally: Tally, mbox: Path) -> Books:
    """Compare what clients were told with what the database holds and what the SMTP server received."""
    with ctx.sessions() as session:
        tickets = {
            number: (summary, status)
            for number, summary, status in session.execute(select(Ticket.number, Ticket.summary, Ticket.status))
        }
        jobs = list(session.scalars(select(Job)))
    now = utcnow()
    stuck = [j for j in jobs if j.status not in (DONE, FAILED) and (j.locked_until is None or j.locked_until < now)]
    by_summary = Counter(summary for summary, _ in tickets.values())
    duplicated = sum(count - 1 for count in by_summary.values())
    duplicated += sum(len(numbers) - 1 for numbers in tally.keys.values() if len(numbers) > 1)
    mails = read_mbox(mbox)
    ids_by_kind: dict[tuple[str, str], Counter[str]] = {}
    for mail in mails:
        number = mail["subject"].partition("]")[0].lstrip("[")
        kind = "opened" if "Ticket opened" in mail["subject"] else "closed" if "closed" in mail["subject"] else ""
        if kind:
            ids_by_kind.setdefault((number, kind), Counter())[mail["message_id"]] += 1
    closed = [n for n, (_, status) in tickets.items() if status == "closed"]
    return Books(
        tickets=len(tickets),
        acknowledged=len(tally.acknowledged),
        lost=len(tally.acknowledged - tickets.keys()),
        duplicated=duplicated,
        mails_lost=sum((number, "opened") not in ids_by_kind for number in tickets),
        resent=sum(count - 1 for ids in ids_by_kind.values() for count in ids.values()),
        mail_duplicates=sum(len(ids) - 1 for ids in ids_by_kind.values()),
        closed=len(closed),
        closing_mails_lost=sum((number, "closed") not in ids_by_kind for number in closed),
        stuck=len(stuck),
        incidents=sum(j.status == FAILED for j in jobs),
    )


def run(url: str | None, *, minutes: float = 10.0, chaos_every: float = 5.0) -> Books:
    """Soak the stack for `minutes` under chaos and print the books."""
    folder = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    ctx = prepared(url)
    with transaction(ctx.sessions) as session:
        tokens = {user: issue_token(session, username=user) for user in USERS}
    with SmtpServerProcess(folder / "mail.jsonl") as smtp:
        env = {
            **os.environ,
            "DATABASE_URL": ctx.config.database_url,
            "ORCHESTRATOR_MAILER": "smtp",
            "ORCHESTRATOR_SMTP_HOST": "127.0.0.1",
            "ORCHESTRATOR_SMTP_PORT": str(smtp.port),
            "ORCHESTRATOR_FILE_STORE_ROOT": ctx.config.file_store_root,
            "ORCHESTRATOR_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "ORCHESTRATOR_JOB_BACKOFF_SECONDS": "0.5",
            "ORCHESTRATOR_WORKER_POLL_SECONDS": "0.2",
            "ORCHESTRATOR_LOG_LEVEL": "WARNING",
        }
        stack = Stack(env=env, folder=folder, port=free_port())
        try:
            stack.start_web()
            stack.start_worker()
            tally = Tally()
            seconds = minutes * 60
            deadline = time.monotonic() + seconds
            bound = int(seconds * 200)  # requests per client: far above what one client can send in the time
            clients = [
                threading.Thread(target=client_loop, args=(i, stack.port, tokens, tally, deadline, bound))
                for i in range(CLIENTS)
            ]
            stop = threading.Event()
            chaos_thread = threading.Thread(target=chaos, args=(stack, stop), kwargs={"every": chaos_every})
            started = time.monotonic()
            for thread in [*clients, chaos_thread]:
                thread.start()
            for thread in clients:
                thread.join(seconds + 120)
            elapsed = time.monotonic() - started
            stop.set()
            chaos_thread.join(60)
            drained(ctx, LEASE_SECONDS + 180)
            time.sleep(1)  # the last mail's line reaches the mbox file
            figures = books(ctx, tally, smtp.mbox)
        finally:
            stack.stop()
    ctx.engine.dispose()
    statuses = ", ".join(f"{name} {count}" for name, count in sorted(tally.statuses.items()))
    print(
        f"soak [{label(url)}]: {minutes:g} min, {CLIENTS} clients, gunicorn 2 workers + the worker, "
        f"a kill every {chaos_every:g} s on average\n"
        f"  requests {tally.requests} ({tally.requests / elapsed:.0f}/s; {statuses}); tasks completed "
        f"{tally.completed}, messages sent {tally.messages}\n"
        f"  kills: worker {stack.kills['worker']}, gunicorn worker {stack.kills['gunicorn worker']}\n"
        f"  tickets opened {figures.tickets} (acknowledged {figures.acknowledged}; opens without a key left "
        f"unanswered by a kill {tally.unanswered_opens}), closed {figures.closed}\n"
        f"  tickets lost {figures.lost}, tickets duplicated {figures.duplicated}\n"
        f"  mails lost {figures.mails_lost} (opening), {figures.closing_mails_lost} (closing); resent, same "
        f"Message-ID {figures.resent}; duplicated with another Message-ID {figures.mail_duplicates}\n"
        f"  jobs stuck {figures.stuck}, incidents {figures.incidents}  (logs in {folder})"
    )
    return figures
