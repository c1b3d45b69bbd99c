"""Saved filters: a person keeps a set of "My work" filters and its order under a name and picks it later.

A saved filter is the query string of the inbox (its filters and `sort`, never a cursor), kept as written: the
inbox reads it as it reads any query, so a value that no longer fits is ignored by the page and refused by the API
like a typed one. Each person sees, saves and deletes only their own.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.errors import Invalid, NotFound
from service.tasks.inbox import FILTERS
from service.tasks.models import SavedFilter

#: What a saved filter may hold: the inbox's filters and its order.
KEYS = (*FILTERS, "sort")
#: The most saved filters one person keeps.
MAX_FILTERS = 50


def normal_query(text: str) -> str:
    """The query string with only the inbox's keys, each once, empty ones dropped, in a fixed order; Invalid for
    another key or a repeated one."""
    pairs = parse_qsl(text.lstrip("?"), keep_blank_values=True)
    keys = [key for key, _value in pairs]
    unknown = sorted(set(keys) - set(KEYS))
    if unknown:
        raise Invalid("the query holds what the inbox does not filter by", errors={"query": [f"unknown: {unknown}"]})
    if len(keys) != len(set(keys)):
        raise Invalid("the query repeats a filter", errors={"query": ["each filter at most once"]})
    given = dict(pairs)
    return urlencode([(key, given[key].strip()) for key in KEYS if given.get(key, "").strip()])


def list_filters(session: Session, *, user: Caller) -> list[SavedFilter]:
    """The person's saved filters by name."""
    query = select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name, SavedFilter.id)
    return list(session.scalars(query))


def save_filter(session: Session, *, user: Caller, name: str, query: str) -> SavedFilter:
    """Keep the query under the name (a filter of that name already the person's is replaced)."""
    text = normal_query(query)
    found = session.scalars(
        select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name)
    ).one_or_none()
    if found is not None:
        found.query = text
        session.flush()
        return found
    if len(list_filters(session, user=user)) >= MAX_FILTERS:
        raise Invalid(f"at most {MAX_FILTERS} saved filters", errors={"name": ["delete one first"]})
    saved = SavedFilter(user_id=user.id, name=name, query=text)
    session.add(saved)
    session.flush()
    return saved


def get_filter(session: Session, *, user: Caller, filter_id: int) -> SavedFilter:
    """One of the person's saved filters (404 for anyone else's, as for one that does not exist)."""
    found = session.get(SavedFilter, filter_id)
    if found is None or found.user_id != user.id:
        raise NotFound(f"no saved filter {filter_id}")
    return found


def delete_filter(session: Session, *, user: Caller, filter_id: int) -> None:
    """Forget one of the person's saved filters."""
    session.delete(get_filter(session, user=user, filter_id=filter_id))
    session.flush()
