"""gunicorn's settings for the web process: `gunicorn --config python:service.gunicorn_config service.wsgi:app`.

Metrics in multiprocess mode: every gunicorn worker (and an `orchestrator worker` on the same host given the same
`PROMETHEUS_MULTIPROC_DIR`) writes its values into one directory and /metrics adds them up. The directory is set
here, before any worker imports the metrics; a fresh temporary one when the environment names none. Files of
processes no longer running are removed at start, and a dead worker's live gauges when it exits.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # the name prometheus_client reads, also in service.observability.metrics


def multiprocess_dir() -> Path:
    """The metrics directory of this server, made (and named in the environment) when it is not given."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        path = tempfile.mkdtemp(prefix="orchestrator-metrics-")
        os.environ[MULTIPROC_ENV] = path
    Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_gone_processes(directory: Path) -> None:
    """Remove the files of processes that no longer run: an earlier server's values must not count again."""
    for file in directory.glob("*.db"):
        pid = file.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            file.unlink(missing_ok=True)


forget_gone_processes(multiprocess_dir())

wsgi_app = "service.wsgi:app"


def child_exit(_server: Any, worker: Any) -> None:
    """A gunicorn worker exited (or was killed): its live gauges stop counting; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
