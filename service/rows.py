"""Rows written past the ORM's unit of work: what a step adds and changes (history, tasks, jobs, clocks, the
instance's document, the ticket), each in one statement built once for its shape. The flush of those few rows was a
fifth of a worker's CPU; these writers send the same statements with a fraction of its Python."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, TextClause, Update, bindparam, insert, inspect, text, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from service.db import Base


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert rows that the transaction only adds and never changes (history, decisions, jobs, new clocks) in one
    statement, past the ORM's unit of work: a fifth of its Python calls per row. Column defaults apply; the rows they
    refer to must already be in the database (flushed), and every row must name the same columns."""
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[arg-type]


def insert_rows_for_ids(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows as `insert_rows` does; the ids the database gave them, in the order of `rows`."""
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[assignment]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows).scalars())


def insert_object(session: Session, obj: Base) -> None:
    """Insert a new object's row now, in one INSERT ... RETURNING built once for each table, past the ORM's unit of
    work; the object is then in the session as if read from it, with what the column defaults and the database
    gave it (its id, a computed column). Its relationships are not written: give the ids of the rows it refers to."""
    state = inspect(obj)
    mapper = state.mapper
    table: Table = mapper.local_table  # type: ignore[assignment]
    attrs = mapper.column_attrs
    given = {attr.columns[0].key: state.dict[attr.key] for attr in attrs if attr.key in state.dict}
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = insert(table).returning(*table.c)
    row = session.connection().execute(statement, given).one()._mapping
    for attr in attrs:
        state.dict[attr.key] = row[attr.columns[0]]
    make_transient_to_detached(obj)
    session.add(obj)


_INSERTS: dict[Table, Insert] = {}


def upsert_rows(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    *,
    update: tuple[str, ...],
    on: tuple[str, ...] = (),
    where: str = "",
) -> None:
    """Insert rows in one statement; where a row with the same key (`on`: the primary key unless told) is there,
    set its `update` columns from the row instead (only where the stored row meets `where`, an SQL condition, when
    given): the ended tasks of a step with its new ones, a ticket's due warnings and breaches. Every row names the
    same columns. Written out, and built once for each shape, as SQLAlchemy compiles an `ON CONFLICT` insert anew
    at each call."""
    if rows:
        statement = _upsert(model.__table__, len(rows), tuple(rows[0]), update, on, where)  # type: ignore[arg-type]
        session.execute(statement, {f"r{n}_{name}": value for n, row in enumerate(rows) for name, value in row.items()})


@cache
def _upsert(
    table: Table, count: int, names: tuple[str, ...], update: tuple[str, ...], on: tuple[str, ...], where: str
) -> TextClause:
    columns = [table.c[name] for name in names]
    values = ", ".join("(" + ", ".join(f":r{n}_{column.name}" for column in columns) + ")" for n in range(count))
    key = on or tuple(column.name for column in table.primary_key)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {values} ON CONFLICT ({', '.join(key)}) "
        f"DO UPDATE SET {', '.join(f'{name} = excluded.{name}' for name in update)}"
        + (f" WHERE {where}" if where else "")
    )
    params = (bindparam(f"r{n}_{column.name}", type_=column.type) for n in range(count) for column in columns)
    return text(sql).bindparams(*params)


def mark_stored(session: Session, *objects: Base) -> None:
    """Take loaded objects' values as what their rows hold, the caller having written them: the flush has nothing
    left to write of their columns (a changed relationship is still its)."""
    for obj in objects:
        state = inspect(obj)
        if all(key in state.mapper.column_attrs for key in state.committed_state):
            state._commit_all(state.dict, session.identity_map)  # noqa: SLF001 - as the flush does after its write


def write_changes(session: Session, *objects: Base) -> None:
    """Write what changed in loaded objects' columns now, past the ORM's unit of work: one UPDATE by primary key
    for the objects of a table, setting every column any of them changed (built once for each set of columns): two
    clocks of a ticket, one stopped and one counting on, are one statement (a column one row did not change is
    written as it was loaded: the rows must be the caller's alone, under its lock). The objects then hold the values as
    stored, and the flush has nothing left to write of them. A versioned row (`version_id_col`) is written only at
    the version read, and counts it up. A row another transaction changed (its version moved on) or deleted meanwhile
    raises StaleDataError, as the flush would. A changed relationship is left to the flush."""
    changes = []
    for obj in objects:
        state = inspect(obj)
        attrs = state.mapper.column_attrs
        changed = {key for key in state.committed_state if key in attrs and state.attrs[key].history.added}
        if changed:
            changes.append((state, changed))
    of_table: dict[Any, set[str]] = {}
    for state, changed in changes:
        of_table.setdefault(state.mapper.local_table, set()).update(changed)
    batches: dict[tuple[Table, tuple[str, ...], Any], list[tuple[Any, dict[str, Any]]]] = {}
    for state, changed in changes:
        written = of_table[state.mapper.local_table]
        if not written <= state.dict.keys():  # a column not loaded: only what this object changed
            written = changed
        shape, params = _update_of(state, sorted(written))
        batches.setdefault(shape, []).append((state, params))
    connection = session.connection() if batches else None
    for (table, columns, version), rows in batches.items():
        matched = connection.execute(  # type: ignore[union-attr]
            _update_by_key(table, columns, version), [params for _, params in rows]
        ).rowcount
        if matched != len(rows) and (len(rows) == 1 or connection.dialect.supports_sane_multi_rowcount):  # type: ignore[union-attr]
            raise StaleDataError(f"{table.name}: {len(rows)} row(s) to update, {matched} matched: changed meanwhile")
        for state, params in rows:
            if version is not None:
                state.dict[state.mapper.get_property_by_column(version).key] = params["version_new"]
    mark_stored(session, *objects)


def _update_of(state: Any, changed: list[str]) -> tuple[tuple[Table, tuple[str, ...], Any], dict[str, Any]]:
    """The shape of the object's UPDATE (its table, the columns it sets, its version column) and its parameters."""
    mapper = state.mapper
    columns = tuple(mapper.column_attrs[key].columns[0].key for key in changed)
    params = {f"set_{name}": state.dict[key] for name, key in zip(columns, changed, strict=True)}
    for column in mapper.primary_key:
        params[f"key_{column.key}"] = state.dict[mapper.get_property_by_column(column).key]
    version = mapper.version_id_col
    if version is not None:
        old = state.dict[mapper.get_property_by_column(version).key]
        params["version_old"], params["version_new"] = old, mapper.version_id_generator(old)
    return (mapper.local_table, columns, version), params


_UPDATES: dict[tuple[Table, tuple[str, ...], bool], Update] = {}


def _update_by_key(table: Table, columns: tuple[str, ...], version: Any) -> Update:
    """The UPDATE of `columns` of one row by its primary key (and version), built once for each set of columns."""
    key = (table, columns, version is not None)
    statement = _UPDATES.get(key)
    if statement is None:
        where = [column == bindparam(f"key_{column.key}") for column in table.primary_key]
        values: dict[str, Any] = {name: bindparam(f"set_{name}") for name in columns}
        if version is not None:
            where.append(version == bindparam("version_old"))
            values[version.key] = bindparam("version_new")
        statement = _UPDATES[key] = update(table).where(*where).values(values)
    return statement
