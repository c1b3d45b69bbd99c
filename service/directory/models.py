"""The change history of directory records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class ChangeRecord(Base):
    """One change of one record: who, when, what it was before and what it is after (only the fields that changed)."""

    __tablename__ = "change_record"
    __table_args__ = (Index("ix_change_record_kind_key", "kind", "record_key", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: client, site, contact, equipment, contract, one_off_contract, price_item, team, user.
    kind: Mapped[str] = mapped_column(String(30))
    #: The record's natural key as its route names it (`NORD-BANK`, `NORD-BANK/HQ`, a serial, a username).
    record_key: Mapped[str] = mapped_column(String(300))
    #: created, updated, deactivated, reactivated, deleted, merged.
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: Set when the change came from a file import (its file name), so an import can be traced.
    source: Mapped[str] = mapped_column(String(200), default="")
