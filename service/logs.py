"""Logging: one set-up for the API, the worker and the CLI; JSON lines or text, each with its request id."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone
from typing import Any, TextIO

from service.observability import request_id

#: The workflow library logs every task state change at INFO: a dozen lines per ticket step, so it is kept at WARNING
#: unless the service itself logs at DEBUG.
CHATTY_LIBRARIES = ("spiff",)
FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

#: What every LogRecord carries; anything else on a record came as `extra=` and goes into the JSON object.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is written (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _with_request_id(factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = request_id.current()
        return record

    make.adds_request_id = True  # type: ignore[attr-defined]
    return make


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of a log format name ("json" or "text")."""
    kind = log_format.strip().lower()
    if kind not in FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: use json or text")
    return JsonFormatter() if kind == "json" else logging.Formatter(TEXT_FORMAT, defaults={"request_id": None})


def configure_logging(level: str, log_format: str = "text") -> None:
    """Log at `level` (a name such as INFO) to stderr in `log_format`; chatty libraries only from WARNING up unless
    level is DEBUG. Every record carries the current request id. Calling it again replaces the set-up, not adds one."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR")
    chosen = formatter(log_format)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "adds_request_id", False):
        logging.setLogRecordFactory(_with_request_id(factory))
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(chosen)
    root.setLevel(numeric)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if numeric <= logging.DEBUG else max(numeric, logging.WARNING))
