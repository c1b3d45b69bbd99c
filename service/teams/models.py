"""A product team; its queues are the groups `<code>-L1`, `<code>-L2` and `<code>-L3`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base

LEVELS = (1, 2, 3)


class Team(Base):
    """A product team (storage, servers, network...): routing rules name it by its code."""

    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Space-separated equipment classes the team serves.
    classes: Mapped[str] = mapped_column(String(200), default="")
    #: L3 of this team includes engineers of outside partner companies.
    partners_in_l3: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    def group_names(self) -> tuple[str, ...]:
        """The names of the team's level groups, L1 first."""
        return tuple(f"{self.code}-L{level}" for level in LEVELS)
