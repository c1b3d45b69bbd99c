"""The instance document: SpiffWorkflow's JSON serialization, without the process spec.

The spec is the same for every instance of a Definition, so the document names it and restore
reattaches the Definition's parsed spec instead of rebuilding it from JSON each time.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter

from .calls import CallActivity, CallActivityConverter
from .specs import SPEC_CONVERTERS
from .timers import TIMER_CONVERTERS
from .tree import Workflow

CONFIG: dict[type, type] = {
    **DEFAULT_CONFIG,
    **SPEC_CONVERTERS,
    **TIMER_CONVERTERS,
    CallActivity: CallActivityConverter,
}


class SpecMismatch(Exception):
    """The document was written for another process."""


class InstanceConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Writes the spec's name instead of the spec; restores with the Definition's spec objects."""

    def __init__(self, registry: Any, spec: Any, subprocess_specs: dict[str, Any], include_spec: bool) -> None:
        super().__init__(Workflow, registry, typename="BpmnWorkflow")  # as documents name it
        self.spec = spec
        self.subprocess_specs = subprocess_specs
        self.include_spec = include_spec

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        if self.include_spec:
            full: dict[str, Any] = super().to_dict(workflow)
            return full
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        stored = dct.get("spec")
        name = stored.get("name") if isinstance(stored, dict) else stored
        if name != self.spec.name:
            raise SpecMismatch(f"the document belongs to process {name!r}, not {self.spec.name!r}")
        # Objects that are not dicts pass through the registry unchanged, so the base converter
        # picks up the already-parsed specs.
        dct["spec"] = self.spec
        dct["subprocess_specs"] = dict(self.subprocess_specs)
        return super().from_dict(dct)


class InstanceSerializer:
    """Dumps and loads instances of one process spec (not thread-safe: one per thread)."""

    def __init__(self, spec: Any, subprocess_specs: dict[str, Any], include_spec: bool = False) -> None:
        registry = BpmnWorkflowSerializer.configure(CONFIG)
        InstanceConverter(registry, spec, subprocess_specs, include_spec)
        self._serializer = BpmnWorkflowSerializer(registry)
        self.registry = registry

    def dumps(self, workflow: Any) -> str:
        """The JSON document of an instance."""
        document: str = self._serializer.serialize_json(workflow)
        return document

    def loads(self, document: str) -> Any:
        """The instance of a JSON document (SpecMismatch if it is another process's)."""
        return self._serializer.deserialize_json(document)

    def spec_to_dict(self, spec: Any) -> dict[str, Any]:
        """The spec through the registered converters (for tests and measurements)."""
        converted: dict[str, Any] = self.registry.convert(spec)
        return converted

    def spec_from_dict(self, dct: dict[str, Any]) -> Any:
        """Inverse of ``spec_to_dict``."""
        return self.registry.restore(json.loads(json.dumps(dct)))
