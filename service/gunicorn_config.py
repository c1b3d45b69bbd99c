"""gunicorn's settings for the web process: `gunicorn --config python:service.gunicorn_config service.wsgi:app`.

Metrics in multiprocess mode: every gunicorn worker (and an `orchestrator worker` on the same host given the same
`PROMETHEUS_MULTIPROC_DIR`) writes its values into one directory and /metrics adds them up. The directory is set
here, before any worker imports the metrics; a fresh temporary one when the environment names none. Files of
processes no longer running are removed at start, and a dead worker's live gauges when it exits. gunicorn's own
log lines come in the service's format (ORCHESTRATOR_LOG_FORMAT).
"""

from __future__ import annotations

import shutil
from typing import Any

from gunicorn.glogging import Logger

from service.config import Config
from service.logs import formatter
from service.observability.directory import forget_gone_processes, multiprocess_dir

_directory, _made = multiprocess_dir()
forget_gone_processes(_directory)

wsgi_app = "service.wsgi:app"
#: gunicorn 27 opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl): every instance on the host
#: would claim the same one. Nothing here manages gunicorn through it; older releases ignore the setting.
control_socket_disable = True


class ServiceLogger(Logger):
    """gunicorn's own lines (start, workers booting and exiting) in the service's log format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        chosen = formatter(Config.from_env().log_format)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(chosen)


logger_class = ServiceLogger


def child_exit(_server: Any, worker: Any) -> None:
    """A gunicorn worker exited (or was killed): its live gauges stop counting; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(_server: Any) -> None:
    """The server stops: a directory it made for itself goes with it."""
    if _made:
        shutil.rmtree(_directory, ignore_errors=True)
