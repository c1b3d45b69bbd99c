"""The worker: runs due jobs (external service tasks) and fires due SLA events until told to stop."""

from __future__ import annotations

import logging
import threading

from service.context import Context
from service.jobs.services import run_next_job
from service.sla.firing import run_due_event

log = logging.getLogger("orchestrator.worker")


def run_worker(ctx: Context, *, stop: threading.Event, max_jobs: int | None = None) -> int:
    """Run jobs until `stop` is set (or `max_jobs` ran); wait `worker_poll_seconds` when idle. Returns jobs run."""
    done = 0
    while not stop.is_set() and (max_jobs is None or done < max_jobs):
        try:
            outcome = run_next_job(ctx)
            fired = run_due_event(ctx)  # SLA warnings and breaches, between jobs so that neither starves
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker
            log.exception("the worker failed to claim or record a job; trying again")
            stop.wait(ctx.config.worker_poll_seconds)
            continue
        if fired is not None:
            log.info("sla event %s %s", fired.event_id, fired.outcome)
        if outcome is None:
            if fired is None:
                stop.wait(ctx.config.worker_poll_seconds)
            continue
        done += 1
        if outcome.error:
            log.warning("job %s (%s) %s: %s", outcome.job_id, outcome.topic, outcome.status, outcome.error)
        else:
            log.info("job %s (%s) done", outcome.job_id, outcome.topic)
    return done


def drain(ctx: Context, *, limit: int = 1000) -> int:
    """Run every due job now, in this thread; for the CLI and tests. Returns jobs run."""
    done = 0
    while done < limit and run_next_job(ctx) is not None:
        done += 1
    return done
