"""Draw a laid-out state machine, and a metric's sparkline, as inline SVG.

Every text comes from a definition or an execution, which a tenant's request may have named,
so every text is escaped. A state's box links to its row in the page (``#state-...``), and a
status (from an execution's history) colours it, with the status also in its title, so that
colour is never the only sign of it.

Examples
--------
>>> sparkline([1.0, 3.0, 2.0], width=40, height=10).startswith('<svg class="sparkline"')
True
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import TYPE_CHECKING, Final

from maas.console.graph import EdgeKind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from maas.console.layout import PlacedEdge, PlacedNode, PlacedScope

#: Characters of an edge's label drawn; the whole label is its title.
LABEL_CHARS: Final = 34

#: Rules of the drawing, placed in the page's stylesheet.
STYLE: Final = """
svg.graph { font: 12px system-ui, sans-serif; max-width: 100%; height: auto; }
svg.graph rect.state { fill: #fff; stroke: #5b6475; }
svg.graph rect.virtual { fill: #eef0f4; stroke: #9aa1ae; }
svg.graph rect.compound { fill: #f7f8fa; stroke: #9aa1ae; stroke-dasharray: 4 3; }
svg.graph text.type { fill: #5b6475; font-size: 10px; }
svg.graph path.edge { fill: none; stroke: #5b6475; stroke-width: 1.2; }
svg.graph path.edge.catch { stroke: #c0392b; stroke-dasharray: 5 3; }
svg.graph path.edge.default { stroke-dasharray: 3 3; }
svg.graph text.label { fill: #5b6475; font-size: 10px; }
svg.graph text.label.catch { fill: #c0392b; }
svg.graph g.succeeded rect { fill: #e3f4e8; stroke: #2e8b57; stroke-width: 2; }
svg.graph g.running rect { fill: #e4eefa; stroke: #3b82c4; stroke-width: 2; }
svg.graph g.caught rect { fill: #fdf1dc; stroke: #d68910; stroke-width: 2; }
svg.graph g.failed rect { fill: #fbeeed; stroke: #c0392b; stroke-width: 2; }
svg.graph a:focus rect { stroke: #1d2330; stroke-width: 3; }
svg.sparkline polyline { fill: none; stroke: #3b82c4; stroke-width: 1.5; }
"""


def anchor(state_name: str) -> str:
    """The id of a state's row in a page: stable, and safe whatever the name holds."""
    return "state-" + hashlib.sha256(state_name.encode()).hexdigest()[:12]


def render_graph(
    placed: PlacedScope, *, title: str, statuses: Mapping[str, str] | None = None
) -> str:
    """The SVG of ``placed``; ``statuses`` colours states by name (running, succeeded, ...)."""
    body = _scope(placed, statuses or {})
    return (
        f'<svg class="graph" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {placed.width:.0f} {placed.height:.0f}" '
        f'width="{placed.width:.0f}" height="{placed.height:.0f}" '
        'xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        'fill="#5b6475"/></marker></defs>'
        f"{body}</svg>"
    )


def _scope(placed: PlacedScope, statuses: Mapping[str, str]) -> str:
    parts = [_edge(edge) for edge in placed.edges]
    parts += [_node(node, statuses) for node in placed.nodes.values()]
    return "".join(parts)


def _edge(placed: PlacedEdge) -> str:
    kind = placed.edge.kind
    points = placed.points
    path = "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points)
    label = ""
    if placed.edge.label and kind in {EdgeKind.CHOICE, EdgeKind.CATCH}:
        # Beside the edge's first bend, where edges from one state have not met yet.
        x, y = points[1] if len(points) > 2 else points[0]
        text = placed.edge.label
        short = text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
        label = (
            f'<text class="label {kind.value}" x="{x + 4:.1f}" y="{y + 12:.1f}">'
            f"<title>{escape(text)}</title>{escape(short)}</text>"
        )
    return (
        f'<path class="edge {kind.value}" d="{path}" marker-end="url(#arrow)">'
        f"<title>{escape(_edge_title(placed))}</title></path>{label}"
    )


def _edge_title(placed: PlacedEdge) -> str:
    edge = placed.edge
    words = {
        EdgeKind.START: "starts at",
        EdgeKind.NEXT: "next",
        EdgeKind.CHOICE: "when " + edge.label,
        EdgeKind.DEFAULT: "otherwise",
        EdgeKind.CATCH: "on " + edge.label,
        EdgeKind.END: "ends",
    }
    return f"{_name(edge.source)} → {_name(edge.target)}: {words[edge.kind]}"


def _name(node_id: str) -> str:
    kind, _, rest = node_id.partition(":")
    return rest if kind == "state" else kind.capitalize()


def _node(placed: PlacedNode, statuses: Mapping[str, str]) -> str:
    node = placed.node
    x, y, width, height = placed.x, placed.y, placed.width, placed.height
    if node.virtual:
        return (
            f'<g class="virtual"><rect class="virtual" x="{x:.1f}" y="{y:.1f}" '
            f'width="{width:.1f}" height="{height:.1f}" rx="13"/>'
            f'<text x="{x + width / 2:.1f}" y="{y + 17:.1f}" text-anchor="middle">'
            f"{escape(node.name)}</text></g>"
        )
    status = statuses.get(node.name, "")
    shape = "compound" if placed.scopes else "state"
    title = f"{node.name} ({node.type})" + (f": {status}" if status else "")
    text = "".join(
        f'<text x="{x + 10:.1f}" y="{y + 17 + index * 15:.1f}">{escape(line)}</text>'
        for index, line in enumerate(placed.lines)
    )
    kind_y = y + 17 + len(placed.lines) * 15
    inner = "".join(
        f'<g transform="translate({x + dx:.1f},{y + dy:.1f})">{_scope(scope, statuses)}</g>'
        for dx, dy, scope in placed.scopes
    )
    return (
        f'<g class="{escape(status)}"><a href="#{anchor(node.name)}">'
        f"<title>{escape(title)}</title>"
        f'<rect class="{shape}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}" rx="4"/>{text}'
        f'<text class="type" x="{x + 10:.1f}" y="{kind_y:.1f}">{escape(node.type)}</text>'
        f"</a>{inner}</g>"
    )


def sparkline(values: Sequence[float], *, width: int = 120, height: int = 24) -> str:
    """A line of ``values`` (oldest first) scaled to the box; a flat line when they are equal."""
    if not values:
        return '<span class="none">no data</span>'
    low, high = min(values), max(values)
    spread = (high - low) or 1.0
    step = width / max(1, len(values) - 1)
    points = " ".join(
        f"{index * step:.1f},{height - 2 - (value - low) / spread * (height - 4):.1f}"
        for index, value in enumerate(values)
    )
    return (
        f'<svg class="sparkline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{len(values)} values from {low:g} to {high:g}">'
        f'<polyline points="{points}"/></svg>'
    )


__all__ = ["STYLE", "anchor", "render_graph", "sparkline"]
