"""SpiffWorkflow's Camunda parser, taught the parts of the Camunda 7 dialect we support.

Everything a task declares was read and checked by ``diagram.check_diagram``; the task parsers
below only look it up by element id, so the XML is read (and refused) in one place.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser,
    EndEventParser,
    EventBasedGatewayParser,
    IntermediateCatchEventParser,
    IntermediateThrowEventParser,
    ReceiveTaskParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.parser.task_parsers import (
    CallActivityParser,
    ConditionalGatewayParser,
    ScriptTaskParser,
    SubWorkflowParser,
)
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    EventBasedGateway,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    StartEvent,
    SubWorkflowTask,
)
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

from .calls import CallActivity
from .diagram_model import CAMUNDA, DiagramInfo
from .scripting import strip_expression
from .specs import BusinessRuleTask, ExternalTask, Mapped, ParallelLoop, PassTask, ScriptTask, SequentialLoop, UserTask
from .timers import build_timer


def _info(parser: TaskParser) -> DiagramInfo:
    info: DiagramInfo = parser.process_parser.parser.info
    return info


class LoopParser(TaskParser):  # type: ignore[misc]
    """Wraps a task with a multi-instance marker (read and checked in ``DiagramInfo.loops``) in our loop spec."""

    task: Any

    def _add_multiinstance_task(self, loop_characteristics: Any) -> None:
        loop = _info(self).loops[self.bpmn_id]
        original = self.spec.task_specs.pop(self.task.name)
        spec_class = SequentialLoop if loop.sequential else ParallelLoop
        self.task = spec_class(
            self.spec,
            original.name,
            task_spec="",
            cardinality=loop.cardinality,
            data_input=TaskDataReference(loop.collection) if loop.collection else None,
            input_item=TaskDataReference(loop.element_variable) if loop.element_variable else None,
            condition=loop.condition,
            description="Multi-instance",
        )
        self._copy_task_attrs(original, loop_characteristics)


class UserTaskParser(LoopParser):
    """Builds a UserTask from its checked configuration."""

    def create_task(self) -> Any:
        config = _info(self).user_tasks[self.bpmn_id]
        return self.spec_class(self.spec, self.bpmn_id, config=config, **self.bpmn_attributes)


class ExternalTaskParser(LoopParser):
    """Builds an ExternalTask (camunda:type="external") with its topic."""

    def create_task(self) -> Any:
        topic = _info(self).topics[self.bpmn_id]
        return self.spec_class(self.spec, self.bpmn_id, topic=topic, **self.bpmn_attributes)


class BusinessRuleTaskParser(LoopParser):
    """Builds a BusinessRuleTask from camunda:decisionRef and camunda:resultVariable."""

    def create_task(self) -> Any:
        ref, result = _info(self).decisions[self.bpmn_id]
        return self.spec_class(
            self.spec, self.bpmn_id, decision_ref=ref, result_variable=result, **self.bpmn_attributes
        )

    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        """Used by the DMN-aware base parser to list dependencies (decisions are not DMN here)."""
        ref: str | None = node.get(f"{{{CAMUNDA}}}decisionRef")
        return ref


class GatewayParser(ConditionalGatewayParser):  # type: ignore[misc]
    """Accepts conditions written Camunda-style as ``${...}``."""

    def parse_condition(self, sequence_flow: Any) -> str | None:
        text = super().parse_condition(sequence_flow)
        return strip_expression(text) if text is not None else None


class _Timers:
    """Builds our timers (ISO text or ``${...}``, fired on command) from the checked timer definitions."""

    def parse_timer_event(self, event: Any) -> Any:
        node = self.node  # type: ignore[attr-defined]
        spec = _info(self).timers[node.get("id")]  # type: ignore[arg-type]
        return build_timer(node.get("name", node.get("id")), spec)


class TimerStartEventParser(_Timers, StartEventParser):  # type: ignore[misc]
    """A start event, its timer ours."""


class TimerCatchEventParser(_Timers, IntermediateCatchEventParser):  # type: ignore[misc]
    """An intermediate catch event, its timer ours."""


class TimerBoundaryEventParser(_Timers, BoundaryEventParser):  # type: ignore[misc]
    """A boundary event, its timer ours."""


class LoopScriptTaskParser(LoopParser, ScriptTaskParser):  # type: ignore[misc]
    """A script task, multi-instance if marked."""


class LoopSubWorkflowParser(LoopParser, SubWorkflowParser):  # type: ignore[misc]
    """An embedded or event sub-process, multi-instance if marked."""


class LoopReceiveTaskParser(LoopParser, ReceiveTaskParser):  # type: ignore[misc]
    """A receive task, multi-instance if marked."""


class CallParser(CallActivityParser):  # type: ignore[misc]
    """A call activity, given its checked binding and `camunda:in` / `camunda:out` mappings."""

    def create_task(self) -> Any:
        task = super().create_task()
        task.call = _info(self).calls[self.bpmn_id]
        return task


class DialectParser(CamundaParser):  # type: ignore[misc]
    """The Camunda parser with our task specs; events use the plain BPMN parsers.

    Camunda's message events store payloads under ``<element>_Response``; ours merge the
    message data into the variables, which is what ``Run.send_message`` promises.
    """

    OVERRIDE_PARSER_CLASSES = {
        full_tag("userTask"): (UserTaskParser, UserTask),
        full_tag("serviceTask"): (ExternalTaskParser, ExternalTask),
        full_tag("businessRuleTask"): (BusinessRuleTaskParser, BusinessRuleTask),
        full_tag("scriptTask"): (LoopScriptTaskParser, ScriptTask),
        full_tag("task"): (LoopParser, PassTask),
        full_tag("receiveTask"): (LoopReceiveTaskParser, ReceiveTask),
        full_tag("exclusiveGateway"): (GatewayParser, ExclusiveGateway),
        full_tag("inclusiveGateway"): (GatewayParser, InclusiveGateway),
        full_tag("eventBasedGateway"): (EventBasedGatewayParser, EventBasedGateway),
        full_tag("startEvent"): (TimerStartEventParser, StartEvent),
        full_tag("endEvent"): (EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (TimerCatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (IntermediateThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (TimerBoundaryEventParser, BoundaryEvent),
        full_tag("subProcess"): (LoopSubWorkflowParser, SubWorkflowTask),
        full_tag("callActivity"): (CallParser, CallActivity),
    }

    def __init__(self, info: DiagramInfo) -> None:
        super().__init__()
        self.info = info

    def get_spec(self, process_id: str, required: bool = True) -> Any:
        """The process spec, its tasks given their checked `camunda:inputOutput`."""
        spec = super().get_spec(process_id, required)
        if spec is not None:  # None: a call activity's process, deployed on its own
            _map_io(spec, self.info)
        return spec

    def get_subprocess_specs(
        self, name: str, specs: dict[str, Any] | None = None, require_call_activity_specs: bool = True
    ) -> Any:
        """The sub-process specs, their tasks given their checked `camunda:inputOutput`."""
        found = super().get_subprocess_specs(name, specs, require_call_activity_specs)
        for spec in found.values():
            if spec is not None:
                _map_io(spec, self.info)
        return found


def _map_io(spec: Any, info: DiagramInfo) -> None:
    for task_spec in spec.task_specs.values():
        mapping = info.io.get(getattr(task_spec, "bpmn_id", None) or "")
        if mapping is not None and isinstance(task_spec, Mapped):
            task_spec.io = mapping
