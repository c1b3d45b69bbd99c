"""The BPMN engine: the only package in the project that imports SpiffWorkflow.

See docs/architecture.md, "The engine contract".
"""

from .definition import Definition, load_definition
from .errors import DiagramError, EngineError, FormError, TaskNotOpen
from .forms import FormField
from .model import DecisionTaken, EngineEvent, ExternalTaskView, TaskCompleted, UserTaskView
from .runtime import Run

__all__ = [
    "DecisionTaken",
    "Definition",
    "DiagramError",
    "EngineError",
    "EngineEvent",
    "ExternalTaskView",
    "FormError",
    "FormField",
    "Run",
    "TaskCompleted",
    "TaskNotOpen",
    "UserTaskView",
    "load_definition",
]
