"""Camunda's instance modification instructions: cancel the tokens at elements, start tokens before or after others.

The list is checked whole before anything changes (a bad instruction is refused by its index) and applied in one
step: the cancels first, then the starts in their order. Every start hangs where the first cancelled token hung and
gets the variables the cancelled tokens held, so a list must cancel at least one token and start at least one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ModificationRefused
from .modification import open_tokens, restart, target_spec, token_elements

CANCEL, START_BEFORE, START_AFTER = "cancel", "startBeforeActivity", "startAfterActivity"
TYPES = (CANCEL, START_BEFORE, START_AFTER)


@dataclass(frozen=True)
class Instruction:
    """One instruction of the list: its `type` (one of `TYPES`) and the element it names."""

    type: str
    activity_id: str


def apply_instructions(workflow: Any, instructions: Sequence[Instruction]) -> None:
    """Check every instruction, then cancel and start as they say (ModificationRefused names the first bad one by
    its index, or `instructions` when the list as a whole cannot be applied)."""
    if workflow.is_completed():
        raise ModificationRefused("instructions", "the instance has ended")
    tokens = open_tokens(workflow)
    cancelled: list[Any] = []
    targets: list[Any] = []
    for index, item in enumerate(instructions):
        try:
            if item.type == CANCEL:
                found = [task for task in tokens if task.task_spec.bpmn_id == item.activity_id]
                if not found:
                    held = ", ".join(token_elements(workflow)) or "none"
                    detail = f"the instance holds no token at {item.activity_id} (it holds: {held})"
                    raise ModificationRefused("activityId", detail)
                cancelled.extend(task for task in found if task not in cancelled)
            elif item.type == START_BEFORE:
                targets.append(target_spec(workflow, item.activity_id))
            else:
                targets.append(target_spec(workflow, _next_element(workflow, item.activity_id)))
        except ModificationRefused as error:
            raise ModificationRefused("activityId", error.detail, index=index) from None
    if not cancelled or not targets:
        raise ModificationRefused("instructions", "the instructions must cancel at least one token and start one")
    restart(workflow, cancelled, targets)


def _next_element(workflow: Any, element_id: str) -> str:
    """The element after `element_id`, which must have exactly one outgoing sequence flow."""
    spec = workflow.spec.task_specs.get(element_id)
    if spec is None or getattr(spec, "bpmn_id", None) != element_id:
        target_spec(workflow, element_id)  # says why: inside a sub-process, or not in the diagram
    following = [output.bpmn_id for output in spec.outputs if getattr(output, "bpmn_id", None)]
    if len(following) != 1:
        raise ModificationRefused(
            "activityId", f"{element_id} has {len(following)} outgoing flows: start before the element wanted"
        )
    return following[0]
