"""Deploying `rules/` and `processes/`: what changed becomes a new version, a bad file is refused alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from service import engine
from service.context import Context
from service.db import transaction
from service.errors import ServiceError
from service.jobs.topics import ServedTopics
from service.processes.definitions import deploy_definition
from service.rulesets.models import RulesetVersion
from service.rulesets.services import publish_ruleset


@dataclass(frozen=True)
class DeployLine:
    """What happened to one file."""

    path: str
    outcome: str  # "new version N", "unchanged (version N)" or "refused: ..."
    ok: bool


def deploy_all(ctx: Context, *, rules_dir: str, processes_dir: str, actor: str) -> list[DeployLine]:
    """Publish every rule file, then deploy every diagram, each in its own transaction."""
    lines = []
    for path in sorted(Path(rules_dir).glob("*.yaml")):
        lines.append(_one(ctx, path, actor, rules=True))
    batch: dict[str, int] = {}  # the versions of this run, by key: what `calledElementBinding="deployment"` calls
    for path in called_first(sorted(Path(processes_dir).glob("*.bpmn"))):
        lines.append(_one(ctx, path, actor, rules=False, batch=batch))
    ctx.definitions.forget_latest()
    return lines


def called_first(paths: list[Path]) -> list[Path]:
    """The diagrams in their order, each moved after the diagrams whose processes it calls; a cycle keeps the
    given order."""
    graph = {path: engine.call_graph(path.read_bytes()) for path in paths}
    done: list[Path] = []

    def visit(path: Path, seen: frozenset[Path]) -> None:
        if path in done or path in seen:
            return
        for other in paths:
            if other != path and graph[path][1] & graph[other][0]:
                visit(other, seen | {path})
        done.append(path)

    for path in paths:
        visit(path, frozenset())
    return done


def _one(ctx: Context, path: Path, actor: str, *, rules: bool, batch: dict[str, int] | None = None) -> DeployLine:
    try:
        with transaction(ctx.sessions) as session:
            if rules:
                published = publish_ruleset(session, text=path.read_text(), filename=path.name, author=actor)
                number, created = published.version.version, published.created
            else:
                known = set(session.scalars(select(RulesetVersion.name).where(RulesetVersion.active.is_(True))))
                deployed = deploy_definition(
                    session,
                    xml=path.read_bytes(),
                    filename=path.name,
                    actor=actor,
                    known_topics=ServedTopics.of(ctx.config.external_topics),
                    known_rulesets=known,
                    batch=batch,
                    ticket_process=ctx.config.ticket_process,
                )
                number, created = deployed.definition.version, deployed.created
                if batch is not None:
                    batch[deployed.definition.key] = deployed.definition.id
    except ServiceError as error:
        problems = error.extra.get("problems") or []
        if len(problems) > 1:  # every problem of a refused diagram, one a line
            lines = (f"{path.name}:{p['line']} ({p['element']}): {p['detail']}" for p in problems)
            return DeployLine(str(path), "refused:\n  " + "\n  ".join(lines), ok=False)
        return DeployLine(str(path), f"refused: {error.detail}", ok=False)
    return DeployLine(str(path), f"new version {number}" if created else f"unchanged (version {number})", ok=True)
