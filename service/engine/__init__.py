"""The BPMN engine: the only package in the project that imports SpiffWorkflow.

See docs/architecture.md, "The engine contract".
"""

from .budget import ScriptLimits
from .calls import Call, call_graph
from .definition import Definition, load_definition
from .diagram_model import Known, MessageRule
from .errors import DiagramError, EngineError, FormError, MigrationRefused, ModificationRefused, Problem, TaskNotOpen
from .forms import FormField
from .instructions import Instruction
from .migration import DefinitionChanges, ReachedElement
from .model import DecisionTaken, EngineEvent, ExternalTaskView, TaskCompleted, UserTaskView
from .runtime import Run
from .starts import StartTrigger, first_start, next_start
from .task_state import install as _quiet_state_changes
from .timers import TimerError, WaitingTimer, from_iso

_quiet_state_changes()

__all__ = [
    "Call",
    "DecisionTaken",
    "Definition",
    "DefinitionChanges",
    "DiagramError",
    "EngineError",
    "EngineEvent",
    "ExternalTaskView",
    "FormError",
    "FormField",
    "Instruction",
    "Known",
    "MessageRule",
    "MigrationRefused",
    "ModificationRefused",
    "Problem",
    "ReachedElement",
    "Run",
    "ScriptLimits",
    "StartTrigger",
    "TaskCompleted",
    "TaskNotOpen",
    "TimerError",
    "UserTaskView",
    "WaitingTimer",
    "first_start",
    "from_iso",
    "call_graph",
    "load_definition",
    "next_start",
]
