"""Clients, their contacts, installed equipment, contracts, and the price list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base


class Client(Base):
    """A company the service desk supports."""

    __tablename__ = "client"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contracts: Mapped[list[Contract]] = relationship(lazy="selectin", order_by="Contract.ends_on")


class Contact(Base):
    """A person at a client; contacts created by intake wait for a duty officer to confirm them."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("client_id", "email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    confirmed: Mapped[bool] = mapped_column(default=True)


class Equipment(Base):
    """A piece of installed equipment at a client's site."""

    __tablename__ = "equipment"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    serial: Mapped[str] = mapped_column(String(80), unique=True)
    vendor: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(200))
    #: storage, servers or network: the class product teams specialise in.
    equipment_class: Mapped[str] = mapped_column(String(40))


class Contract(Base):
    """A service contract: its term, the equipment classes it covers and its service level."""

    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    #: Space-separated equipment classes.
    covers: Mapped[str] = mapped_column(String(200), default="")
    service_level: Mapped[str] = mapped_column(String(40), default="")

    def in_force(self, day: date) -> bool:
        """True when `day` falls inside the contract's term."""
        return self.starts_on <= day <= self.ends_on

    def covers_class(self, equipment_class: str) -> bool:
        """True when the contract covers that equipment class."""
        return equipment_class in self.covers.split()


class PriceItem(Base):
    """One line of the price list consultants price per-call work from."""

    __tablename__ = "price_item"
    __table_args__ = (UniqueConstraint("equipment_class", "item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_class: Mapped[str] = mapped_column(String(40), index=True)
    item: Mapped[str] = mapped_column(String(120))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
