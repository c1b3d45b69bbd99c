"""Call activities: a `bpmn:callActivity` runs another deployed process inside the same instance.

The called process is found by its key (`calledElement`) and Camunda's `camunda:calledElementBinding`: `latest` (the
default), `deployment` (the version deployed in the same run of `orchestrator deploy`) or `version` (with
`camunda:calledElementVersion`, the N-th deployed version, counted from 1). SpiffWorkflow builds an instance with every
spec it may run, so the version is resolved when the caller is deployed, not when the call starts (see
docs/process-owners.md).

Variables go in and out only as `camunda:in` and `camunda:out` say, as in Camunda: `source`/`target` copies one
variable, `sourceExpression`/`target` sets the target to a ``${...}`` expression's value, `variables="all"` copies
every variable. A call without any `camunda:in` starts the called process with no variables; one without any
`camunda:out` gives nothing back.
"""

from __future__ import annotations

import copy
import keyword
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.serializer.default.task_spec import SubWorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import CallActivity as BpmnCallActivity

from .budget import BudgetExceeded
from .errors import DiagramError, EngineError
from .scripting import DEFAULT_LIMITS, UnsafeCode, has_expression, parse_template, render_template

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BINDINGS = frozenset({"latest", "deployment", "version"})
#: Camunda attributes of a call activity that name what this engine does not run, with what to do instead.
REFUSED_ATTRIBUTES = {
    "calledElementTenantId": "tenants are not supported",
    "calledElementVersionTag": "version tags are not supported: use camunda:calledElementVersion",
    "caseRef": "CMMN cases are not supported",
    "variableMappingClass": "variable mapping classes name Java: use camunda:in and camunda:out",
    "variableMappingDelegateExpression": "variable mapping delegates name Java: use camunda:in and camunda:out",
}
#: The attributes a `camunda:in` or `camunda:out` may carry.
MAPPING_ATTRIBUTES = frozenset({"source", "sourceExpression", "target", "variables", "local"})


@dataclass(frozen=True)
class VariableMapping:
    """One `camunda:in` or `camunda:out`: ``source`` copied to ``target``, an ``expression``'s value set in ``target``,
    or (``everything``) every variable copied."""

    target: str = ""
    source: str | None = None
    expression: str | None = None
    everything: bool = False


@dataclass(frozen=True)
class Call:
    """A checked call activity: the process key it calls, how the version is chosen, and its mappings."""

    element: str
    key: str
    binding: str = "latest"
    version: int | None = None
    inputs: tuple[VariableMapping, ...] = ()
    outputs: tuple[VariableMapping, ...] = ()


Fail = Callable[..., DiagramError]


def read_call(
    node: etree._Element, fail: Fail, deployed: Mapping[str, int] | None, batch: Collection[str] | None
) -> Call:
    """Check a call activity; ``deployed`` is the number of versions of each deployed process, ``batch`` the keys of
    the processes deployed with the caller (None where nothing is checked against the database)."""
    key = (node.get("calledElement") or "").strip()
    if not key or has_expression(key):
        raise fail(node, "a call activity needs a literal calledElement, the key of a deployed process")
    for name, detail in REFUSED_ATTRIBUTES.items():
        if node.get(f"{{{CAMUNDA}}}{name}") is not None:
            raise fail(node, f"camunda:{name}: {detail}")
    binding = (node.get(f"{{{CAMUNDA}}}calledElementBinding") or "latest").strip()
    if binding not in BINDINGS:
        raise fail(node, f"unknown camunda:calledElementBinding {binding!r}", hint="latest, deployment or version")
    raw_version = node.get(f"{{{CAMUNDA}}}calledElementVersion")
    version = _version(node, fail, binding, raw_version)
    if deployed is not None:
        _check_deployed(node, fail, key, binding, version, deployed, batch)
    inputs = tuple(_mapping(child, fail) for child in node.iterfind(f"*/{{{CAMUNDA}}}in"))
    outputs = tuple(_mapping(child, fail) for child in node.iterfind(f"*/{{{CAMUNDA}}}out"))
    return Call(node.get("id"), key, binding, version, inputs, outputs)


def _version(node: etree._Element, fail: Fail, binding: str, raw: str | None) -> int | None:
    if binding != "version":
        if raw is not None:
            raise fail(node, 'camunda:calledElementVersion needs camunda:calledElementBinding="version"')
        return None
    text = (raw or "").strip()
    if not text.isdigit() or int(text) < 1:
        raise fail(node, f"camunda:calledElementVersion {text!r} is not a version number (1, 2, ...)")
    return int(text)


def _check_deployed(
    node: etree._Element,
    fail: Fail,
    key: str,
    binding: str,
    version: int | None,
    deployed: Mapping[str, int],
    batch: Collection[str] | None,
) -> None:
    if key not in deployed:
        hint = "deploy the called process first"
        raise fail(node, f"calledElement {key!r} names no deployed process", hint=hint)
    if version is not None and version > deployed[key]:
        raise fail(node, f"process {key!r} has no version {version} (it has {deployed[key]})")
    if binding == "deployment" and key not in (batch or ()):
        hint = "deploy both diagrams with one run of `orchestrator deploy`, or use the binding latest or version"
        raise fail(node, f"process {key!r} was not deployed together with this diagram", hint=hint)


def _mapping(node: etree._Element, fail: Fail) -> VariableMapping:
    side = etree.QName(node).localname
    unknown = sorted(name for name in node.attrib if name not in MAPPING_ATTRIBUTES)
    if unknown:
        raise fail(node, f"camunda:{side} does not take {', '.join(unknown)}")
    source, expression = node.get("source"), node.get("sourceExpression")
    target, everything = (node.get("target") or "").strip(), node.get("variables")
    if everything is not None:
        if everything != "all" or source is not None or expression is not None or target:
            raise fail(node, f'camunda:{side} variables="all" takes no source, sourceExpression or target')
        return VariableMapping(everything=True)
    if (source is None) == (expression is None):
        raise fail(node, f'camunda:{side} needs either source or sourceExpression (or variables="all")')
    if not _plain(target):
        raise fail(node, f"camunda:{side} target {target!r} must be a plain identifier")
    if source is not None:
        if not _plain(source.strip()):
            raise fail(node, f"camunda:{side} source {source!r} must be a plain identifier")
        return VariableMapping(target, source=source.strip())
    if not has_expression(expression or ""):
        raise fail(node, f"camunda:{side} sourceExpression {expression!r} is not a ${{...}} expression")
    try:
        parse_template(expression or "")
    except UnsafeCode as err:
        raise fail(node, f"refused expression {expression!r}: {err.detail}") from None
    return VariableMapping(target, expression=expression)


def _plain(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__")


def apply(mappings: tuple[VariableMapping, ...], variables: Mapping[str, Any], limits: Any) -> dict[str, Any]:
    """The variables the mappings make of ``variables`` (a source absent is not set, as in Camunda)."""
    result: dict[str, Any] = {}
    for mapping in mappings:
        if mapping.everything:
            result.update(copy.deepcopy(dict(variables)))
        elif mapping.source is not None:
            if mapping.source in variables:
                result[mapping.target] = copy.deepcopy(variables[mapping.source])
        else:
            result[mapping.target] = render_template(mapping.expression or "", variables, limits)
    return result


class CallActivity(BpmnCallActivity):  # type: ignore[misc]
    """A call activity passing variables by its `camunda:in` and `camunda:out` (``call`` is set by the parser)."""

    call: Call | None = None
    bpmn_id: str

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="Start")
        start.set_data(**self._mapped("in", my_task, my_task.data))

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        my_task.data = copy.deepcopy(my_task.data)
        my_task.data.update(self._mapped("out", my_task, subworkflow.last_task.data))

    def _mapped(self, side: str, my_task: Any, variables: Mapping[str, Any]) -> dict[str, Any]:
        call = self.call
        if call is None:
            return {}
        limits = getattr(my_task.workflow.top_workflow.script_engine, "limits", DEFAULT_LIMITS)
        try:
            return apply(call.inputs if side == "in" else call.outputs, variables, limits)
        except Exception as err:
            detail = f"camunda:{side} of the call to {call.key!r} failed: {type(err).__name__}: {err}"
            file = getattr(self._wf_spec, "file", None)
            raise EngineError(self.bpmn_id, file, detail, budget=isinstance(err, BudgetExceeded)) from err


class CallActivityConverter(SubWorkflowConverter):  # type: ignore[misc]
    """Converter for CallActivity: its call written out with the spec."""

    def to_dict(self, spec: CallActivity) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["call"] = asdict(spec.call) if spec.call is not None else None
        return dct

    def from_dict(self, dct: dict[str, Any]) -> CallActivity:
        raw = dct.pop("call")
        spec: CallActivity = super().from_dict(dct)
        if raw is not None:
            inputs, outputs = (
                tuple(VariableMapping(**item) for item in raw.pop(side)) for side in ("inputs", "outputs")
            )
            spec.call = Call(**raw, inputs=inputs, outputs=outputs)
        return spec


def call_graph(xml: bytes) -> tuple[frozenset[str], frozenset[str]]:
    """The process keys a diagram holds, and those its call activities name: to deploy the called ones first (none
    when it does not parse: its deployment tells why)."""
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return frozenset(), frozenset()
    bpmn = "http://www.omg.org/spec/BPMN/20100524/MODEL"
    held = {node.get("id") or "" for node in root.iterfind(f"{{{bpmn}}}process")}
    called = {(node.get("calledElement") or "").strip() for node in root.iter(f"{{{bpmn}}}callActivity")}
    return frozenset(held - {""}), frozenset(called - {""})
