"""What every directory record goes through when it changes: its version check, its history, the refusal to delete
what something still refers to.

A record's ETag is its version (`"<id>.<version>"`); a change names the version it was made from in `If-Match`, and
one made from an older version is refused with 412, so two administrators editing the same record cannot overwrite
each other. The version column also catches the two that pass the check at the same moment (the second gets 409).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db import Base
from service.directory.models import ChangeRecord
from service.errors import Conflict, PreconditionFailed, PreconditionRequired
from service.paging import Page, keyset_page


class Action(str, Enum):
    """What a change did to a record."""

    CREATED = "created"
    UPDATED = "updated"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    DELETED = "deleted"
    #: One record was merged into another (a contact intake created twice): both records' histories say so.
    MERGED = "merged"


def etag(record: Base) -> str:
    """The record's entity tag, quoted as HTTP writes it."""
    return f'"{record.id}.{record.version}"'  # type: ignore[attr-defined]


def check_version(record: Base, if_match: str | None) -> None:
    """Refuse a change without `If-Match` (428) or made from another version than the current one (412)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired("send If-Match with the ETag of the version you read (GET the record first)")
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in tags and etag(record) not in tags:
        raise PreconditionFailed(
            "the record changed since you read it; read it again and repeat your change", etag=etag(record)
        )


def plain(value: Any) -> Any:
    """A value as JSON keeps it in the history."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    return value


def snapshot(record: Base, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a record as plain values."""
    return {name: plain(getattr(record, name)) for name in fields}


def record_change(
    session: Session,
    *,
    kind: str,
    key: str,
    actor: str,
    action: Action,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    source: str = "",
) -> None:
    """Write one change to the history."""
    session.add(
        ChangeRecord(
            kind=kind,
            record_key=key,
            actor=actor,
            action=action.value,
            before=dict(before) if before is not None else None,
            after=dict(after) if after is not None else None,
            source=source,
        )
    )


def apply_changes(record: Base, changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the fields that differ; the before and after of just those (both empty when nothing changed)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(record, name)
        if plain(old) != plain(value):
            before[name], after[name] = plain(old), plain(value)
            setattr(record, name, value)
    return before, after


def create(
    session: Session,
    record: Base,
    *,
    kind: str,
    key: str,
    actor: str,
    fields: Iterable[str] = (),
    shown: Callable[[Any], Mapping[str, Any]] | None = None,
    source: str = "",
) -> None:
    """Add a new record and record its creation with the values it starts with: its `fields` by name, or what
    `shown` makes of it (for a record that shows others by their codes, not their ids)."""
    session.add(record)
    session.flush()
    after = shown(record) if shown is not None else snapshot(record, fields)
    record_change(
        session, kind=kind, key=key, actor=actor, action=Action.CREATED, before=None, after=after, source=source
    )


def update(
    session: Session,
    record: Base,
    *,
    kind: str,
    key: str,
    actor: str,
    if_match: str | None,
    changes: Mapping[str, Any],
    source: str = "",
) -> bool:
    """Change a record from the version the caller read, and record what changed; False when nothing did."""
    check_version(record, if_match)
    return record_update(session, record, kind=kind, key=key, actor=actor, changes=changes, source=source)


def record_update(
    session: Session,
    record: Base,
    *,
    kind: str,
    key: str,
    actor: str,
    changes: Mapping[str, Any],
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    source: str = "",
) -> bool:
    """Set the fields of `changes` that differ and record them together with the `before` and `after` of fields the
    caller set itself (a list of items, a site by its code), once its version was checked; False when nothing
    changed."""
    changed_before, changed_after = apply_changes(record, changes)
    before = {**(before or {}), **changed_before}
    after = {**(after or {}), **changed_after}
    if not after:
        return False
    action = Action.UPDATED
    if set(after) == {"active"}:
        action = Action.REACTIVATED if after["active"] else Action.DEACTIVATED
    record_change(session, kind=kind, key=key, actor=actor, action=action, before=before, after=after, source=source)
    session.flush()
    return True


def references(session: Session, record: Base) -> dict[str, int]:
    """How many rows of each other table refer to the record (by any foreign key), the empty ones left out."""
    table = record.__table__  # type: ignore[attr-defined]
    found: dict[str, int] = {}
    for other in Base.metadata.sorted_tables:
        for key in other.foreign_keys:
            if key.column.table is not table or key.ondelete == "CASCADE":
                continue
            count = session.scalar(
                select(func.count()).select_from(other).where(key.parent == getattr(record, key.column.key))
            )
            if count:
                found[other.name] = found.get(other.name, 0) + int(count)
    return found


def delete(session: Session, record: Base, *, kind: str, key: str, actor: str, if_match: str | None) -> None:
    """Delete a record nothing refers to; 409 naming what refers to it otherwise (deactivate it instead)."""
    check_version(record, if_match)
    found = references(session, record)
    if found:
        named = ", ".join(f"{count} {table}" for table, count in sorted(found.items()))
        raise Conflict(f"the {kind} {key} is referred to by {named}; deactivate it instead", references=found)
    record_change(session, kind=kind, key=key, actor=actor, action=Action.DELETED, before={"key": key}, after=None)
    session.delete(record)
    session.flush()


def history(session: Session, *, kind: str, key: str, cursor: str | None, page_size: int) -> Page[ChangeRecord]:
    """The changes of one record, oldest first."""
    query = select(ChangeRecord).where(ChangeRecord.kind == kind, ChangeRecord.record_key == key)
    return keyset_page(session, query, key=ChangeRecord.id, cursor=cursor, page_size=page_size)
