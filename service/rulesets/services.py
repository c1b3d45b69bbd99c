"""Publishing rule files as versions, reading them back, activating an older one, exporting the active ones."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service import decisions
from service.augmented import Augmented
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.db import lock_name
from service.decisions.model import ABSENT, FactRef
from service.errors import Invalid, NotFound
from service.paging import Page, keyset_rows
from service.rulesets.models import RulesetVersion
from service.teams.services import active_team_codes

#: The outcome key that names the product team a ticket goes to.
TEAM = "team"


@dataclass(frozen=True)
class Published:
    """The outcome of publishing: the version, and whether it is new."""

    version: RulesetVersion
    created: bool


def publish_ruleset(session: Session, *, text: str, filename: str, author: str, activate: bool = True) -> Published:
    """Validate a rule file and store it as a new version (active by default); the same text is not stored twice."""
    try:
        parsed = decisions.parse_ruleset(text, filename=filename)
    except decisions.RulesetError as error:
        raise Invalid(
            f"{error.filename}: line {error.line}: {error.detail}", file=error.filename, line=error.line
        ) from error
    check_teams(session, parsed, filename=filename)
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    lock_versions(session, name=parsed.name)
    row = session.scalar(
        select(RulesetVersion).where(RulesetVersion.name == parsed.name, RulesetVersion.content_hash == content_hash)
    )
    created = row is None
    if row is None:
        latest = session.scalar(select(func.max(RulesetVersion.version)).where(RulesetVersion.name == parsed.name))
        row = RulesetVersion(
            name=parsed.name, version=(latest or 0) + 1, content_hash=content_hash, text=text, author=author
        )
        session.add(row)
        session.flush()
    if activate and not row.active:
        session.execute(update(RulesetVersion).where(RulesetVersion.name == parsed.name).values(active=False))
        row.active = True
        session.flush()
    return Published(row, created)


def check_teams(session: Session, parsed: decisions.Ruleset, *, filename: str) -> None:
    """Refuse (422 with the line) a ruleset whose outcome can name a team that is not an active team of the directory.

    The outcome `team` is checked where it is declared (its `enum`) and in every rule's `then`; a team taken from a
    fact is checked through that fact's `enum`. While the directory has no team at all (a fresh install before its
    teams are entered), nothing is checked, so the shipped rules deploy.
    """
    teams = active_team_codes(session)
    if teams is None:
        return
    named: list[tuple[int, str, str]] = []
    spec = parsed.outcome.get(TEAM)
    if spec is not None and spec.enum:
        named += [(spec.line, str(value), f"the outcome {TEAM!r} lists") for value in spec.enum]
    for rule in (*parsed.rules, parsed.default):
        for key, value in rule.outcome:
            if key != TEAM:
                continue
            if isinstance(value, FactRef):
                fact = parsed.facts.get(value.fact)
                values = list(fact.enum or ()) if fact else []
                if value.otherwise is not ABSENT:
                    values.append(value.otherwise)
            else:
                values = [value]
            named += [(rule.line, str(item), f"rule {rule.name!r} routes to") for item in values]
    for line, team, what in named:
        if team not in teams:
            known = ", ".join(sorted(teams)) or "none"
            detail = f"{what} the team {team!r}, which is not an active team (active teams: {known})"
            raise Invalid(f"{filename}: line {line}: {detail}", file=filename, line=line, team=team)


def lock_versions(session: Session, *, name: str) -> None:
    """Take turns with every other transaction publishing or activating a version of the ruleset `name`: each then
    numbers its version after the last one committed, and exactly one version stays active."""
    lock_name(session, f"ruleset:{name}")


def parse_named(text: str, *, name: str) -> decisions.Ruleset:
    """A rule file checked as `parse_ruleset` does, that must also name the ruleset `name` (422 otherwise)."""
    filename = f"{name}.yaml"
    try:
        parsed = decisions.parse_ruleset(text, filename=filename)
    except decisions.RulesetError as error:
        raise Invalid(
            f"{error.filename}: line {error.line}: {error.detail}", file=error.filename, line=error.line
        ) from error
    if parsed.name != name:
        found = re.search(r"^ruleset\s*:", text, re.MULTILINE)
        line = text.count("\n", 0, found.start()) + 1 if found else 1
        detail = f"the file is the ruleset {parsed.name!r}, but it is sent to {name!r}"
        raise Invalid(f"{filename}: line {line}: {detail}", file=filename, line=line)
    return parsed


def submit_ruleset(session: Session, *, user: Caller, name: str, text: str) -> Published:
    """Publish a new version of the ruleset `name` and make it active (the same text again: that version)."""
    authorize(user, Permission.WRITE_RULESETS)
    parse_named(text, name=name)
    return publish_ruleset(session, text=text, filename=f"{name}.yaml", author=user.username)


def list_rulesets(session: Session, *, user: Caller) -> list[Augmented]:
    """The active version of every ruleset, by name, with how many versions it has."""
    authorize(user, Permission.READ_RULESETS)
    counts = dict(
        session.execute(select(RulesetVersion.name, func.count()).group_by(RulesetVersion.name)).tuples().all()
    )
    active = session.scalars(
        select(RulesetVersion).where(RulesetVersion.active.is_(True)).order_by(RulesetVersion.name)
    )
    return [Augmented(row, versions=counts.get(row.name, 1)) for row in active]


def active_ruleset(session: Session, *, user: Caller, name: str) -> RulesetVersion:
    """The active version of a ruleset (404 when it has none)."""
    authorize(user, Permission.READ_RULESETS)
    row = session.scalar(select(RulesetVersion).where(RulesetVersion.name == name, RulesetVersion.active.is_(True)))
    if row is None:
        raise NotFound(f"no active version of ruleset {name!r}")
    return row


def ruleset_versions(
    session: Session, *, user: Caller, name: str, cursor: str | None = None, page_size: int = 50
) -> Page[Any]:
    """A page of the published versions of a ruleset, newest first (404 when there is none), without their text.

    A version is never renumbered, so one published between two pages comes before the first and shifts nothing."""
    authorize(user, Permission.READ_RULESETS)
    query = select(
        RulesetVersion.name,
        RulesetVersion.version,
        RulesetVersion.content_hash,
        RulesetVersion.author,
        RulesetVersion.created_at,
        RulesetVersion.active,
    ).where(RulesetVersion.name == name)
    page = keyset_rows(
        session,
        query,
        list_name=f"ruleset-versions:{name}",
        keys=(RulesetVersion.version,),
        descending=True,
        cursor=cursor,
        page_size=page_size,
    )
    if not page.items and cursor is None:
        raise NotFound(f"no ruleset {name!r}")
    return page


def activate_version(session: Session, *, user: Caller, name: str, version: int) -> RulesetVersion:
    """Make an earlier (or later) version active again; it is checked again first, as the checks may have grown."""
    authorize(user, Permission.WRITE_RULESETS)
    row = session.scalar(select(RulesetVersion).where(RulesetVersion.name == name, RulesetVersion.version == version))
    if row is None:
        raise NotFound(f"ruleset {name!r} has no version {version}")
    check_teams(session, parse_named(row.text, name=name), filename=f"{name}.yaml")
    lock_versions(session, name=name)
    session.refresh(row)
    if not row.active:
        session.execute(update(RulesetVersion).where(RulesetVersion.name == name).values(active=False))
        row.active = True
        session.flush()
    return row


def export_rulesets(session: Session, *, directory: Path) -> list[tuple[RulesetVersion, Path]]:
    """Write the text of every active version to `<directory>/<name>.yaml`, byte for byte as published."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for row in session.scalars(
        select(RulesetVersion).where(RulesetVersion.active.is_(True)).order_by(RulesetVersion.name)
    ):
        path = directory / f"{row.name}.yaml"
        path.write_bytes(row.text.encode("utf-8"))
        written.append((row, path))
    return written
