"""The shipped diagrams (processes/*.bpmn): lint clean, fully laid out, and loadable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from service.engine import load_definition

ROOT = Path(__file__).resolve().parents[2]
BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"
SHIPPED = sorted((ROOT / "processes").glob("*.bpmn"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
SHAPED = (
    "startEvent", "endEvent", "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "subProcess",
)  # fmt: skip


def test_the_default_flow_ships():
    assert ROOT / "processes" / "ticket.bpmn" in SHIPPED


@pytest.mark.skipif(
    not BPMNLINT.exists(), reason="bpmnlint is not installed: run `npm ci` at the repository root (make does)"
)
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_bpmnlint_recommended_rules_pass(path):
    result = subprocess.run(
        [str(BPMNLINT), str(path.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert "problem" not in output, output  # warnings fail too


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_element_has_its_layout(path):
    root = etree.parse(str(path)).getroot()
    shapes = {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for process in root.iterfind("bpmn:process", NS):
        for tag in SHAPED:
            for node in process.iterfind(f".//bpmn:{tag}", NS):
                bounds = shapes[node.get("id")].find("dc:Bounds", NS)
                assert bounds is not None, node.get("id")
                assert float(bounds.get("width")) > 0 and float(bounds.get("height")) > 0
        for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
            points = edges[flow.get("id")].findall("di:waypoint", NS)
            assert len(points) >= 2, flow.get("id")
    planes = root.findall(".//bpmndi:BPMNPlane", NS)
    assert planes and planes[0].get("bpmnElement") in {p.get("id") for p in root.iterfind("bpmn:process", NS)}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_diagram_loads(path):
    definition = load_definition(path.read_bytes(), filename=path.name)
    assert definition.key
    if path.name == "ticket.bpmn":
        assert definition.user_tasks
    else:  # a process beside the ticket flow: started by its timer or message, with no person's work
        assert not definition.user_tasks
        assert any(start.timer or start.message for start in definition.start_events)
