"""Planned preventive maintenance: one row per covered item and period, the ticket opened for it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class MaintenanceVisit(Base):
    """The maintenance of one equipment item of a contract for the period due on `due_on`: written with its ticket,
    once (the unique key keeps a second run, or a second worker, from opening another)."""

    __tablename__ = "maintenance_visit"
    __table_args__ = (UniqueConstraint("contract_id", "equipment_id", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))
    due_on: Mapped[date]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
