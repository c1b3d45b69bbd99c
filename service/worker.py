"""The worker: runs due jobs (external service tasks), fires due timers and SLA events until told to stop."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable

from service.auth.links import send_next_link
from service.context import Context
from service.db import transaction
from service.jobs.records import Outcome
from service.jobs.retention import Sweeper
from service.jobs.services import WORKER_ID, requeue_expired, run_next_job
from service.observability.heartbeat import Heartbeat
from service.sla.firing import Fired, run_due_event
from service.timers.firing import TimerFired, run_due_timer

log = logging.getLogger("orchestrator.worker")
#: How often a worker loop looks for sign-in links to mail (they are rare; a person waits a second at most).
LINK_POLL_SECONDS = 1.0


def run_workers(ctx: Context, *, stop: threading.Event, concurrency: int = 1) -> int:
    """Run `concurrency` worker loops, each in its own thread, until `stop` is set; returns the jobs they ran.

    The loops share the queue as separate processes do: each claims its own job (`FOR UPDATE SKIP LOCKED` on
    PostgreSQL), holds it under a lease that names it (host:pid#n) and writes its own heartbeat.
    """
    if concurrency <= 1:
        return run_worker(ctx, stop=stop)
    counts = [0] * concurrency

    def loop(n: int) -> None:
        counts[n] = run_worker(ctx, stop=stop, worker=f"{WORKER_ID}#{n + 1}")

    threads = [threading.Thread(target=loop, args=(n,), name=f"worker-{n + 1}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C lands in this thread: stop the loops, let each finish its job
        stop.set()
        for thread in threads:
            thread.join()
        raise
    return sum(counts)


class Poller:
    """Calls `look` at most every `seconds`, and again at once after it found something (`look` returns it).

    Each look is a transaction of its own, a write on SQLite: asked in every round of a busy loop, the looks for
    rare work would cost as much as the jobs themselves, and on SQLite hold the web's writes back.
    """

    def __init__(self, look: Callable[[], object | None], *, seconds: float) -> None:
        self.look, self.seconds = look, seconds
        self.looked_at: float | None = None

    def poll(self) -> object | None:
        """What a look found, or None (nothing was due, or it is not yet time to look)."""
        now = time.monotonic()
        if self.looked_at is not None and now - self.looked_at < self.seconds:
            return None
        found = self.look()
        self.looked_at = None if found else now
        return found


def run_worker(ctx: Context, *, stop: threading.Event, max_jobs: int | None = None, worker: str = WORKER_ID) -> int:
    """Run jobs until `stop` is set (or `max_jobs` ran); wait `worker_poll_seconds` when idle. Returns jobs run.

    Every round also writes the worker's heartbeat (at most every `worker_heartbeat_seconds`), which readiness and
    /metrics read to tell that a worker is alive, and deletes a batch of done jobs past their retention (at most
    every `job_purge_seconds` unless the last batch was full).
    """
    heartbeat = Heartbeat(ctx.sessions, worker=worker, every_seconds=ctx.config.worker_heartbeat_seconds)
    sweeper = Sweeper(ctx.sessions, config=ctx.config)
    # SLA warnings and breaches, the diagrams' timers and sign-in links to mail: between jobs, so that neither
    # starves, but while jobs keep coming at most every poll interval (an idle loop waits as long anyway).
    # Jobs whose lease ran out (their worker died or hung) go back in the queue before the next claim: rare too.
    requeue = Poller(lambda: _requeue(ctx), seconds=ctx.config.worker_poll_seconds)
    polls = [
        Poller(lambda: contextvars.copy_context().run(_one_event, ctx), seconds=ctx.config.worker_poll_seconds),
        Poller(lambda: contextvars.copy_context().run(_one_timer, ctx, worker), seconds=ctx.config.worker_poll_seconds),
        Poller(lambda: send_next_link(ctx) or None, seconds=LINK_POLL_SECONDS),
    ]
    done = 0
    while not stop.is_set() and (max_jobs is None or done < max_jobs):
        try:
            heartbeat.beat()
            sweeper.sweep()  # done jobs past their retention, one bounded batch
            requeue.poll()
            outcome = run_one_job(ctx, worker=worker, expired=False)
            found = [poller.poll() for poller in polls]
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker
            log.exception("the worker failed to claim or record a job; trying again")
            stop.wait(ctx.config.worker_poll_seconds)
            continue
        if outcome is None:
            if not any(found):
                stop.wait(ctx.config.worker_poll_seconds)
            continue
        done += 1 + len(outcome.chain)
    return done


def run_one_job(ctx: Context, *, worker: str = WORKER_ID, expired: bool = True) -> Outcome | None:
    """Run one job in a context of its own: the request id it binds stays with this job's log lines. `expired`: put
    back the jobs whose lease ran out first."""
    return contextvars.copy_context().run(_run_and_log, ctx, worker, expired)


def _run_and_log(ctx: Context, worker: str, expired: bool) -> Outcome | None:
    outcome = run_next_job(ctx, worker=worker, expired=expired)
    for each in (outcome, *outcome.chain) if outcome is not None else ():
        extra = {"job": each.job_id, "topic": each.topic, "result": each.status}
        if each.error:
            log.warning("job %s (%s) %s: %s", each.job_id, each.topic, each.status, each.error, extra=extra)
        else:
            log.info("job %s (%s) done", each.job_id, each.topic, extra=extra)
    return outcome


def _requeue(ctx: Context) -> int | None:
    with transaction(ctx.sessions) as session:
        count = requeue_expired(session, ctx)
    if count:
        log.warning("%s job(s) whose lease ran out put back in the queue", count)
    return count or None


def _one_event(ctx: Context) -> Fired | None:
    fired = run_due_event(ctx)  # SLA warnings and breaches
    if fired is not None:
        log.info("sla event %s %s", fired.event_id, fired.outcome)
    return fired


def _one_timer(ctx: Context, worker: str) -> TimerFired | None:
    fired = run_due_timer(ctx, worker=worker)
    if fired is not None:
        log.info("timer %s %s", fired.timer_id, fired.outcome)
    return fired


def drain(ctx: Context, *, limit: int = 1000) -> int:
    """Run every due job now, in this thread; for the CLI and tests. Returns jobs run."""
    done = 0
    while done < limit and (outcome := run_one_job(ctx)) is not None:
        done += 1 + len(outcome.chain)
    while done < limit and send_next_link(ctx):
        done += 1
    return done
