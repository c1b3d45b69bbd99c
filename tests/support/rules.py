"""Edited copies of the shipped rule files, as an analyst would make them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def rule_text(name: str) -> str:
    """The shipped rule file `rules/<name>.yaml`."""
    return (ROOT / "rules" / f"{name}.yaml").read_text(encoding="utf-8")


def storage_hardware_remote() -> str:
    """Routing with storage hardware sent to level 2 (remote) instead of level 1 (on site)."""
    text = rule_text("routing")
    changed = text.replace(
        "  - name: storage hardware on site\n    priority: 10\n    when:\n      equipment_class: storage\n"
        "      category: hardware\n    then: {team: storage, level: 1}",
        "  - name: storage hardware remote\n    priority: 10\n    when:\n      equipment_class: storage\n"
        "      category: hardware\n    then: {team: storage, level: 2}",
    )
    assert changed != text
    return changed
