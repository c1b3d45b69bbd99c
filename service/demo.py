"""The demo data: teams, users, clients with contracts and equipment, and the price list."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Group, User
from service.auth.passwords import hash_password
from service.clients.models import Client, Contact, Contract, Equipment, PriceItem, Site
from service.sla.seed import seed_service_levels
from service.teams.models import Team

TEAMS = ("storage", "servers", "network")
#: The password `orchestrator demo` gives every demo user that has none (set directly: the policy would refuse it).
DEMO_PASSWORD = "demo"
FUNCTIONS = {
    "duty": "Duty officers",
    "consultants": "Consultants (prices and one-off contracts)",
    "rmc": "Resource Management Center",
    "managers": "Managers",
}
# username: (roles, groups, client)
USERS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "duty": ("duty", ("duty",), None),
    "consultant": ("consultant", ("consultants",), None),
    "rmc": ("rmc", ("rmc",), None),
    "manager": ("manager", ("managers",), None),
    "owner": ("process_owner", (), None),
    "analyst": ("analyst", (), None),
    "admin": ("admin", (), None),
    "intake": ("intake", (), None),
    **{f"{team}.l{level}": ("engineer", (f"{team}-L{level}",), None) for team in TEAMS for level in (1, 2, 3)},
    "nordbank": ("client", (), "NORD-BANK"),
    "megaretail": ("client", (), "MEGA-RETAIL"),
}
CLIENTS = {
    "NORD-BANK": "Nord Bank",
    "MEGA-RETAIL": "Mega Retail",
    "GOV-AGENCY": "Government Agency",
    "TELECOM-ONE": "Telecom One",
    "NEW-CLIENT": "New Client",
}
# serial: (client, vendor, model, class)
EQUIPMENT = {
    "IBM-FS5200-0001": ("NORD-BANK", "IBM", "IBM FlashSystem 5200", "storage"),
    "DELL-R750-0001": ("NORD-BANK", "Dell EMC", "Dell EMC PowerEdge R750", "servers"),
    "CISCO-C9300-0001": ("NORD-BANK", "Cisco", "Cisco Catalyst 9300", "network"),
    "DELL-R740-0002": ("MEGA-RETAIL", "Dell EMC", "Dell EMC PowerEdge R740", "servers"),
    "IBM-V7000-0002": ("MEGA-RETAIL", "IBM", "IBM Storwize V7000", "storage"),
    "HPE-DL380-0003": ("GOV-AGENCY", "HPE", "HPE ProLiant DL380", "servers"),
    "HUAWEI-OS-0004": ("TELECOM-ONE", "Huawei", "Huawei OceanStor", "storage"),
    "CISCO-C9300-0005": ("NEW-CLIENT", "Cisco", "Cisco Catalyst 9300", "network"),
}
# (client, code): (name, address, city, access notes, working hours); both in Europe/Moscow
SITES = {
    ("NORD-BANK", "HQ"): (
        "Head office",
        "Tverskaya st. 1",
        "Moscow",
        "Pass at the front desk; ask for the IT duty officer.",
        "Mon-Fri 09:00-18:00",
    ),
    ("NORD-BANK", "DC-2"): (
        "Data centre 2",
        "Kantemirovskaya st. 5",
        "Saint Petersburg",
        "Engineers on the bank's list only; show a passport at the gate.",
        "24/7",
    ),
}
#: Where the demo equipment stands (a serial not named here has no site).
EQUIPMENT_SITES = {"IBM-FS5200-0001": "DC-2", "DELL-R750-0001": "DC-2", "CISCO-C9300-0001": "HQ"}
PRICES = {
    "storage": {"diagnostics": "25000", "labour_hour": "6000", "controller": "450000", "disk drive": "60000"},
    "servers": {"diagnostics": "15000", "labour_hour": "4500", "power supply": "35000", "memory module": "28000"},
    "network": {"diagnostics": "12000", "labour_hour": "4000", "switch module": "90000", "transceiver": "15000"},
}


def _contracts(today: date) -> list[tuple[str, str, date, date, str, str]]:
    year = timedelta(days=365)
    return [
        ("NORD-BANK", "C-NORD-1", today - year, today + year, "storage servers network", "gold"),
        ("MEGA-RETAIL", "C-MEGA-1", today - year, today + year, "servers", "silver"),
        ("GOV-AGENCY", "C-GOV-1", today - 2 * year, today - timedelta(days=30), "servers", "silver"),
        ("TELECOM-ONE", "C-TEL-1", today - year, today + year, "storage", ""),
    ]


def load_demo(session: Session, *, today: date | None = None) -> None:
    """Create whatever of the demo data is missing; running it twice changes nothing."""
    today = today or date.today()
    groups = {group.name: group for group in session.scalars(select(Group))}
    wanted = dict(FUNCTIONS)
    for team in TEAMS:
        for level in (1, 2, 3):
            wanted[f"{team}-L{level}"] = f"{team.capitalize()} team, level {level}"
    for name, title in wanted.items():
        if name not in groups:
            groups[name] = Group(name=name, title=title)
            session.add(groups[name])
    teams = set(session.scalars(select(Team.code)))
    for team in TEAMS:
        if team not in teams:
            session.add(Team(code=team, name=f"{team.capitalize()} team", classes=team))
    clients = {client.code: client for client in session.scalars(select(Client))}
    for code, name in CLIENTS.items():
        if code not in clients:
            clients[code] = Client(code=code, name=name)
            session.add(clients[code])
            session.flush()
            session.add(Contact(client_id=clients[code].id, email=f"it@{code.lower()}.example", name="IT department"))
    session.flush()
    existing_users = set(session.scalars(select(User.username)))
    for username, (roles, group_names, client) in USERS.items():
        if username in existing_users:
            continue
        session.add(
            User(
                username=username,
                display_name=username,
                email=f"{username}@orchestrator.example" if client is None else f"it@{client.lower()}.example",
                roles=roles,
                client_id=clients[client].id if client else None,
                groups=[groups[name] for name in group_names],
            )
        )
    codes = {client.id: code for code, client in clients.items()}
    sites = {(codes[site.client_id], site.code): site for site in session.scalars(select(Site))}
    new_sites = set(SITES) - set(sites)
    for (client, code), (name, address, city, access_notes, working_hours) in SITES.items():
        if (client, code) in new_sites:
            sites[client, code] = Site(
                client_id=clients[client].id,
                code=code,
                name=name,
                address=address,
                city=city,
                time_zone="Europe/Moscow",
                access_notes=access_notes,
                working_hours=working_hours,
            )
            session.add(sites[client, code])
    session.flush()
    for equipment in session.scalars(select(Equipment).where(Equipment.serial.in_(EQUIPMENT_SITES))):
        placed = (EQUIPMENT[equipment.serial][0], EQUIPMENT_SITES[equipment.serial])
        if equipment.site_id is None and placed in new_sites:  # equipment loaded before its site was
            equipment.site_id = sites[placed].id
    serials = set(session.scalars(select(Equipment.serial)))
    for serial, (client, vendor, model, equipment_class) in EQUIPMENT.items():
        if serial not in serials:
            site = sites.get((client, EQUIPMENT_SITES.get(serial, "")))
            session.add(
                Equipment(
                    client_id=clients[client].id,
                    site_id=site.id if site else None,
                    serial=serial,
                    vendor=vendor,
                    model=model,
                    equipment_class=equipment_class,
                )
            )
    numbers = set(session.scalars(select(Contract.number)))
    for client, number, starts, ends, covers, service_level in _contracts(today):
        if number not in numbers:
            session.add(
                Contract(
                    client_id=clients[client].id,
                    number=number,
                    starts_on=starts,
                    ends_on=ends,
                    covers=covers,
                    service_level=service_level,
                )
            )
    priced = set(session.execute(select(PriceItem.equipment_class, PriceItem.item)).tuples())
    for equipment_class, items in PRICES.items():
        for item, price in items.items():
            if (equipment_class, item) not in priced:
                session.add(PriceItem(equipment_class=equipment_class, item=item, price=Decimal(price)))
    session.flush()
    seed_service_levels(session)


def set_demo_passwords(session: Session) -> list[str]:
    """Give every demo user without a password the password `demo`; the names of those that got it."""
    users = session.scalars(select(User).where(User.username.in_(USERS), User.password_hash.is_(None)))
    given = sorted(users, key=lambda user: user.username)
    if given:
        shared = hash_password(DEMO_PASSWORD)  # one hash (with its salt) for all: the demo's users share it anyway
        for user in given:
            user.password_hash = shared
    return [user.username for user in given]
