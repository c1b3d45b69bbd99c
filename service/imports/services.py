"""Importing a file of a kind of record and exporting that kind in the same columns.

Each row is matched on the kind's natural key and comes out created, updated, unchanged or refused (with its row
number, the column and the reason). The whole file runs inside one savepoint: in the `all_or_nothing` mode (the
default) a single refusal, like a dry run, rolls every row back; in the `valid_rows` mode each row has a savepoint
of its own and the valid rows are kept. The file's records are looked up in one query per table, not per row, and
new rows are written in batches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.context import Context
from service.directory.records import plain
from service.errors import Invalid, NotFound, ServiceError
from service.imports.cells import CellError, is_empty
from service.imports.kinds import Column, Kind, written
from service.imports.kinds.clients import Clients
from service.imports.kinds.contacts import Contacts
from service.imports.kinds.contracts import Contracts
from service.imports.kinds.equipment import EquipmentKind
from service.imports.kinds.prices import PriceList
from service.imports.kinds.sites import Sites
from service.imports.kinds.tickets import TicketKind
from service.imports.kinds.users import Users
from service.imports.reading import Table, read_table

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (Clients(), Sites(), Contacts(), EquipmentKind(), Contracts(), PriceList(), Users(), TicketKind())
}
#: New rows written per flush.
BATCH = 500
#: How often (in rows) the progress callback is told.
PROGRESS_EVERY = 100


class Outcome(str, Enum):
    """What the import did with a row."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


class Mode(str, Enum):
    """What a refused row does to the others."""

    ALL_OR_NOTHING = "all_or_nothing"
    VALID_ROWS = "valid_rows"


@dataclass(frozen=True)
class Refusal:
    """Why a row was refused: its spreadsheet row number, its key, the column (None: the whole row), the reason."""

    row: int
    key: str | None
    column: str | None
    reason: str


@dataclass
class Report:
    """What an import did (or, in a dry run or when refused in the all-or-nothing mode, would have done)."""

    kind: str
    file: str
    dry_run: bool
    mode: Mode
    applied: bool = False
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {outcome.value: 0 for outcome in Outcome})
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def refused(self) -> int:
        """How many rows were refused."""
        return self.counts[Outcome.REFUSED.value]

    def errors(self) -> dict[str, dict[str, list[str]]]:
        """The refusals as a problem's `errors`: `row N` -> column (or `row`) -> reasons."""
        found: dict[str, dict[str, list[str]]] = {}
        for refusal in self.refusals:
            found.setdefault(f"row {refusal.row}", {}).setdefault(refusal.column or "row", []).append(refusal.reason)
        return found


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    problems: dict[str, str]


def kind_of(name: str) -> Kind:
    """The importable kind of that name (404 naming the kinds otherwise)."""
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(f"no importable kind {name!r}: one of {', '.join(sorted(KINDS))}")
    return kind


def match_header(kind: Kind, header: list[str]) -> list[Column | None]:
    """The column of each cell of the header (None for an unnamed one); one 422 naming the expected columns when
    a column is unknown, repeated or missing. Names are trimmed and read case-insensitively."""
    by_name = {column.name: column for column in kind.columns}
    names = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
    unknown = [name for name in names if name and name not in by_name]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    missing = [column.name for column in kind.columns if column.required and column.name not in names]
    if unknown or repeated or missing:
        problems = []
        if unknown:
            problems.append(f"unknown: {', '.join(unknown)}")
        if repeated:
            problems.append(f"repeated: {', '.join(repeated)}")
        if missing:
            problems.append(f"missing: {', '.join(missing)}")
        required = [column.name for column in kind.columns if column.required]
        raise Invalid(
            f"the header of a {kind.name} file names the columns {', '.join(kind.headers)} "
            f"(required: {', '.join(required)}); this one has columns {'; '.join(problems)}",
            errors={"header": problems},
            expected=kind.headers,
            required=required,
            unknown=unknown or None,
            missing=missing or None,
        )
    return [by_name[name] if name else None for name in names]


def _parse(kind: Kind, columns: list[Column | None], number: int, cells: list[Any]) -> _Row:
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for index, column in enumerate(columns):
        cell = cells[index] if index < len(cells) else None
        if column is None or is_empty(cell):
            continue  # an empty cell gives no value: a new record takes the default, a known one keeps its own
        try:
            values[column.target] = column.parse(cell)
        except CellError as error:
            problems[column.name] = str(error)
    if kind.key_of(values) is None:
        for column in kind.columns:
            if column.target in kind.key_parts and column.required and column.target not in values:
                problems.setdefault(column.name, f"the {column.name} is empty: every row needs one")
    return _Row(number, values, problems)


def _messages(found: Any) -> str:
    if isinstance(found, dict):
        return "; ".join(f"{key}: {_messages(value)}" for key, value in found.items())
    if isinstance(found, (list, tuple)):
        return "; ".join(_messages(value) for value in found)
    return str(found)


def _same(value: Any) -> Any:
    """A value as compared with the record's: a list in any order is the same list (roles, covered classes)."""
    found = plain(value)
    if isinstance(found, list):
        return sorted(found, key=str)
    return found


class _Run:
    """One import: the rows, their outcomes, the savepoint they are written in."""

    def __init__(self, session: Session, kind: Kind, report: Report, user: Caller, ctx: Context | None) -> None:
        self.session = session
        self.kind = kind
        self.report = report
        self.loader = kind.loader(session, user=user, source=report.file, ctx=ctx)
        self.columns_of = {column.target: column.name for column in kind.columns}
        self.pending = 0
        self.create_schema = kind.create_schema()  # one instance for the run: making one costs more than a load
        self.change_schema = kind.change_schema()

    def refuse(self, row: _Row, problems: Mapping[str, Any]) -> None:
        key = self.kind.key_of(row.values)
        for name, reason in problems.items():
            column = self.columns_of.get(name, name) if name not in ("_schema", "row") else None
            self.report.refusals.append(Refusal(row.number, key, column, _messages(reason)))
        self.report.counts[Outcome.REFUSED.value] += 1

    def count(self, outcome: Outcome) -> None:
        self.report.counts[outcome.value] += 1

    def row(self, row: _Row, seen: dict[str, int]) -> None:
        """Check and write one row (the caller gives a failed flush its refusal)."""
        if row.problems:
            return self.refuse(row, row.problems)
        key = self.kind.key_of(row.values)
        assert key is not None  # a row without its key has a problem
        if key in seen:
            named = " + ".join(self.columns_of.get(name, name) for name in self.kind.key_parts)
            return self.refuse(row, {self.kind.key: f"the {named} {key} is on row {seen[key]} already"})
        seen[key] = row.number
        record = self.loader.find(key)
        parts = self.kind.key_parts
        if record is None:  # the key's fields the create schema does not load (a site's client) go on as read
            schema = self.create_schema
            data = {name: value for name, value in row.values.items() if name in schema.fields or name not in parts}
            extra = {name: row.values[name] for name in parts if name not in schema.fields}
        else:  # what a record never changes (a contract's client) goes on as read, for the loader to check
            schema = self.change_schema
            data = {name: value for name, value in row.values.items() if name not in parts}
            extra = {name: data.pop(name) for name in list(data) if name not in schema.fields}
        try:
            loaded = {**schema.load(data), **extra}
        except ValidationError as error:
            return self.refuse(row, error.normalized_messages())
        problems = self.loader.check(loaded, record)
        if problems:
            return self.refuse(row, problems)
        if record is None:
            self.write(row, lambda: self.loader.create(loaded), Outcome.CREATED)
            return None
        current = self.loader.current(record)
        changes = {name: value for name, value in loaded.items() if _same(value) != _same(current.get(name))}
        if not changes:
            return self.count(Outcome.UNCHANGED)
        self.write(row, lambda: self.loader.update(record, changes), Outcome.UPDATED)
        return None

    def write(self, row: _Row, action: Callable[[], None], outcome: Outcome) -> None:
        if self.report.mode is Mode.VALID_ROWS:
            savepoint = self.session.begin_nested()
            try:
                action()
                savepoint.commit()
            except IntegrityError:
                savepoint.rollback()
                return self.refuse(row, {"row": "the database refused the row (a concurrent change?)"})
            except ServiceError as error:
                savepoint.rollback()
                return self.refuse(row, error.extra.get("errors") or {"row": error.detail})
            return self.count(outcome)
        try:
            action()
        except ServiceError as error:
            return self.refuse(row, error.extra.get("errors") or {"row": error.detail})
        self.count(outcome)
        self.pending += 1
        if self.pending >= BATCH:
            self.loader.flush()
            self.pending = 0
        return None


def import_file(
    session: Session,
    *,
    user: Caller,
    kind: str,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    mode: Mode = Mode.ALL_OR_NOTHING,
    progress: Callable[[int, int], None] | None = None,
    ctx: Context | None = None,
) -> Report:
    """Import a CSV or XLSX file of a kind; the report says what each row came to and whether anything was written."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    spec = kind_of(kind)
    table: Table = read_table(data)
    columns = match_header(spec, table.header)
    rows = [_parse(spec, columns, number, cells) for number, cells in table.rows]
    report = Report(kind=spec.name, file=filename, dry_run=dry_run, mode=mode, rows=len(rows))
    run = _Run(session, spec, report, user, ctx)
    savepoint = session.begin_nested()
    keys = sorted({key for key in (spec.key_of(row.values) for row in rows) if key is not None})
    run.loader.preload(keys, [row.values for row in rows if not row.problems])
    seen: dict[str, int] = {}
    done = 0
    try:
        for done, row in enumerate(rows, start=1):
            run.row(row, seen)
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, len(rows))
        run.loader.flush()
    except IntegrityError:
        savepoint.rollback()
        last = rows[done - 1] if rows else _Row(1, {}, {})
        run.refuse(last, {"row": f"the database refused the rows up to row {last.number}: a concurrent change?"})
        return report
    if progress is not None:
        progress(len(rows), len(rows))
    if dry_run or (report.refused and mode is Mode.ALL_OR_NOTHING):
        savepoint.rollback()
    else:
        savepoint.commit()
        report.applied = True
    return report


def export_csv(session: Session, *, user: Caller, kind: str) -> str:
    """Every record of a kind as CSV in the import's columns: UTF-8 with a BOM and `;`, as Excel opens it; the file
    imports back as all unchanged."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    spec = kind_of(kind)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(spec.headers)
    for row in spec.export_rows(session):
        writer.writerow([written(row.get(name)) for name in spec.headers])
    return "\ufeff" + buffer.getvalue()
