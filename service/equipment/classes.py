"""The equipment classes the directory knows: the built-in ones, and every class a product team serves.

A new class comes with the team that serves it: creating (or changing) a team with `classes: ["ups"]` lets equipment
and contracts name `ups`; an analyst then publishes the rules that know it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import Invalid
from service.teams.models import Team

#: The classes the shipped teams and rules know.
BUILT_IN = ("storage", "servers", "network")


def known_classes(session: Session) -> list[str]:
    """The built-in classes, then those the teams serve, each once."""
    served = [name for classes in session.scalars(select(Team.classes)) for name in classes.split()]
    return list(dict.fromkeys([*BUILT_IN, *sorted(served)]))


def check_classes(session: Session, field: str, classes: Sequence[str]) -> list[str]:
    """The known classes in their order (422 naming `field` for a class no team serves)."""
    known = known_classes(session)
    unknown = [name for name in dict.fromkeys(classes) if name not in known]
    if unknown:
        detail = f"no team serves the equipment class {', '.join(map(repr, unknown))} (known: {', '.join(known)})"
        raise Invalid(detail, errors={field: [detail]})
    return [name for name in known if name in set(classes)]
