"""Instructions per step (`python -m bench steps --instructions`): the steps of `bench steps` (an intake, a clarify
completion, an escalation), counted in the instructions this process executes, under valgrind's callgrind.

On the shared machine a step's CPU time moves by up to 1.8x within an hour, so two versions of the code measured by
CPU time must be alternated for many rounds to tell a few per cent apart; their instruction counts differ by under
1 % between runs. An instruction count is not CPU time (system calls, the database and cache misses are not in it,
and an intake spends more of its time there than a completion): compare versions of the code by instructions, judge
the target by CPU time. Needs valgrind (its headers) and a C compiler; about a minute a database.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import label, prepared

TICKETS = 20
#: Starts and ends a counted block through callgrind's client requests (no-ops outside valgrind).
_HELPER = r"""
#include <valgrind/callgrind.h>
void block_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; CALLGRIND_TOGGLE_COLLECT; }
void block_end(const char *name) {
    CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT(name); CALLGRIND_STOP_INSTRUMENTATION;
}
"""


def run(url: str | None, *, tickets: int = TICKETS) -> dict[str, float]:
    """Print the instructions per step of each kind and their ratios to an intake's."""
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as directory:
        library = Path(directory, "blocks.so")
        source = Path(directory, "blocks.c")
        source.write_text(_HELPER)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--collect-atstart=no",
            f"--callgrind-out-file={directory}/callgrind.%p",
            sys.executable,
            "-m",
            "bench.instructions",
            url or "",
            str(tickets),
            str(library),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict orders, run after run
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counts = _counts(Path(directory), tickets)
    intake = counts["intake"]
    for name, count in counts.items():
        print(f"instructions [{label(url)}] {name}: {count / 1e6:.2f} M a step ({count / intake:.2f}x an intake's)")
    return counts


def _counts(directory: Path, tickets: int) -> dict[str, float]:
    """The instructions per step of each block the child dumped, by the block's name."""
    counts: dict[str, float] = {}
    for dump in directory.glob("callgrind.*.*"):
        text = dump.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.MULTILINE)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        if name and total:
            counts[name.group(1)] = int(total.group(1)) / tickets
    return {name: counts[name] for name in ("intake", "clarify", "escalation")}


def _child(url: str | None, tickets: int, library: str) -> None:
    """Under valgrind: make the steps of each kind in a counted block of its own."""
    from bench import steps  # imported here: the parent needs none of the service
    from service import db
    from service.sla import levels

    blocks = ctypes.CDLL(library)
    blocks.block_end.argtypes = [ctypes.c_char_p]
    logging.disable(logging.INFO)
    ctx = prepared(url)
    # Valgrind runs the code about fifty times slower: keep the caches that expire by the clock as warm as they
    # stay at full speed, or each step would count their reloads.
    levels.LEVEL_REFRESH_SECONDS = db.PING_AFTER_IDLE_SECONDS = 1e9
    ctx.rules.refresh_seconds = ctx.definitions.latest_seconds = 1e9
    try:
        for name, calls in steps.prepare(ctx, tickets=tickets).items():
            blocks.block_start()
            for call in calls:
                call()
            blocks.block_end(name.encode())
    finally:
        ctx.engine.dispose()


if __name__ == "__main__":
    _child(sys.argv[1] or None, int(sys.argv[2]), sys.argv[3])
