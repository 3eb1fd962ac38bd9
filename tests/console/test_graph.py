"""A definition drawn as a graph: every state, every transition, nothing dangling, no overlap.

The transitions a graph must hold are those the Amazon States Language defines: ``Next``,
``End``, a Choice state's rules and ``Default``, a ``Catch``'s ``Next``, and the scopes of
``Parallel`` branches and ``Map`` item processors
(https://states-language.net/spec.html, https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from maas.console.graph import EdgeKind, Scope, build_graph, state_id
from maas.console.layout import PlacedScope, layout
from maas.console.svg import render_graph

MACHINES = sorted((Path(__file__).resolve().parents[2] / "state_machines").glob("*.json"))


def expected_edges(body: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    """(source, target or None for End, kind) for every transition ASL defines in ``body``."""
    found: set[tuple[str, str | None, str]] = set()
    for name, state in body["States"].items():
        if "Next" in state:
            found.add((name, state["Next"], "next"))
        if state.get("End") is True or state["Type"] in {"Succeed", "Fail"}:
            found.add((name, None, "end"))
        for rule in state.get("Choices", []):
            found.add((name, rule["Next"], "choice"))
        if "Default" in state:
            found.add((name, state["Default"], "default"))
        for catcher in state.get("Catch", []):
            found.add((name, catcher["Next"], "catch"))
    return found


def scopes_of(body: dict[str, Any], scope_id: str = "root") -> dict[str, dict[str, Any]]:
    """Every scope of a definition by the id the graph gives it."""
    found = {scope_id: body}
    for name, state in body["States"].items():
        for number, branch in enumerate(state.get("Branches", []), start=1):
            found |= scopes_of(branch, f"{name}#branch{number}")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found |= scopes_of(processor, f"{name}#items")
    return found


def drawn_edges(scope: Scope) -> set[tuple[str, str | None, str]]:
    def name(node_id: str) -> str | None:
        return None if node_id == scope.end else scope.nodes[node_id].name

    return {
        (scope.nodes[edge.source].name, name(edge.target), edge.kind.value)
        for edge in scope.edges
        if edge.kind is not EdgeKind.START
    }


def test_every_state_machine_of_the_product_is_drawn_below() -> None:
    # Nine when the console was written; a new workflow joins the parametrized tests itself.
    assert len(MACHINES) >= 9


@pytest.mark.parametrize("path", MACHINES, ids=[path.stem for path in MACHINES])
def test_every_state_and_every_transition_is_drawn_and_none_dangles(path: Path) -> None:
    definition = json.loads(path.read_text())
    graph = build_graph(definition)
    drawn = {scope.id: scope for scope in graph.walk()}
    expected = scopes_of(definition)

    assert set(drawn) == set(expected)
    for scope_id, body in expected.items():
        scope = drawn[scope_id]
        states = {node.name for node in scope.nodes.values() if not node.virtual}
        assert states == set(body["States"]), scope_id
        assert drawn_edges(scope) == expected_edges(body), scope_id
        [start] = [edge for edge in scope.edges if edge.kind is EdgeKind.START]
        assert (start.source, start.target) == (scope.start, state_id(body["StartAt"]))
        for edge in scope.edges:
            assert edge.source in scope.nodes and edge.target in scope.nodes, edge


def boxes(placed: PlacedScope) -> list[tuple[float, float, float, float]]:
    return [
        (node.x, node.y, node.x + node.width, node.y + node.height)
        for node in placed.nodes.values()
    ]


def all_scopes(placed: PlacedScope) -> list[PlacedScope]:
    found = [placed]
    for node in placed.nodes.values():
        for _, _, inner in node.scopes:
            found += all_scopes(inner)
    return found


@pytest.mark.parametrize("path", MACHINES, ids=[path.stem for path in MACHINES])
def test_no_two_boxes_overlap_and_every_edge_joins_its_boxes(path: Path) -> None:
    placed = layout(build_graph(json.loads(path.read_text())))

    for scope in all_scopes(placed):
        for first, second in itertools.combinations(boxes(scope), 2):
            apart = (
                first[2] <= second[0]
                or second[2] <= first[0]
                or first[3] <= second[1]
                or second[3] <= first[1]
            )
            assert apart, (first, second)
        for edge in scope.edges:
            source, target = scope.nodes[edge.edge.source], scope.nodes[edge.edge.target]
            (x0, y0), (x1, y1) = edge.points[0], edge.points[-1]
            assert source.x <= x0 <= source.x + source.width, edge
            assert target.x <= x1 <= target.x + target.width, edge
            assert (
                y0 in {source.y, source.y + source.height} or edge.edge.source == edge.edge.target
            )
            assert (
                y1 in {target.y, target.y + target.height} or edge.edge.source == edge.edge.target
            )
        assert all(box[0] >= 0 and box[2] <= scope.width for box in boxes(scope))


@pytest.mark.parametrize("path", MACHINES, ids=[path.stem for path in MACHINES])
def test_the_drawing_is_svg_naming_every_state(path: Path) -> None:
    definition = json.loads(path.read_text())
    svg = render_graph(layout(build_graph(definition)), title=path.stem)

    root = ElementTree.fromstring(svg)
    titles = {element.text for element in root.iter("{http://www.w3.org/2000/svg}title")}
    for body in scopes_of(definition).values():
        for name, state in body["States"].items():
            assert f"{name} ({state['Type']})" in titles


#: A JSONata machine with a Parallel state, a Map with the older ``Iterator``, a wait loop
#: and a Catch: the shapes the product's machines do not all use.
JSONATA = {
    "QueryLanguage": "JSONata",
    "StartAt": "Fan out",
    "States": {
        "Fan out": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "Iterator": {
                                "StartAt": "Item",
                                "States": {"Item": {"Type": "Succeed"}},
                            },
                            "End": True,
                        }
                    },
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Broken"}],
            "Next": "Ready?",
        },
        "Ready?": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $states.input.ready %}", "Next": "Done"}],
            "Default": "Wait",
        },
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Ready?"},
        "Done": {"Type": "Succeed"},
        "Broken": {"Type": "Fail", "Error": "Broken"},
    },
}


def test_a_jsonata_machine_with_parallel_map_and_a_loop_is_drawn_whole() -> None:
    graph = build_graph(JSONATA)
    drawn = {scope.id: scope for scope in graph.walk()}

    assert set(drawn) == set(scopes_of(JSONATA))
    for scope_id, body in scopes_of(JSONATA).items():
        assert drawn_edges(drawn[scope_id]) == expected_edges(body)
    labels = {edge.label for edge in graph.edges if edge.kind is EdgeKind.CHOICE}
    assert labels == {"$states.input.ready"}
    [catch] = [edge for edge in graph.edges if edge.kind is EdgeKind.CATCH]
    assert catch.label == "States.ALL"
    placed = layout(graph)
    loop = [edge for edge in placed.edges if edge.backwards]
    assert [(edge.edge.source, edge.edge.target) for edge in loop] == [
        (state_id("Wait"), state_id("Ready?"))
    ]
    fan_out = placed.nodes[state_id("Fan out")]
    assert len(fan_out.scopes) == 2
    assert fan_out.height > max(inner.height for _, _, inner in fan_out.scopes)
