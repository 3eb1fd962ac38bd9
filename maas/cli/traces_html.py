"""A trace's waterfall as one self-contained HTML page: inline CSS, no script, no CDN.

Every text that comes from the trace (names, annotation keys and values) is escaped; bars
are ``div`` elements placed with percentages of the trace's duration.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from maas.htmlpage import page

if TYPE_CHECKING:
    from maas.cli.traces import Span, Waterfall

#: The waterfall's rules, after the shared page's (:data:`maas.htmlpage.BASE_STYLE`).
_STYLE = """
td.name { white-space: nowrap; }
td.track { width: 40%; }
div.track { position: relative; height: 14px; background: #f3f4f7; }
div.bar { position: absolute; top: 2px; height: 10px; min-width: 2px; background: #3b82c4; }
tr.fault div.bar { background: #c0392b; } tr.fault td.name { color: #c0392b; }
tr.error div.bar { background: #d68910; } tr.throttle div.bar { background: #8e44ad; }
span.annotation { display: inline-block; margin: 0 6px 0 0; color: #5b6475; }
span.annotation b { color: #1d2330; font-weight: 500; }
"""


def render_html(found: Waterfall) -> str:
    """The page for ``found``: a title line, then one table row per span."""
    rows = "\n".join(_row(span, found.duration_ms) for span in found.spans)
    title = f"trace {found.trace_id}"
    meta = escape(
        f"started {found.start:%Y-%m-%d %H:%M:%S} UTC, {found.duration_ms:.1f} ms, "
        f"{len(found.spans)} segments and subsegments"
    )
    body = (
        f'<h1>{escape(title)}</h1><p class="meta">{meta}</p>\n'
        "<table><thead><tr><th>span</th><th>start ms</th><th>ms</th><th>waterfall</th>"
        "<th>annotations</th></tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody></table>"
    )
    return page(title, body, style=_STYLE)


def _row(span: Span, total_ms: float) -> str:
    left, width = _placement(span, total_ms)
    duration = "-" if span.duration_ms is None else f"{span.duration_ms:.1f}"
    annotations = "".join(
        f'<span class="annotation">{escape(str(key))}=<b>{escape(str(value))}</b></span>'
        for key, value in span.annotations.items()
    )
    indent = span.depth * 16
    return (
        f'<tr class="{escape(span.status.replace(" ", "-"))}">'
        f'<td class="name" style="padding-left:{indent + 8}px" title="{escape(span.kind)}">'
        f"{escape(span.name)}</td>"
        f'<td class="num">{span.start_ms:.1f}</td><td class="num">{duration}</td>'
        f'<td class="track"><div class="track"><div class="bar" '
        f'style="left:{left:.3f}%;width:{width:.3f}%"></div></div></td>'
        f"<td>{annotations}</td></tr>"
    )


def _placement(span: Span, total_ms: float) -> tuple[float, float]:
    # Offset and width in percent of the trace; an open span runs to the trace's end.
    if total_ms <= 0:
        return 0.0, 100.0
    left = min(100.0, span.start_ms / total_ms * 100)
    duration = span.duration_ms if span.duration_ms is not None else total_ms - span.start_ms
    return left, max(0.0, min(100.0 - left, duration / total_ms * 100))


__all__ = ["render_html"]
