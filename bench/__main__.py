"""Benchmarks: `python -m bench [intake|escalation|whatif|sla] [--database URL]`; each figure beside its baseline."""

from __future__ import annotations

import argparse
import os

from bench import escalation, intake, sla_report, whatif


def main() -> None:
    """Run the chosen benchmarks on SQLite and, when reachable, PostgreSQL."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("which", nargs="*", default=["intake", "escalation", "whatif", "sla"])
    parser.add_argument(
        "--database", action="append", help="`sqlite` or a database URL (repeatable); default: SQLite and PostgreSQL"
    )
    parser.add_argument("--tickets", type=int, default=2400, help="tickets opened by the intake benchmark")
    args = parser.parse_args()
    urls = args.database or [None, os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")]
    for url in (None if u == "sqlite" else u for u in urls):
        if "intake" in args.which:
            intake.run(url, tickets=args.tickets)
        if "escalation" in args.which:
            escalation.run(url)
        if "whatif" in args.which:
            whatif.run(url)
        if "sla" in args.which:
            sla_report.run(url)


if __name__ == "__main__":
    main()
