"""The pipeline: tickets posted at a fixed rate through gunicorn (2 workers) while real worker processes run their
jobs; per ticket the time from `POST /tickets` to its clarify task, the backlog over time, and the jobs/s of one
worker process and of two. Every figure is measured twice in one run, with the worker's chains on and, as the
baseline, off (`ORCHESTRATOR_JOB_CHAIN`): each job then is a step of its own.

`python -m bench pipeline [--rate 50] [--minutes 5] [--database URL]`. The worker runs with its shipped settings
(an idle loop waits `worker_poll_seconds`, 0.5 s, and a busy one looks for SLA events and timers as often). The time
to the clarify task is the task's `created_at` (written by the worker's step, on this host's clock) less the moment
the POST was sent. The CPU per ticket of gunicorn, the worker processes, this host's PostgreSQL (all its processes)
and the load generator is read from /proc over the load and its drain.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from bench.common import ROOT, label, prepared, rss_mib, wait_http
from service.auth.services import issue_token
from service.context import Context
from service.db import transaction
from service.jobs.models import DONE, PENDING, RUNNING, Job
from service.tasks.models import UserTask
from service.tickets.models import Ticket
from tests.support.processes import stop
from tests.support.smtp import free_port
from tests.support.tickets import DEMO_TICKET

#: Threads posting tickets: enough that a slow answer does not hold the rate back.
POSTERS = 16
#: Tickets queued up with the worker stopped, then drained, for the jobs/s of one worker process and of two.
BACKLOG = 150
#: Seconds into the load when the first resident memory is taken: the caches of web and workers filled.
RSS_AFTER = 30.0
#: Seconds the load generator waits at most, after its last POST, for the backlog to drain.
DRAIN_SECONDS = 120.0


@dataclass
class Stack:
    """gunicorn with 2 workers and the worker process, over one database; the worker's chains on or off."""

    ctx: Context
    chain: bool
    port: int = field(default_factory=free_port)
    web: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        config = self.ctx.config
        return {
            **os.environ,
            "DATABASE_URL": config.database_url,
            "ORCHESTRATOR_MAILER": "console",
            "ORCHESTRATOR_FILE_STORE_ROOT": config.file_store_root,
            "ORCHESTRATOR_LOG_LEVEL": "WARNING",
            "ORCHESTRATOR_JOB_CHAIN": "true" if self.chain else "false",
        }

    def start_web(self) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        command = [gunicorn, "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--log-level", "warning"]
        self.web = subprocess.Popen([*command, "service.wsgi:app"], cwd=ROOT, env=self.env)
        wait_http(self.port, "/api/v1/health")

    def start_workers(self, processes: int) -> None:
        """`processes` worker processes of one loop each (a step is mostly Python: processes scale, threads share
        one interpreter's lock)."""
        command = [sys.executable, "-m", "service.cli", "worker"]
        for _ in range(processes):
            self.workers.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL))

    def stop_workers(self) -> None:
        while self.workers:
            stop(self.workers.pop())

    def stop_all(self) -> None:
        self.stop_workers()
        if self.web is not None:
            stop(self.web)


def _poster(port: int, token: str, due: queue.Queue[float | None], sent: list[tuple[float, str]]) -> None:
    """POST a ticket at each due time taken from `due`, recording when it was sent and its number."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(DEMO_TICKET)
    while (at := due.get()) is not None:
        time.sleep(max(0.0, at - time.time()))
        posted = time.time()
        conn.request("POST", "/api/v1/tickets", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status == 201:
            sent.append((posted, json.loads(answer)["number"]))
    conn.close()


def _post_at_rate(port: int, token: str, *, rate: float, seconds: float) -> list[tuple[float, str]]:
    """Tickets posted at `rate` per second for `seconds`: (the moment each was sent, its number)."""
    due: queue.Queue[float | None] = queue.Queue()
    sent: list[tuple[float, str]] = []
    start = time.time() + 0.5
    count = int(rate * seconds)
    for n in range(count):
        due.put(start + n / rate)
    for _ in range(POSTERS):
        due.put(None)
    threads = [threading.Thread(target=_poster, args=(port, token, due, sent)) for _ in range(POSTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


#: Clock ticks a second, in which /proc gives a process's CPU time.
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user and system, with their waited-for children's) the processes have used, from /proc (Linux);
    a process gone since is left out."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15]) / _TICKS
    return total


def _pids(matches: Callable[[Path], bool]) -> list[int]:
    """The processes whose /proc entry `matches`; one gone meanwhile is left out."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and matches(entry):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _children(pid: int) -> list[int]:
    """The processes `pid` started (gunicorn's workers)."""
    return _pids(lambda entry: (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid))


def _postgres_pids() -> list[int]:
    """The processes of a PostgreSQL server on this host (none when the database is elsewhere)."""
    return _pids(lambda entry: (entry / "comm").read_text().startswith("postgres"))


class CpuMeter:
    """CPU seconds of gunicorn (master and workers), the worker processes, the host's PostgreSQL and this process
    (the load generator), from the moment it is made."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.start = self.now()

    def now(self) -> tuple[float, ...]:
        assert self.stack.web is not None
        web = [self.stack.web.pid, *_children(self.stack.web.pid)]
        workers = [worker.pid for worker in self.stack.workers]
        return _cpu_seconds(web), _cpu_seconds(workers), _cpu_seconds(_postgres_pids()), time.process_time()

    def rss(self) -> tuple[float, float]:
        """Resident memory of the largest gunicorn worker and of the largest worker process now, in MiB."""
        assert self.stack.web is not None
        groups = (_children(self.stack.web.pid), [worker.pid for worker in self.stack.workers])
        return tuple(max((_rss_or_none(pid) or 0.0 for pid in pids), default=0.0) for pids in groups)  # type: ignore[return-value]

    def per_ticket(self, tickets: int) -> dict[str, float]:
        """Milliseconds of CPU per ticket of each part since the meter was made."""
        names = ("web", "workers", "PostgreSQL", "load generator")
        return {name: (b - a) / tickets * 1000 for name, a, b in zip(names, self.start, self.now(), strict=True)}


def _rss_or_none(pid: int) -> float | None:
    try:
        return rss_mib(pid)
    except OSError:  # gone meanwhile
        return None


def _backlog(ctx: Context) -> int:
    with ctx.sessions() as session:
        query = select(func.count()).select_from(Job).where(Job.status.in_((PENDING, RUNNING)))
        return session.scalar(query) or 0


def _done_jobs(ctx: Context) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.status == DONE)) or 0


def _sample(meter: CpuMeter, until: threading.Event, samples: list[int], memory: list[tuple[float, float]]) -> None:
    """Every second: the backlog, and the resident memory of the largest web worker and worker process."""
    while not until.wait(1.0):
        samples.append(_backlog(meter.stack.ctx))
        memory.append(meter.rss())


def _drained(ctx: Context, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _backlog(ctx):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _seconds_to_clarify(ctx: Context, sent: list[tuple[float, str]]) -> list[float]:
    """Per ticket posted, seconds from its POST to its clarify task (tickets without one are left out)."""
    posted = dict((number, at) for at, number in sent)
    query = select(Ticket.number, UserTask.created_at).join(UserTask.ticket).where(UserTask.name == "clarify")
    with ctx.sessions() as session:  # every clarify task, then those of the tickets posted: 100,000 numbers are
        rows = session.execute(query).all()  # more parameters than one statement takes
    return sorted(_epoch(created) - posted[number] for number, created in rows if number in posted)


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


@dataclass(frozen=True)
class Figures:
    """One mode's figures."""

    posted: int
    listed: int
    p50: float
    p95: float
    backlog_max: int
    backlog_end: int
    drained: bool
    jobs_per_second: dict[int, float]
    #: Milliseconds of CPU per ticket posted, by part, during the load and its drain.
    cpu_ms: dict[str, float] = field(default_factory=dict)
    #: Resident MiB of the largest web worker and worker process, RSS_AFTER seconds into the load and at its end.
    rss: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))

    def line(self) -> str:
        rates = ", ".join(f"{n} worker{'s' if n > 1 else ''} {r:,.0f} jobs/s" for n, r in self.jobs_per_second.items())
        return (
            f"{self.posted} tickets posted, {self.listed} clarify tasks listed; POST to clarify p50 {self.p50:.2f} s, "
            f"p95 {self.p95:.2f} s; backlog at most {self.backlog_max} jobs, {self.backlog_end} when the load "
            f"stopped{'' if self.drained else ' (NOT drained in time)'}; draining {BACKLOG} tickets: {rates}; "
            f"CPU per ticket: {', '.join(f'{name} {ms:.1f} ms' for name, ms in self.cpu_ms.items())}; "
            f"RSS {RSS_AFTER:.0f} s into the load and at its end (largest process): web {self.rss[0][0]:.0f} and "
            f"{self.rss[1][0]:.0f} MiB, workers {self.rss[0][1]:.0f} and {self.rss[1][1]:.0f} MiB"
        )


def _sustained(stack: Stack, token: str, *, rate: float, seconds: float, workers: int) -> Figures:
    stack.start_workers(workers)
    meter = CpuMeter(stack)
    samples: list[int] = []
    memory: list[tuple[float, float]] = []
    until = threading.Event()
    sampler = threading.Thread(target=_sample, args=(meter, until, samples, memory))
    sampler.start()
    try:
        sent = _post_at_rate(stack.port, token, rate=rate, seconds=seconds)
        end = _backlog(stack.ctx)
        loaded = list(memory)
        drained = _drained(stack.ctx, DRAIN_SECONDS)
        cpu_ms = meter.per_ticket(max(1, len(sent)))
    finally:
        until.set()
        sampler.join()
        stack.stop_workers()
    latencies = _seconds_to_clarify(stack.ctx, sent)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] if latencies else float("nan")
    rss = (loaded[min(int(RSS_AFTER), len(loaded) - 1)], loaded[-1]) if loaded else ((0.0, 0.0), (0.0, 0.0))
    return Figures(len(sent), len(latencies), p50, p95, max(samples, default=end), end, drained, {}, cpu_ms, rss)


def _drain_rate(stack: Stack, token: str, processes: int) -> float:
    """Jobs/s of `processes` worker processes draining the jobs of BACKLOG tickets posted first."""
    _post_at_rate(stack.port, token, rate=200.0, seconds=BACKLOG / 200.0)
    before = _done_jobs(stack.ctx)
    started = time.perf_counter()
    stack.start_workers(processes)
    try:
        _drained(stack.ctx, DRAIN_SECONDS)
    finally:
        elapsed = time.perf_counter() - started
        stack.stop_workers()
    return (_done_jobs(stack.ctx) - before) / elapsed


def measure(url: str | None, *, chain: bool, rate: float, minutes: float, workers: int) -> Figures:
    """One mode over a fresh database: the drain rates of one worker process and of two, then the sustained load."""
    ctx = prepared(url)
    with transaction(ctx.sessions) as session:
        token = issue_token(session, username="duty")
    stack = Stack(ctx, chain=chain)
    try:
        stack.start_web()
        _post_at_rate(stack.port, token, rate=10.0, seconds=2.0)  # warm-up: each gunicorn worker loads its caches
        stack.start_workers(1)
        _drained(ctx, DRAIN_SECONDS)
        stack.stop_workers()
        rates = {n: _drain_rate(stack, token, n) for n in (1, 2)}  # first: each from an empty queue
        figures = _sustained(stack, token, rate=rate, seconds=minutes * 60, workers=workers)
        return dataclasses.replace(figures, jobs_per_second=rates)
    finally:
        stack.stop_all()
        ctx.engine.dispose()


def run(url: str | None, *, rate: float = 50.0, minutes: float = 5.0, workers: int = 2) -> None:
    """Print the pipeline's figures with chains beside those without, measured in this run."""
    name = label(url)
    print(f"pipeline [{name}]: {rate:g} tickets/s for {minutes:g} min, {workers} worker processes")
    chained = measure(url, chain=True, rate=rate, minutes=minutes, workers=workers)
    print(f"pipeline [{name}] chains on: {chained.line()}")
    plain = measure(url, chain=False, rate=rate, minutes=minutes, workers=workers)
    print(f"pipeline [{name}] baseline, chains off: {plain.line()}")
    for n, rate_on in chained.jobs_per_second.items():
        print(f"pipeline [{name}]: {n} worker(s): {rate_on / plain.jobs_per_second[n]:.2f}x the jobs/s without chains")
