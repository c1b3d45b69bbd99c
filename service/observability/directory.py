"""The directory gunicorn's workers and the job worker share their metric values in (before prometheus_client is
imported: it reads `PROMETHEUS_MULTIPROC_DIR` once)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # the name prometheus_client reads, also in service.observability.metrics


def multiprocess_dir() -> tuple[Path, bool]:
    """The metrics directory of this server, made (and named in the environment) when it is not given; and whether
    it was made here (then whoever made it removes it at the end)."""
    path = os.environ.get(MULTIPROC_ENV)
    made = not path
    if not path:
        path = tempfile.mkdtemp(prefix="orchestrator-metrics-")
        os.environ[MULTIPROC_ENV] = path
    Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path), made


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
