"""People in a file: `username` is the key; `roles` and `groups` are lists in one cell (`duty, manager`), `client`
a client's code. The rows go through the people's own services and schemas (`service.people`). A file never
carries a password: an imported person signs in after an invitation (`POST /auth/invitations`) or once an operator
sets one (`orchestrator user passwd`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.clients.models import Client
from service.imports import cells
from service.imports.kinds import Column, Kind, Loader, chunks
from service.people import services
from service.people.schemas import UserChangeSchema, UserCreateSchema


def _values(user: User, client: str | None) -> dict[str, Any]:
    """A user under the columns' names."""
    return {
        "username": user.username,
        "name": user.display_name,
        "email": user.email,
        "phone": user.phone,
        "roles": sorted(user.role_set),
        "groups": sorted(user.group_names),
        "client": client,
        "partner": user.partner,
        "language": user.language,
        "time_zone": user.time_zone,
        "active": user.active,
    }


class UserLoader(Loader):
    """People by username (with their groups), and the codes of their clients, each looked up once."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        self.known: dict[str, User] = {}
        for chunk in chunks(keys):
            self.known.update(
                (user.username, user) for user in self.session.scalars(select(User).where(User.username.in_(chunk)))
            )
        ids = sorted({user.client_id for user in self.known.values() if user.client_id is not None})
        self.client_codes: dict[int, str] = {}
        for chunk in chunks(ids):
            self.client_codes.update(
                self.session.execute(select(Client.id, Client.code).where(Client.id.in_(chunk))).tuples().all()
            )

    def find(self, key: str) -> User | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        return _values(record, self.client_codes.get(record.client_id) if record.client_id else None)

    def create(self, data: dict[str, Any]) -> None:
        services.create_person(self.session, user=self.user, data=data, source=self.source)

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        services.update_person(
            self.session, user=self.user, username=record.username, changes=changes, if_match="*", source=self.source
        )


class Users(Kind):
    name = "users"
    key = "username"
    columns = (
        Column("username", required=True),
        Column("name", required=True),
        Column("email", required=True),
        Column("phone"),
        Column("roles", cells.words, required=True),
        Column("groups", cells.words),
        Column("client"),
        Column("partner"),
        Column("language"),
        Column("time_zone"),
        Column("active", cells.boolean),
    )
    create_schema = UserCreateSchema
    change_schema = UserChangeSchema
    loader = UserLoader

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        query = select(User, Client.code).outerjoin(Client, Client.id == User.client_id).order_by(User.username)
        for user, client in session.execute(query):
            yield _values(user, client)
