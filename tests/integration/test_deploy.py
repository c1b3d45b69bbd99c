"""Deploying processes/ and rules/: unchanged files create nothing; a refused file keeps the previous version."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from service.context import Context
from service.deploy import deploy_all
from service.processes.models import ProcessDefinition
from service.rulesets.models import RulesetVersion
from tests.conftest import ROOT


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    rules, processes = tmp_path / "rules", tmp_path / "processes"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "processes", processes)
    return rules, processes


def _active(ctx: Context) -> dict[str, int]:
    with ctx.sessions() as session:
        rows = session.execute(select(RulesetVersion.name, RulesetVersion.version).where(RulesetVersion.active))
        return dict(rows.tuples().all())


def _definitions(ctx: Context) -> list[tuple[str, int]]:
    with ctx.sessions() as session:
        query = select(ProcessDefinition.key, ProcessDefinition.version).order_by(ProcessDefinition.key)
        return list(session.execute(query).tuples())


def test_unchanged_files_create_no_version(ctx: Context, tmp_path: Path) -> None:
    rules, processes = _copy(tmp_path)
    lines = deploy_all(ctx, rules_dir=str(rules), processes_dir=str(processes), actor="test")
    assert all(line.ok and line.outcome.startswith("unchanged") for line in lines), lines
    assert _definitions(ctx) == [("preventive-maintenance", 1), ("ticket", 1)]


def test_a_bad_rule_file_is_refused_with_its_line_and_the_previous_stays(ctx: Context, tmp_path: Path) -> None:
    rules, processes = _copy(tmp_path)
    text = (rules / "routing.yaml").read_text().replace("priority: 10", "priority: ten", 1)
    (rules / "routing.yaml").write_text(text)
    lines = {
        Path(line.path).name: line
        for line in deploy_all(ctx, rules_dir=str(rules), processes_dir=str(processes), actor="test")
    }
    refused = lines["routing.yaml"]
    assert not refused.ok and "routing.yaml: line" in refused.outcome and "priority" in refused.outcome
    assert lines["entitlement.yaml"].ok and lines["ticket.bpmn"].ok
    assert _active(ctx) == {"entitlement": 1, "routing": 1, "escalation": 1}


def test_a_bad_diagram_is_refused_and_the_cli_says_so(ctx: Context, tmp_path: Path) -> None:
    rules, processes = _copy(tmp_path)
    xml = (processes / "ticket.bpmn").read_text()
    (processes / "ticket.bpmn").write_text(
        xml.replace('camunda:topic="mail.ticket_closed"', 'camunda:topic="fax.send"')
    )
    (processes / "broken.bpmn").write_text("<definitions>not bpmn")
    env = {
        **os.environ,
        "DATABASE_URL": ctx.config.database_url,
        "ORCHESTRATOR_RULES_DIR": str(rules),
        "ORCHESTRATOR_PROCESSES_DIR": str(processes),
    }
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "deploy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    out = result.stdout
    assert "ticket.bpmn: refused:" in out and "fax.send" in out
    assert "broken.bpmn: refused:" in out
    assert "routing.yaml: unchanged (version 1)" in out
    assert _definitions(ctx) == [("preventive-maintenance", 1), ("ticket", 1)]
