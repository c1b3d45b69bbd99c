"""What an importable kind of record is: its columns, its natural key, how a row is loaded, found, created and
changed, and how its records are exported in the same columns."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from marshmallow import Schema
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.imports import cells

if TYPE_CHECKING:
    from service.context import Context

#: How many rows of a file one `IN (...)` query looks up (far below any database's limit on parameters).
LOOKUP_CHUNK = 2000


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """The values in slices of `LOOKUP_CHUNK`, one `IN (...)` query each."""
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


@dataclass(frozen=True)
class Column:
    """One column of a kind's file: its header, the schema field it fills, how a cell is read."""

    name: str
    parse: Callable[[Any], Any] = cells.line
    field: str = ""
    #: The column must be in the file (the key and what a new record cannot do without).
    required: bool = False

    @property
    def target(self) -> str:
        """The schema field the column fills (its own name unless told)."""
        return self.field or self.name


def written(value: Any) -> str:
    """A value as an export writes it, so that the import reads it back as the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return " ".join(written(item) for item in value)
    return str(value)


class Loader(ABC):
    """One import run of a kind: the records the file names, looked up once, then each row created or changed."""

    def __init__(self, session: Session, *, user: Caller, source: str, ctx: Context | None = None) -> None:
        self.session = session
        self.user = user
        self.source = source
        #: The process's context, for kinds whose rows start processes (tickets); None where no kind needs it.
        self.ctx = ctx

    @abstractmethod
    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        """Look up, in a few queries, the records of these keys and whatever the rows refer to."""

    @abstractmethod
    def find(self, key: str) -> Any | None:
        """The existing record of that key (from the preload), or None."""

    @abstractmethod
    def current(self, record: Any) -> dict[str, Any]:
        """The record's values under the change schema's field names, as a row would give them."""

    @abstractmethod
    def create(self, data: dict[str, Any]) -> None:
        """Create a record from the loaded row (its history recorded with the file as the source)."""

    @abstractmethod
    def update(self, record: Any, changes: dict[str, Any]) -> None:
        """Change a record's fields that differ (its history recorded with the file as the source)."""

    def check(self, data: Mapping[str, Any], record: Any | None) -> dict[str, str]:
        """Column -> reason for what the schema cannot see (a client code that does not exist) in a row loaded for
        a new record (`record` None) or a change of `record`; none by default."""
        return {}

    def flush(self) -> None:
        """Write what is pending (the runner calls it every batch of rows)."""
        self.session.flush()


class Kind(ABC):
    """An importable kind: `name` as the route names it, the columns, the key column, the schemas that load a row."""

    name: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    #: The key column a repeated or missing key is refused in (the last part of a key of several columns).
    key: ClassVar[str]
    #: The schema fields that together name a record (the key alone unless told).
    key_fields: ClassVar[tuple[str, ...]] = ()
    create_schema: ClassVar[type[Schema]]
    change_schema: ClassVar[type[Schema]]
    loader: ClassVar[type[Loader]]

    @abstractmethod
    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        """Every record as column name -> value, in the order of the key."""

    @property
    def key_parts(self) -> tuple[str, ...]:
        """The fields of the natural key."""
        return self.key_fields or (self.key,)

    def key_of(self, values: Mapping[str, Any]) -> str | None:
        """The row's natural key as one text (the parts joined by `/`), or None when a part is not given."""
        parts = [values.get(name) for name in self.key_parts]
        if any(part is None for part in parts):
            return None
        return "/".join(str(part) for part in parts)

    @property
    def headers(self) -> list[str]:
        """The column names, in the file's order."""
        return [column.name for column in self.columns]
