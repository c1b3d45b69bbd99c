"""Clients, their sites and contacts, installed equipment, contracts (yearly and one-off), and the price list."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow

if TYPE_CHECKING:
    from service.tickets.models import Ticket

#: The equipment items a contract names one by one (beside, or instead of, whole equipment classes).
contract_equipment = Table(
    "contract_equipment",
    Base.metadata,
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
    Column("equipment_id", ForeignKey("equipment.id"), primary_key=True, index=True),
)


class Client(Base):
    """A company the service desk supports."""

    __tablename__ = "client"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The Russian tax number (INN): 10 digits for a company, 12 for a sole trader; checked by its control digits.
    inn: Mapped[str | None] = mapped_column(String(12), default=None)
    #: bank, retail, state, industry, telecom or other (`service.clients.sectors`).
    sector: Mapped[str] = mapped_column(String(20), default="other")
    active: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    contracts: Mapped[list[Contract]] = relationship(lazy="selectin", order_by="Contract.ends_on")

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Site(Base):
    """An address of a client where equipment stands, with how and when engineers may get in."""

    __tablename__ = "site"
    __table_args__ = (UniqueConstraint("client_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    #: Short and unique within the client (`HQ`, `DC-2`).
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    #: An IANA zone (`Europe/Moscow`): the site's working hours are read in it.
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    access_notes: Mapped[str] = mapped_column(Text, default="")
    #: As people write them (`Mon-Fri 09:00-18:00`).
    working_hours: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    #: Not joined: a site is mostly read through its equipment or its client, whose client is loaded already (a join
    #: would load that client's contracts a second time with every ticket).
    client: Mapped[Client] = relationship()

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Contact(Base):
    """A person at a client; contacts created by intake wait for a duty officer to confirm them."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("client_id", "email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    #: ru or en: the language of the mails the contact gets.
    language: Mapped[str] = mapped_column(String(2), default="ru")
    confirmed: Mapped[bool] = mapped_column(default=True)
    #: May sign in to the client portal (as a user of the client's company).
    portal_access: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Equipment(Base):
    """A piece of installed equipment at a client's site."""

    __tablename__ = "equipment"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True, default=None)
    serial: Mapped[str] = mapped_column(String(80), unique=True)
    vendor: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(200))
    #: storage, servers or network: the class product teams specialise in.
    equipment_class: Mapped[str] = mapped_column(String(40))
    installed_on: Mapped[date | None] = mapped_column(default=None)
    warranty_ends_on: Mapped[date | None] = mapped_column(default=None)
    #: in_service or retired; a retired item keeps its tickets.
    status: Mapped[str] = mapped_column(String(20), default="in_service")
    version: Mapped[int] = mapped_column(default=1)
    site: Mapped[Site | None] = relationship(lazy="joined")
    #: Read only: an item never moves to another client.
    client: Mapped[Client] = relationship(viewonly=True)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Contract(Base):
    """A service contract: its term, what it covers (equipment classes and named items) and its service level."""

    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    #: Space-separated equipment classes.
    covers: Mapped[str] = mapped_column(String(200), default="")
    service_level: Mapped[str] = mapped_column(String(40), default="")
    parts_included: Mapped[bool] = mapped_column(default=False)
    #: active, suspended or terminated; only an active contract entitles.
    status: Mapped[str] = mapped_column(String(20), default="active")
    #: Planned preventive maintenance: every so many months (None: the contract includes none), next due on.
    maintenance_every_months: Mapped[int | None] = mapped_column(default=None)
    maintenance_next_on: Mapped[date | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    #: Loaded when read: entitlement needs them only when the contract does not cover the class.
    items: Mapped[list[Equipment]] = relationship(secondary=contract_equipment, order_by=Equipment.id)
    client: Mapped[Client] = relationship(viewonly=True)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    @property
    def covered_classes(self) -> list[str]:
        """The equipment classes the contract covers."""
        return self.covers.split()

    @property
    def item_serials(self) -> list[str]:
        """The serials of the equipment items the contract names."""
        return [item.serial for item in self.items]

    def in_force(self, day: date) -> bool:
        """True when `day` falls inside the contract's term."""
        return self.starts_on <= day <= self.ends_on

    def covers_class(self, equipment_class: str) -> bool:
        """True when the contract covers that equipment class."""
        return equipment_class in self.covers.split()

    def covers_equipment(self, equipment: Equipment | None) -> bool:
        """True when the contract covers the item: its class, or the item named one by one."""
        if equipment is None:
            return False
        return self.covers_class(equipment.equipment_class) or any(item.id == equipment.id for item in self.items)

    def entitles(self, day: date) -> bool:
        """True when the contract is active and in force on `day`: only such a contract entitles."""
        return self.status == "active" and self.in_force(day)


class OneOffContract(Base):
    """The contract of one per-call job: recorded when the client accepts the estimate of a ticket."""

    __tablename__ = "one_off_contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Its own series (`PC-2026-000001`), apart from the yearly contracts' numbers.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    #: The estimate's lines as accepted: item, quantity, price, amount.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    accepted_by: Mapped[str] = mapped_column(String(200), default="")
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid: Mapped[bool] = mapped_column(default=False)
    paid_on: Mapped[date | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    client: Mapped[Client] = relationship(lazy="joined")
    ticket: Mapped[Ticket] = relationship(lazy="joined")

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class PriceItem(Base):
    """One price of the list consultants price per-call work from, valid from a day until the next price of the
    same item; old prices stay, so an estimate shows the prices valid on its ticket's date."""

    __tablename__ = "price_item"
    __table_args__ = (UniqueConstraint("equipment_class", "vendor", "model", "item", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_class: Mapped[str] = mapped_column(String(40), index=True)
    #: Empty for a price of the whole class; a vendor (and a model) narrow it.
    vendor: Mapped[str] = mapped_column(String(80), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    item: Mapped[str] = mapped_column(String(120))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    valid_from: Mapped[date] = mapped_column(default=date(2000, 1, 1))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}
