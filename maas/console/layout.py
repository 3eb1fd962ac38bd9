"""A layered layout of a state machine's graph, top to bottom, computed here in Python.

Why this exists: the console runs offline and ships no JavaScript, so the graph is placed on
the server and drawn as SVG (:mod:`maas.console.svg`). The method is Sugiyama's, kept small:

1. the edges that close a loop (a wait loop's way back to its check) are found by a depth-first
   walk from Start and turned round, so that what is left is acyclic;
2. each node goes on the layer of its longest path from Start (End on the last layer);
3. an edge that spans several layers gets a waypoint on each layer it crosses, so that the
   ordering makes room for it and it never runs through a box;
4. the nodes of each layer are ordered by the mean position of their neighbours, sweeping down
   and up a few times, which removes most crossings;
5. each node is placed under the mean of its upper neighbours, pushed right only as far as the
   node before it needs.

A Parallel or Map state is a box holding its scopes (branches side by side), each laid out the
same way, so the box's size is known before its own scope is laid out.
"""

from __future__ import annotations

import itertools
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from maas.console.graph import Edge, Node, Scope

#: Characters per line of a state's name in its box, and the box's text metrics (12 px type).
WRAP: Final = 26
CHAR_WIDTH: Final = 7.0
LINE_HEIGHT: Final = 15.0
#: Space between layers, between neighbours on a layer, and inside a Parallel or Map box.
LAYER_GAP: Final = 44.0
NODE_GAP: Final = 28.0
PADDING: Final = 12.0
HEADER: Final = 34.0
#: Sweeps of the ordering step (each one down, then up).
SWEEPS: Final = 4
#: Room a waypoint takes on its layer, so that edges side by side do not overlap.
WAYPOINT_WIDTH: Final = 12.0


@dataclass
class PlacedNode:
    """A node's box (top-left corner and size, in its scope's coordinates)."""

    node: Node
    x: float
    y: float
    width: float
    height: float
    lines: list[str]
    scopes: list[tuple[float, float, PlacedScope]] = field(default_factory=list)

    @property
    def centre(self) -> float:
        """The box's horizontal centre."""
        return self.x + self.width / 2


@dataclass
class PlacedEdge:
    """An edge drawn through ``points`` (first at its source, last at its target)."""

    edge: Edge
    points: list[tuple[float, float]]
    backwards: bool = False


@dataclass
class PlacedScope:
    """A scope laid out: its nodes, its edges and its size."""

    scope: Scope
    nodes: dict[str, PlacedNode]
    edges: list[PlacedEdge]
    width: float
    height: float


def layout(scope: Scope) -> PlacedScope:
    """Place ``scope``'s nodes and route its edges; nested scopes are placed inside their box."""
    boxes = {node_id: _box(node) for node_id, node in scope.nodes.items()}
    reversed_edges = _loop_closing(scope)
    forward = [
        (edge.target, edge.source) if index in reversed_edges else (edge.source, edge.target)
        for index, edge in enumerate(scope.edges)
    ]
    layer = _layers(scope, forward)
    chains, layers = _waypoints(scope, forward, layer)
    _order(layers, forward, chains)
    size = {node_id: (box.width, box.height) for node_id, box in boxes.items()}
    xs, ys, rows, width, height = _coordinates(layers, size, chains)
    for node_id, box in boxes.items():
        box.x, box.y = xs[node_id], ys[node_id]
    edges = [
        _route(edge, chains[index], boxes, xs, (ys, rows), backwards=index in reversed_edges)
        for index, edge in enumerate(scope.edges)
    ]
    return PlacedScope(scope, boxes, edges, width, height)


def _box(node: Node) -> PlacedNode:
    if node.virtual:
        return PlacedNode(node, 0, 0, 64, 26, [node.name])
    lines = textwrap.wrap(node.name, WRAP, break_long_words=True) or [""]
    text_width = max(len(line) for line in [*lines, node.type]) * CHAR_WIDTH
    if not node.scopes:
        return PlacedNode(
            node, 0, 0, max(140.0, text_width + 24), (len(lines) + 1) * LINE_HEIGHT + 12, lines
        )
    inner = [layout(scope) for scope in node.scopes]
    x, placed = PADDING, []
    for scope in inner:
        placed.append((x, HEADER + len(lines) * LINE_HEIGHT, scope))
        x += scope.width + PADDING
    width = max(x, text_width + 2 * PADDING)
    height = HEADER + len(lines) * LINE_HEIGHT + max(scope.height for scope in inner) + PADDING
    return PlacedNode(node, 0, 0, width, height, lines, placed)


def _loop_closing(scope: Scope) -> set[int]:
    """Indexes of the edges that close a cycle, found depth first from Start."""
    outgoing: dict[str, list[int]] = {node_id: [] for node_id in scope.nodes}
    for index, edge in enumerate(scope.edges):
        outgoing[edge.source].append(index)
    closing: set[int] = set()
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    roots = [scope.start, *scope.nodes]
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node_id, position = stack[-1]
            if position == len(outgoing[node_id]):
                state[node_id] = 2
                stack.pop()
                continue
            stack[-1] = (node_id, position + 1)
            index = outgoing[node_id][position]
            target = scope.edges[index].target
            if state.get(target) == 1:
                closing.add(index)
            elif target not in state:
                state[target] = 1
                stack.append((target, 0))
    return closing


def _layers(scope: Scope, forward: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's layer: its longest path from a node with no way in (Start first)."""
    incoming = {node_id: 0 for node_id in scope.nodes}
    outgoing: dict[str, list[str]] = {node_id: [] for node_id in scope.nodes}
    for source, target in forward:
        if source != target:
            incoming[target] += 1
            outgoing[source].append(target)
    layer = dict.fromkeys(scope.nodes, 0)
    ready = [node_id for node_id, count in incoming.items() if count == 0]
    while ready:
        node_id = ready.pop()
        for target in outgoing[node_id]:
            layer[target] = max(layer[target], layer[node_id] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    # End closes the drawing, below every state.
    if any(target == scope.end for _, target in forward):
        layer[scope.end] = max(layer.values()) + (0 if _only_end_last(layer, scope.end) else 1)
    return layer


def _only_end_last(layer: dict[str, int], end: str) -> bool:
    deepest = max(layer.values())
    return [node_id for node_id, value in layer.items() if value == deepest] == [end]


def _waypoints(
    scope: Scope, forward: list[tuple[str, str]], layer: dict[str, int]
) -> tuple[list[list[str]], list[list[str]]]:
    """Each edge's chain of node ids (waypoints between), and the layers' members in order."""
    depth = max(layer.values()) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for node_id in scope.nodes:  # definition order: a sensible start for the ordering
        layers[layer[node_id]].append(node_id)
    chains: list[list[str]] = []
    for index, (source, target) in enumerate(forward):
        chain = [source]
        for between in range(layer[source] + 1, layer[target]):
            waypoint = f"~{index}:{between}"
            layers[between].append(waypoint)
            chain.append(waypoint)
        chains.append([*chain, target])
    return chains, layers


def _order(
    layers: list[list[str]], forward: list[tuple[str, str]], chains: list[list[str]]
) -> None:
    """Reorder each layer by its members' neighbours' mean position (barycentres)."""
    above: dict[str, list[str]] = {}
    below: dict[str, list[str]] = {}
    for chain in chains:
        for upper, lower in itertools.pairwise(chain):
            below.setdefault(upper, []).append(lower)
            above.setdefault(lower, []).append(upper)
    for _ in range(SWEEPS):
        for index in range(1, len(layers)):
            _sort_by(layers[index], layers[index - 1], above)
        for index in range(len(layers) - 2, -1, -1):
            _sort_by(layers[index], layers[index + 1], below)


def _sort_by(members: list[str], reference: list[str], neighbours: dict[str, list[str]]) -> None:
    where = {node_id: position for position, node_id in enumerate(reference)}

    def barycentre(item: tuple[int, str]) -> float:
        position, node_id = item
        linked = [where[other] for other in neighbours.get(node_id, []) if other in where]
        return sum(linked) / len(linked) if linked else float(position)

    members[:] = [node_id for _, node_id in sorted(enumerate(members), key=barycentre)]


def _coordinates(
    layers: list[list[str]], size: dict[str, tuple[float, float]], chains: list[list[str]]
) -> tuple[dict[str, float], dict[str, float], dict[str, float], float, float]:
    """Top-left corners of every node and waypoint, each one's row height, the drawing's size."""
    above: dict[str, list[str]] = {}
    for chain in chains:
        for upper, lower in itertools.pairwise(chain):
            above.setdefault(lower, []).append(upper)
    xs: dict[str, float] = {}
    ys: dict[str, float] = {}
    centres: dict[str, float] = {}
    rows: dict[str, float] = {}
    top = PADDING
    for members in layers:
        row = max((size.get(node_id, (WAYPOINT_WIDTH, 0.0))[1] for node_id in members), default=0)
        right = PADDING - NODE_GAP
        overshoot: list[float] = []
        for node_id in members:
            width, height = size.get(node_id, (WAYPOINT_WIDTH, 0.0))
            linked = [centres[other] for other in above.get(node_id, []) if other in centres]
            wanted = sum(linked) / len(linked) - width / 2 if linked else right + NODE_GAP
            xs[node_id] = max(wanted, right + NODE_GAP)
            if linked:
                overshoot.append(xs[node_id] - wanted)
            right = xs[node_id] + width
            # A waypoint spans its whole row: the edge runs straight down past the boxes.
            ys[node_id] = top + (row - height) / 2 if node_id in size else top
            rows[node_id] = row
        # Pushed right to make room, the layer is moved back to sit centred under its parents.
        back = sum(overshoot) / len(overshoot) if overshoot else 0.0
        for node_id in members:
            xs[node_id] -= back
            centres[node_id] = xs[node_id] + size.get(node_id, (WAYPOINT_WIDTH, 0.0))[0] / 2
        top += row + LAYER_GAP
    shift = PADDING - min(xs.values(), default=PADDING)
    for node_id in xs:
        xs[node_id] += shift
    width = max((xs[n] + size.get(n, (WAYPOINT_WIDTH, 0.0))[0] for n in xs), default=0) + PADDING
    return xs, ys, rows, width, top - LAYER_GAP + PADDING


def _route(
    edge: Edge,
    chain: list[str],
    boxes: dict[str, PlacedNode],
    xs: dict[str, float],
    rows: tuple[dict[str, float], dict[str, float]],
    *,
    backwards: bool,
) -> PlacedEdge:
    """The edge's points: out of its source's bottom, through its waypoints, into its target."""
    if edge.source == edge.target:  # a state that moves on to itself: a loop on its right
        box = boxes[edge.source]
        right, middle = box.x + box.width, box.y + box.height / 2
        points = [
            (right, middle - 6),
            (right + 18, middle - 6),
            (right + 18, middle + 6),
            (right, middle + 6),
        ]
        return PlacedEdge(edge, points, backwards=True)
    upper, lower = boxes[chain[0]], boxes[chain[-1]]
    # A loop's way back leaves and arrives off-centre, beside the forward edges.
    offset = min(upper.width, lower.width) / 4 if backwards else 0.0
    points = [(upper.centre + offset, upper.y + upper.height)]
    tops, heights = rows
    for waypoint in chain[1:-1]:
        x = xs[waypoint] + WAYPOINT_WIDTH / 2
        points += [(x, tops[waypoint]), (x, tops[waypoint] + heights[waypoint])]
    points.append((lower.centre + offset, lower.y))
    if backwards:
        points.reverse()
    return PlacedEdge(edge, points, backwards=backwards)


__all__ = ["PlacedEdge", "PlacedNode", "PlacedScope", "layout"]
