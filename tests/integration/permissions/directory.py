"""The directory and sign-in: clients, sites, contacts, price lists, one-off contracts, imports, teams, people,
equipment, contracts, tokens and invitations."""

from __future__ import annotations

from tests.integration.permissions.cases import (
    ADMINS,
    ANY_VERSION,
    CLIENT_USERS,
    CONTACT_EDITORS,
    CONTRACT_READERS,
    DIRECTORY_READERS,
    EQUIPMENT_ADDERS,
    EVERYONE,
    NEW_CONTRACT,
    NEW_ITEM,
    NORD_IT,
    PEOPLE_READERS,
    Case,
)

CASES = [
    Case("GET", "/clients", "/clients", DIRECTORY_READERS),
    Case("POST", "/clients", "/clients", ADMINS, body={"code": "MATRIX-NEW", "name": "Matrix"}),
    Case("GET", "/clients/<code>", "/clients/NORD-BANK", DIRECTORY_READERS),
    Case("PATCH", "/clients/<code>", "/clients/NORD-BANK", ADMINS, body={"notes": "matrix"}, headers=ANY_VERSION),
    Case("DELETE", "/clients/<code>", "/clients/MATRIX-SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/clients/<code>/history", "/clients/NORD-BANK/history", DIRECTORY_READERS),
    Case("GET", "/price-list", "/price-list?on=2026-03-02", DIRECTORY_READERS),
    Case(
        "POST",
        "/price-list",
        "/price-list",
        ADMINS,
        body={"equipment_class": "storage", "item": "matrix", "price": "10.00", "valid_from": "2026-01-01"},
    ),
    Case("GET", "/price-list/<int:price_id>", "/price-list/{price}", DIRECTORY_READERS),
    Case(
        "PATCH", "/price-list/<int:price_id>", "/price-list/{price}", ADMINS, body={"price": "11"}, headers=ANY_VERSION
    ),
    Case("DELETE", "/price-list/<int:price_id>", "/price-list/{spare_price}", ADMINS, headers=ANY_VERSION),
    Case("GET", "/price-list/<int:price_id>/history", "/price-list/{price}/history", DIRECTORY_READERS),
    Case("GET", "/one-off-contracts", "/one-off-contracts", CONTRACT_READERS | CLIENT_USERS),
    # The contract is NEW-CLIENT's: the client users of other companies are told it does not exist.
    Case("GET", "/one-off-contracts/<number>", "/one-off-contracts/{contract}", CONTRACT_READERS, CLIENT_USERS),
    Case(
        "PATCH",
        "/one-off-contracts/<number>",
        "/one-off-contracts/{contract}",
        ADMINS,
        body={"paid": True},
        headers=ANY_VERSION,
    ),
    Case(
        "GET",
        "/one-off-contracts/<number>/history",
        "/one-off-contracts/{contract}/history",
        CONTRACT_READERS,
        CLIENT_USERS,
    ),
    Case("GET", "/clients/<code>/sites", "/clients/NORD-BANK/sites", DIRECTORY_READERS),
    Case("POST", "/clients/<code>/sites", "/clients/NORD-BANK/sites", ADMINS, body={"code": "MATRIX", "name": "M"}),
    Case("GET", "/clients/<code>/sites/<site>", "/clients/NORD-BANK/sites/HQ", DIRECTORY_READERS),
    Case(
        "PATCH",
        "/clients/<code>/sites/<site>",
        "/clients/NORD-BANK/sites/HQ",
        ADMINS,
        body={"access_notes": "matrix"},
        headers=ANY_VERSION,
    ),  # fmt: skip
    Case("DELETE", "/clients/<code>/sites/<site>", "/clients/NORD-BANK/sites/SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/clients/<code>/sites/<site>/history", "/clients/NORD-BANK/sites/HQ/history", DIRECTORY_READERS),
    Case("GET", "/clients/<code>/contacts", "/clients/NORD-BANK/contacts?confirmed=false", DIRECTORY_READERS),
    Case(
        "POST",
        "/clients/<code>/contacts",
        "/clients/NORD-BANK/contacts",
        CONTACT_EDITORS,
        body={"email": "{new_contact}", "name": "Matrix"},
    ),  # fmt: skip
    Case("GET", "/clients/<code>/contacts/<email>", f"/clients/NORD-BANK/contacts/{NORD_IT}", DIRECTORY_READERS),
    Case(
        "PATCH",
        "/clients/<code>/contacts/<email>",
        f"/clients/NORD-BANK/contacts/{NORD_IT}",
        CONTACT_EDITORS,
        body={"position": "matrix"},
        headers=ANY_VERSION,
    ),  # fmt: skip
    Case(
        "DELETE",
        "/clients/<code>/contacts/<email>",
        "/clients/NORD-BANK/contacts/spare@nord-bank.example",
        ADMINS,
        headers=ANY_VERSION,
    ),  # fmt: skip
    Case(
        "POST",
        "/clients/<code>/contacts/<email>/merge",
        "/clients/NORD-BANK/contacts/{merge_contact}/merge",
        CONTACT_EDITORS,
        body={"into": NORD_IT},
    ),  # fmt: skip
    Case(
        "GET",
        "/clients/<code>/contacts/<email>/history",
        f"/clients/NORD-BANK/contacts/{NORD_IT}/history",
        DIRECTORY_READERS,
    ),  # fmt: skip
    Case("POST", "/imports/<kind>", "/imports/clients?dry_run=true", ADMINS, raw="clients_csv"),
    Case("GET", "/exports/<kind>", "/exports/clients", ADMINS),
    Case("GET", "/teams", "/teams", DIRECTORY_READERS),
    Case("POST", "/teams", "/teams", ADMINS, body={"code": "matrix-new", "name": "Matrix team"}),
    Case("GET", "/teams/<code>", "/teams/storage", DIRECTORY_READERS),
    Case("PATCH", "/teams/<code>", "/teams/storage", ADMINS, body={"classes": ["storage"]}, headers=ANY_VERSION),
    Case("DELETE", "/teams/<code>", "/teams/matrix-spare", ADMINS, headers=ANY_VERSION),
    Case("GET", "/teams/<code>/history", "/teams/storage/history", DIRECTORY_READERS),
    Case("GET", "/users", "/users", PEOPLE_READERS),
    Case(
        "POST",
        "/users",
        "/users",
        ADMINS,
        body={
            "username": "matrix.new",
            "name": "M",
            "email": "m@x.example",
            "roles": ["engineer"],
            "groups": ["storage-L1"],
        },
    ),
    Case("GET", "/users/<username>", "/users/storage.l1", PEOPLE_READERS),
    Case(
        "PATCH",
        "/users/<username>",
        "/users/storage.l3",
        ADMINS,
        body={"phone": "+7 495 000-00-00"},
        headers=ANY_VERSION,
    ),
    Case("GET", "/users/<username>/history", "/users/storage.l1/history", PEOPLE_READERS),
    Case("GET", "/equipment", "/equipment", DIRECTORY_READERS),
    Case("POST", "/equipment", "/equipment", EQUIPMENT_ADDERS, body=NEW_ITEM),
    Case("GET", "/equipment/<serial>", "/equipment/IBM-FS5200-0001", DIRECTORY_READERS),
    Case(
        "PATCH",
        "/equipment/<serial>",
        "/equipment/CISCO-C9300-0001",
        ADMINS,
        body={"model": "Cisco Catalyst 9300-48P"},
        headers=ANY_VERSION,
    ),
    Case("DELETE", "/equipment/<serial>", "/equipment/MATRIX-EQ-SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/equipment/<serial>/history", "/equipment/IBM-FS5200-0001/history", DIRECTORY_READERS),
    Case("GET", "/contracts", "/contracts", DIRECTORY_READERS),
    Case("POST", "/contracts", "/contracts", ADMINS, body=NEW_CONTRACT),
    Case("GET", "/contracts/<number>", "/contracts/C-NORD-1", DIRECTORY_READERS),
    Case(
        "PATCH", "/contracts/<number>", "/contracts/C-TEL-1", ADMINS, body={"parts_included": True}, headers=ANY_VERSION
    ),
    Case("DELETE", "/contracts/<number>", "/contracts/MATRIX-C-SPARE", ADMINS, headers=ANY_VERSION),
    Case("GET", "/contracts/<number>/history", "/contracts/C-NORD-1/history", DIRECTORY_READERS),
    Case("GET", "/auth/tokens", "/auth/tokens", EVERYONE),
    Case("POST", "/auth/tokens", "/auth/tokens", EVERYONE, body={"name": "matrix"}),
    Case("DELETE", "/auth/tokens/<int:token_id>", "/auth/tokens/{own_token}", EVERYONE),
    Case("POST", "/auth/logout-all", "/auth/logout-all", EVERYONE),
    Case("POST", "/auth/invitations", "/auth/invitations", ADMINS, body={"username": "megaretail"}),
]
