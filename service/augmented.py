"""An object seen with a few extra attributes: how a service hands a view more than one row."""

from __future__ import annotations

from typing import Any


class Augmented:
    """Reads `extra` first, then the wrapped object; schemas dump it like the object itself."""

    def __init__(self, wrapped: Any, **extra: Any) -> None:
        self._wrapped = wrapped
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)
