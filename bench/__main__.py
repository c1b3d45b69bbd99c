"""Benchmarks: `python -m bench [intake|escalation|whatif|sla|inbox|jobs|imports] [--database URL]`; each figure
beside its baseline.

`python -m bench bulk [--tickets N]` loads N tickets (100,000 by default) and prints tickets/s; `python -m bench lists
[--tickets N]` times ticket list pages over N bulk-loaded tickets (20,000) beside plain SQL; `python -m bench steps`
counts the SQL statements and CPU of an intake and of completions against the floor (`--instructions`: their
instructions under valgrind, for comparing versions of the code); `python -m bench pages
[--tickets N]` times "My work" and the dashboard over N bulk-loaded tickets (100000) beside `GET /tasks`; `python -m
bench timers` fires 1,000 timers due in one minute and weighs a boundary timer's step cost (none of these runs by
default).

`python -m bench soak [--minutes N]` is the crash-safety soak (not run by default): load under SIGKILLs, then the
books of tickets, mails and jobs. `python -m bench pipeline [--rate 50] [--minutes 5]` posts tickets at a fixed
rate while worker processes run their jobs, with the worker's chains and without (not run by default)."""

from __future__ import annotations

import argparse
import os

from bench import (
    bulk,
    escalation,
    imports,
    inbox,
    instructions,
    intake,
    jobs,
    lists,
    pages,
    pipeline,
    sla_report,
    soak,
    steps,
    timers,
    whatif,
)


def main() -> None:
    """Run the chosen benchmarks on SQLite and, when reachable, PostgreSQL."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "which", nargs="*", default=["intake", "escalation", "whatif", "sla", "inbox", "jobs", "imports"]
    )
    parser.add_argument(
        "--database", action="append", help="`sqlite` or a database URL (repeatable); default: SQLite and PostgreSQL"
    )
    parser.add_argument(
        "--tickets",
        type=int,
        help="tickets opened by intake (2400), loaded by bulk or pages (100000) or by lists (20000)",
    )
    parser.add_argument("--minutes", type=float, help="length of the soak (default 10) or of the pipeline's load (5)")
    parser.add_argument("--rate", type=float, default=50.0, help="tickets/s the pipeline posts (default 50)")
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes during the pipeline's load (default 2)"
    )
    parser.add_argument(
        "--instructions", action="store_true", help="steps: count instructions under valgrind instead of CPU time"
    )
    parser.add_argument("--chaos-every", type=float, default=5.0, help="mean seconds between the soak's kills")
    args = parser.parse_args()
    urls = args.database or [None, os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")]
    for url in (None if u == "sqlite" else u for u in urls):
        if "intake" in args.which:
            intake.run(url, tickets=args.tickets or 2400)
        if "escalation" in args.which:
            escalation.run(url)
        if "whatif" in args.which:
            whatif.run(url)
        if "sla" in args.which:
            sla_report.run(url)
        if "inbox" in args.which:
            inbox.run(url)
        if "jobs" in args.which:
            jobs.run(url)
        if "imports" in args.which:
            imports.run(url)
        if "lists" in args.which:
            lists.run(url, tickets=args.tickets or lists.TICKETS)
        if "pages" in args.which:
            pages.run(url, tickets=args.tickets or 100_000)
        if "bulk" in args.which:
            bulk.run(url, tickets=args.tickets or 100_000)
        if "steps" in args.which:
            if args.instructions:
                instructions.run(url)
            else:
                steps.run(url)
        if "timers" in args.which:
            timers.run(url)
        if "soak" in args.which:
            soak.run(url, minutes=args.minutes or 10.0, chaos_every=args.chaos_every)
        if "pipeline" in args.which:
            pipeline.run(url, rate=args.rate, minutes=args.minutes or 5.0, workers=args.workers)


if __name__ == "__main__":
    main()
