"""Logging: one set-up for the API, the worker and the CLI."""

from __future__ import annotations

import logging

#: The workflow library logs every task state change at INFO: a dozen lines per ticket step, so it is kept at WARNING
#: unless the service itself logs at DEBUG.
CHATTY_LIBRARIES = ("spiff",)


def configure_logging(level: str) -> None:
    """Log at `level` (a name such as INFO) to stderr; chatty libraries only from WARNING up unless level is DEBUG."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if numeric <= logging.DEBUG else max(numeric, logging.WARNING))
