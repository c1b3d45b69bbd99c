"""Stopping the real processes that tests and benchmarks start."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[bytes], *, wait_seconds: float = 20) -> None:
    """End a process politely (SIGTERM), or by force after `wait_seconds`; close its stderr pipe if it has one."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(wait_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stderr is not None:
        process.stderr.close()
