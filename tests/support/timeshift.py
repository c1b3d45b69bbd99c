"""Run a Python program with its clock moved to a given moment (and ticking on from there), for end-to-end tests.

    python -m tests.support.timeshift 2026-12-04T17:00:00+03:00 -m service.cli worker
    python -m tests.support.timeshift 2026-12-04T17:00:00+03:00 -m gunicorn --bind 127.0.0.1:8001 service.wsgi:app

time-machine moves every way Python reads the wall clock (datetime, time.time, date.today) in this process and in
the processes it forks, so the service behaves as if it ran at that moment; nothing in the service knows about it.
"""

from __future__ import annotations

import runpy
import sys
from datetime import datetime

import time_machine


def main(argv: list[str]) -> None:
    """Travel to argv[0], then run the module after `-m` with the remaining arguments."""
    if len(argv) < 3 or argv[1] != "-m":
        raise SystemExit("usage: python -m tests.support.timeshift ISO-MOMENT -m MODULE [ARGS...]")
    time_machine.travel(datetime.fromisoformat(argv[0]), tick=True).start()
    module = argv[2]
    sys.argv = [module, *argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
