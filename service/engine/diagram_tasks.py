"""The checks of tasks: user tasks with their forms and properties; service, business rule and script tasks; call
activities; input/output mappings and multi-instance markers."""

from __future__ import annotations

import keyword

from lxml import etree

from .calls import read_call
from .diagram_checks import Checks, plain_identifier
from .diagram_model import (
    EXTERNAL_HINT,
    JAVA_ATTRIBUTES,
    LABEL_PROPERTIES,
    NS,
    SCRIPT_FORMATS,
    SCRIPT_HINT,
    SLA_VALUES,
    IoMapping,
    IoValue,
    MultiInstance,
    UserTaskConfig,
)
from .forms import CONSTRAINTS, FIELD_TYPES, FormField
from .scripting import UnsafeCode, has_expression, split_list, strip_expression


class TaskChecks(Checks):
    """The checks of tasks and of what they declare in their extension elements."""

    def multi_instance(self, node: etree._Element, marker: etree._Element) -> MultiInstance:
        """Camunda's marker: `camunda:collection` (a variable, or ``${variable}``) with `camunda:elementVariable`,
        or a `loopCardinality`; a `completionCondition` is checked on each finished instance's variables."""
        collection = (self.attr(marker, "collection") or "").strip()
        element = (self.attr(marker, "elementVariable") or "").strip() or None
        texts: dict[str, str | None] = {}
        for part in ("loopCardinality", "completionCondition"):
            child = marker.find(f"bpmn:{part}", NS)
            raw = child.text if child is not None and child.text else ""
            try:
                text = strip_expression(raw)
                collection = strip_expression(collection)
            except UnsafeCode as err:
                raise self.fail(node, f"refused multi-instance expression: {err.detail}") from None
            if text:
                self.code(node, text, "eval", child.sourceline if child is not None else None)
            texts[part] = text or None
        if bool(collection) == bool(texts["loopCardinality"]):
            raise self.fail(node, "a multi-instance marker needs either camunda:collection or a loopCardinality")
        for name in (collection, element):
            if name and not plain_identifier(name):
                raise self.fail(node, f"multi-instance variable {name!r} must be a plain identifier")
        if collection and element is None:
            raise self.fail(node, "a multi-instance marker over a collection needs camunda:elementVariable")
        sequential = marker.get("isSequential") == "true"
        return MultiInstance(
            sequential, collection or None, element, texts["loopCardinality"], texts["completionCondition"]
        )

    def input_output(self, node: etree._Element) -> IoMapping:
        """Read input and output parameters: a text (literal or ``${...}``), a `camunda:list` or a `camunda:map`."""
        sides: dict[str, list[tuple[str, IoValue]]] = {"inputParameter": [], "outputParameter": []}
        for parameter in node:
            local = etree.QName(parameter).localname if isinstance(parameter.tag, str) else ""
            if local not in sides:
                continue
            name = (parameter.get("name") or "").strip()
            if not plain_identifier(name):
                raise self.fail(parameter, f"input/output parameter {name!r} must be a plain identifier")
            sides[local].append((name, self.io_value(parameter)))
        return IoMapping(tuple(sides["inputParameter"]), tuple(sides["outputParameter"]))

    def io_value(self, node: etree._Element) -> IoValue:
        children = [child for child in node if isinstance(child.tag, str)]
        if not children:
            text = (node.text or "").strip()
            if has_expression(text):
                self.template(node, text)
            return text
        if len(children) > 1:
            raise self.fail(node, "a parameter, list item or map entry holds one value")
        child = children[0]
        local = etree.QName(child).localname
        if local == "list":
            return [self.io_value(item) for item in child if isinstance(item.tag, str)]
        if local == "map":
            entries: dict[str, IoValue] = {}
            for entry in child.iterfind("camunda:entry", NS):
                entries[entry.get("key") or ""] = self.io_value(entry)
            return entries
        if local == "script":
            raise self.fail(
                child, "scripts in input/output parameters are not supported", hint="use a ${...} expression"
            )
        # A value element (camunda:value in a list) holds its text.
        return self.io_value(child)

    def on_callActivity(self, node: etree._Element) -> None:
        self.info.calls[node.get("id")] = read_call(node, self.fail, self.known.processes, self.known.batch)

    def on_userTask(self, node: etree._Element) -> None:
        groups = self.attr(node, "candidateGroups")
        assignee = self.attr(node, "assignee")
        users = self.attr(node, "candidateUsers")
        if not groups and not assignee and not users:
            self.warn(
                node,
                "the user task has no camunda:candidateGroups, camunda:candidateUsers or camunda:assignee: only"
                " those who work every queue (administrators and managers) see it",
                hint="name the group whose queue it goes to",
            )
        for value in (groups, assignee, users):
            for item in split_list(value or ""):
                self.template(node, item)
        due, priority = self.attr(node, "dueDate"), self.attr(node, "priority")
        if due and has_expression(due):
            self.template(node, due)
        elif due:
            self.iso_date(node, due)
        if priority and has_expression(priority):
            self.template(node, priority)
        elif priority:
            self.integer(node, priority)
        form = tuple(
            self.form_field(f) for f in node.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", NS)
        )
        ids = [f.id for f in form]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise self.fail(node, f"duplicate form field ids: {', '.join(duplicates)}")
        status, sla = self.ticket_properties(node)
        self.info.user_tasks[node.get("id")] = UserTaskConfig(groups, assignee, due, priority, form, users, status, sla)

    def ticket_properties(self, node: etree._Element) -> tuple[str | None, str | None]:
        """The task's `status` and `sla` extension properties, checked against what the service knows."""
        values: dict[str, str] = {}
        for prop in node.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
            key = (prop.get("name") or "").strip()
            if key not in ("status", "sla"):
                continue
            value = (prop.get("value") or "").strip()
            statuses = self.known.statuses
            if key == "status" and statuses is not None and value not in statuses:
                hint = f"one of {', '.join(sorted(statuses))}"
                raise self.fail(prop, f"unknown ticket status {value!r}", hint=hint)
            if key == "sla" and value and value not in SLA_VALUES:
                raise self.fail(prop, f"unknown sla {value!r}", hint=f"one of {', '.join(sorted(SLA_VALUES))}, or none")
            values[key] = value
        if "status" not in values:
            self.warn(node, "the user task declares no ticket status", hint='add the extension property "status"')
        return values.get("status") or None, values.get("sla") or None

    def form_field(self, node: etree._Element) -> FormField:
        field_id = (node.get("id") or "").strip()
        if not field_id.isidentifier() or keyword.iskeyword(field_id) or field_id.startswith("__"):
            raise self.fail(node, f"form field id {field_id!r} must be a plain identifier (it becomes a variable)")
        kind = node.get("type") or "string"
        if kind not in FIELD_TYPES:
            raise self.fail(node, f"form field {field_id!r} has unknown type {kind!r}")
        values = tuple(
            (v.get("id") or "", v.get("name") or v.get("id") or "") for v in node.iterfind("camunda:value", NS)
        )
        if kind == "enum" and (not values or any(not key for key, _ in values)):
            raise self.fail(node, f"enum field {field_id!r} needs camunda:value children with ids")
        flags, limits = set(), {}
        for constraint in node.iterfind("camunda:validation/camunda:constraint", NS):
            name = constraint.get("name") or ""
            if name not in CONSTRAINTS:
                raise self.fail(constraint, f"unknown validation constraint {name!r} on field {field_id!r}")
            if name in ("required", "readonly"):
                flags.add(name)
                continue
            try:
                limits[name] = float(constraint.get("config") or "")
            except ValueError:
                raise self.fail(constraint, f"constraint {name!r} needs a number as config") from None
        label = node.get("label") or field_id
        return FormField(
            field_id,
            label,
            kind,
            "required" in flags,
            "readonly" in flags,
            values,
            node.get("defaultValue"),
            limits,
            self.field_labels(node),
        )

    def field_labels(self, node: etree._Element) -> tuple[tuple[str, str], ...]:
        """A form field's label per language: its `camunda:property` `label_ru` / `label_en` (named by `id`, as the
        Camunda modeler writes a field's properties, or by `name`)."""
        labels = {}
        for prop in node.iterfind("camunda:properties/camunda:property", NS):
            key = prop.get("id") or prop.get("name") or ""
            if key in LABEL_PROPERTIES:
                text = (prop.get("value") or "").strip()
                if not text:
                    raise self.fail(prop, f"the {key} of form field {node.get('id')!r} is empty")
                labels[LABEL_PROPERTIES[key]] = text
        return tuple(sorted(labels.items()))

    def on_serviceTask(self, node: etree._Element) -> None:
        topic = (self.attr(node, "topic") or "").strip()
        for name, detail in JAVA_ATTRIBUTES.items():
            if self.attr(node, name) is not None:
                raise self.fail(node, f"{detail}: this engine runs no Java", hint=EXTERNAL_HINT)
        if self.attr(node, "type") != "external":
            raise self.fail(node, 'a service task must be camunda:type="external" with a camunda:topic')
        if not topic or has_expression(topic):
            raise self.fail(node, "an external service task needs a literal camunda:topic")
        self.info.topics[node.get("id")] = topic

    def on_businessRuleTask(self, node: etree._Element) -> None:
        ref = (self.attr(node, "decisionRef") or "").strip()
        result = (self.attr(node, "resultVariable") or "").strip()
        if not ref or has_expression(ref):
            raise self.fail(node, "a business rule task needs a literal camunda:decisionRef")
        if not result.isidentifier() or keyword.iskeyword(result) or result.startswith("__"):
            raise self.fail(node, "a business rule task needs camunda:resultVariable, a plain identifier")
        self.info.decisions[node.get("id")] = (ref, result)

    def on_scriptTask(self, node: etree._Element) -> None:
        if (node.get("scriptFormat") or "").strip().lower() not in SCRIPT_FORMATS:
            detail = f"script format {node.get('scriptFormat')!r} is not supported"
            raise self.fail(node, detail, hint=SCRIPT_HINT)
        if self.attr(node, "resource"):
            raise self.fail(node, "external script resources are not supported")
        script = node.find("bpmn:script", NS)
        if script is None or not (script.text or "").strip():
            raise self.fail(node, "a script task needs a script")
        self.code(node, script.text or "", "exec", script.sourceline)
