"""Publishing rule files as versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service import decisions
from service.errors import Invalid
from service.rulesets.models import RulesetVersion


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
    content_hash = hashlib.sha256(text.encode()).hexdigest()
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
