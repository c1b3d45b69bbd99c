"""Edited copies of the default flow, as a process owner would make them, for the migration tests."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
NS = {"bpmn": BPMN}


def ticket_xml() -> bytes:
    """The shipped default flow."""
    return (ROOT / "processes" / "ticket.bpmn").read_bytes()


def _process(root: etree._Element) -> etree._Element:
    process = root.find("bpmn:process", NS)
    assert process is not None
    return process


def _flow(process: etree._Element, flow_id: str, source: str, target: str) -> etree._Element:
    flow = etree.SubElement(process, f"{{{BPMN}}}sequenceFlow")
    flow.set("id", flow_id)
    flow.set("sourceRef", source)
    flow.set("targetRef", target)
    return flow


def insert_step(xml: bytes, *, after: str, step: str) -> bytes:
    """``step`` (one BPMN element written as XML, with an id) put on the one flow that leaves ``after``."""
    root = etree.fromstring(xml)
    process = _process(root)
    wrapper = etree.fromstring(f'<wrap xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}">{step}</wrap>')
    new = wrapper[0]
    new_id = new.get("id")
    [flow] = [f for f in process.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == after]
    flow.set("sourceRef", new_id)
    source = process.find(f"*[@id='{after}']")
    assert source is not None
    for outgoing in source.iterfind("bpmn:outgoing", NS):
        if outgoing.text == flow.get("id"):
            outgoing.text = f"flow_{after}_{new_id}"
    process.append(new)
    _flow(process, f"flow_{after}_{new_id}", after, new_id)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def remove_step(xml: bytes, step: str) -> bytes:
    """The element ``step`` (one flow in, one flow out) cut out, its neighbours joined by one flow."""
    root = etree.fromstring(xml)
    process = _process(root)
    flows = list(process.iterfind("bpmn:sequenceFlow", NS))
    [incoming] = [f for f in flows if f.get("targetRef") == step]
    [outgoing] = [f for f in flows if f.get("sourceRef") == step]
    incoming.set("targetRef", outgoing.get("targetRef"))
    target = process.find(f"*[@id='{outgoing.get('targetRef')}']")
    assert target is not None
    for ref in target.iterfind("bpmn:incoming", NS):
        if ref.text == outgoing.get("id"):
            ref.text = incoming.get("id")
    element = process.find(f"*[@id='{step}']")
    assert element is not None
    process.remove(element)
    process.remove(outgoing)
    gone = {step, outgoing.get("id")}
    for shape in [*root.iter(f"{{{BPMNDI}}}BPMNShape"), *root.iter(f"{{{BPMNDI}}}BPMNEdge")]:
        if shape.get("bpmnElement") in gone:
            shape.getparent().remove(shape)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def replace_attribute(xml: bytes, element_id: str, name: str, value: str) -> bytes:
    """The element's attribute ``name`` (``camunda:topic`` style prefixes allowed) set to ``value``."""
    root = etree.fromstring(xml)
    element = _process(root).find(f".//*[@id='{element_id}']")
    assert element is not None
    if name.startswith("camunda:"):
        name = f"{{{CAMUNDA}}}{name.split(':', 1)[1]}"
    element.set(name, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def retag(xml: bytes, element_id: str, tag: str) -> bytes:
    """The element made into another kind (``task``, ``userTask``...), without its ``camunda:`` attributes."""
    root = etree.fromstring(xml)
    element = _process(root).find(f".//*[@id='{element_id}']")
    assert element is not None
    element.tag = f"{{{BPMN}}}{tag}"
    for name in [name for name in element.attrib if name.startswith(f"{{{CAMUNDA}}}")]:
        del element.attrib[name]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


#: A script task every ticket still in flight runs on its way to closing (inserted after ``merge_closed``).
CLOSING_NOTE = (
    '<bpmn:scriptTask id="closing_note" name="Note the new version" scriptFormat="python">'
    "<bpmn:script>closed_by_new_version = True</bpmn:script></bpmn:scriptTask>"
)
#: A user task for duty officers, to insert after ``clarify``.
DOUBLE_CHECK = '<bpmn:userTask id="double_check" name="Double-check the details" camunda:candidateGroups="duty" />'


def with_closing_note(xml: bytes | None = None) -> bytes:
    """The default flow with a script task before ``set_closed``: every open ticket would run it."""
    return insert_step(xml or ticket_xml(), after="merge_closed", step=CLOSING_NOTE)
