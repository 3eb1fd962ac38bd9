"""``maas traces list`` and ``maas traces show``: X-Ray traces as a table and a waterfall.

Both read through a boto3 ``xray`` client, so they show AWS's traces, or the local
runtime's that ``AWS_ENDPOINT_URL`` points at. ``show`` prints each segment and subsegment
of a trace on one line, indented by nesting, with a bar whose offset and width are its
start and duration within the trace, and its annotations; ``--html`` writes the same
waterfall as one self-contained HTML page (:mod:`maas.cli.traces_html`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from maas.cli.exit_codes import ExitCode
from maas.cli.traces_html import render_html

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

#: X-Ray trace ids: version 1, the epoch second in hex, 96 random bits in hex.
TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")

#: Characters of the waterfall's bar column in the terminal.
BAR_WIDTH = 40

#: Annotation keys shown in ``list``'s table, when a trace has them.
_LISTED_ANNOTATIONS = ("tenant", "endpoint", "model", "version")


@dataclass(frozen=True)
class Span:
    """One segment or subsegment of a trace, placed in the waterfall."""

    id: str
    name: str
    depth: int
    start_ms: float
    duration_ms: float | None
    kind: str
    annotations: dict[str, Any] = field(default_factory=dict)
    fault: bool = False
    error: bool = False
    throttle: bool = False

    @property
    def status(self) -> str:
        """``fault``, ``error``, ``throttle``, ``in progress`` or ``ok``."""
        if self.fault:
            return "fault"
        if self.error:
            return "error"
        if self.throttle:
            return "throttle"
        return "in progress" if self.duration_ms is None else "ok"


@dataclass(frozen=True)
class Waterfall:
    """A trace laid out for display: its spans in start order, depth first."""

    trace_id: str
    start: datetime
    duration_ms: float
    spans: list[Span]

    def as_json(self) -> dict[str, Any]:
        """The waterfall as plain JSON values."""
        return {
            "trace_id": self.trace_id,
            "start": self.start.isoformat(),
            "duration_ms": self.duration_ms,
            "spans": [{**asdict(span), "status": span.status} for span in self.spans],
        }


def waterfall(trace_id: str, documents: list[dict[str, Any]]) -> Waterfall:
    """Lay out a trace's segment documents (``BatchGetTraces``) as a :class:`Waterfall`.

    A segment whose ``parent_id`` is a subsegment of another segment (a Lambda function
    called by a Step Functions task, an endpoint called from a stage) is placed under it.
    """
    entities: dict[str, dict[str, Any]] = {}
    for document in documents:
        _index(document, entities)
    children: dict[str | None, list[dict[str, Any]]] = {}
    for document in documents:
        parent = document.get("parent_id")
        children.setdefault(parent if parent in entities else None, []).append(document)
    starts = [float(entity["start_time"]) for entity in entities.values()]
    ends = [float(entity["end_time"]) for entity in entities.values() if "end_time" in entity]
    origin = min(starts)
    spans: list[Span] = []

    def visit(entity: dict[str, Any], depth: int, inherited: dict[str, Any]) -> None:
        annotations = dict(entity.get("annotations") or {})
        shown = {key: value for key, value in annotations.items() if inherited.get(key) != value}
        end = entity.get("end_time")
        start = float(entity["start_time"])
        spans.append(
            Span(
                id=str(entity["id"]),
                name=str(entity.get("name", "?")),
                depth=depth,
                start_ms=round((start - origin) * 1000, 3),
                duration_ms=None if end is None else round((float(end) - start) * 1000, 3),
                kind=str(entity.get("origin") or entity.get("namespace") or entity.get("type", "")),
                annotations=shown,
                fault=bool(entity.get("fault")),
                error=bool(entity.get("error")),
                throttle=bool(entity.get("throttle")),
            )
        )
        nested = list(entity.get("subsegments") or []) + children.get(str(entity["id"]), [])
        for child in sorted(nested, key=lambda item: float(item["start_time"])):
            visit(child, depth + 1, {**inherited, **annotations})

    for root in sorted(children.get(None, []), key=lambda item: float(item["start_time"])):
        visit(root, 0, {})
    return Waterfall(
        trace_id=trace_id,
        start=datetime.fromtimestamp(origin, UTC),
        duration_ms=round((max(ends, default=origin) - origin) * 1000, 3),
        spans=spans,
    )


def fetch_waterfall(xray: Any, trace_id: str) -> Waterfall | None:
    """The trace ``trace_id`` read with ``BatchGetTraces``, or None if X-Ray has no such trace."""
    response = xray.batch_get_traces(TraceIds=[trace_id])
    for trace in response.get("Traces", []):
        if trace.get("Id") == trace_id and trace.get("Segments"):
            documents = [json.loads(segment["Document"]) for segment in trace["Segments"]]
            return waterfall(trace_id, documents)
    return None


def run_show(
    console: Console, xray: Any, trace_id: str, *, as_json: bool, html_path: Path | None
) -> None:
    """Print the trace's waterfall (or its JSON), and write it as HTML when asked."""
    if not TRACE_ID.fullmatch(trace_id):
        console.print(
            f"[bold red]invalid trace id[/] {trace_id!r}: expected 1-<8 hex digits>-<24 hex digits>"
        )
        raise typer.Exit(code=ExitCode.USAGE)
    found = fetch_waterfall(xray, trace_id)
    if found is None:
        console.print(
            f"[bold red]trace not found[/]: {trace_id} (unknown id, expired, "
            "or not yet processed by X-Ray)"
        )
        raise typer.Exit(code=ExitCode.NOT_FOUND)
    if as_json:
        console.print_json(data=found.as_json())
    else:
        console.print(render_waterfall(found))
    if html_path is not None:
        html_path.write_text(render_html(found), encoding="utf-8")
        if not as_json:
            console.print(f"[dim]wrote[/] {html_path}")


def render_waterfall(found: Waterfall) -> Table:
    """The waterfall as a Rich table: span, start, duration, bar, annotations."""
    table = Table(
        title=f"trace {found.trace_id}  {found.start:%Y-%m-%d %H:%M:%S} UTC  "
        f"{found.duration_ms:.1f} ms",
        title_justify="left",
    )
    table.add_column("span", no_wrap=True)
    table.add_column("start ms", justify="right")
    table.add_column("ms", justify="right")
    table.add_column("waterfall", no_wrap=True)
    table.add_column("annotations")
    for span in found.spans:
        style = {"fault": "bold red", "error": "yellow", "throttle": "magenta"}.get(span.status, "")
        name = Text("  " * span.depth + span.name, style=style)
        table.add_row(
            name,
            f"{span.start_ms:.1f}",
            "-" if span.duration_ms is None else f"{span.duration_ms:.1f}",
            Text(bar(span, found.duration_ms), style="cyan"),
            _annotation_text(span.annotations),
        )
    return table


def bar(span: Span, total_ms: float, width: int = BAR_WIDTH) -> str:
    """The span's bar: blanks up to its start, then at least one block for its duration.

    Examples
    --------
    >>> bar(Span("a", "a", 0, start_ms=50, duration_ms=50, kind=""), 100, width=10)
    '     █████'
    """
    if total_ms <= 0:
        return "█".ljust(width)
    offset = min(width - 1, int(span.start_ms / total_ms * width))
    duration = span.duration_ms if span.duration_ms is not None else total_ms - span.start_ms
    length = max(1, min(width - offset, round(duration / total_ms * width)))
    return (" " * offset + "█" * length).ljust(width)


def run_list(console: Console, xray: Any, *, since_minutes: int, as_json: bool) -> None:
    """Print the traces that started in the last ``since_minutes`` minutes, newest first."""
    until = datetime.now(UTC)
    since = until - timedelta(minutes=since_minutes)
    summaries: list[dict[str, Any]] = []
    for page in xray.get_paginator("get_trace_summaries").paginate(StartTime=since, EndTime=until):
        summaries.extend(page.get("TraceSummaries", []))
    rows = sorted((_summary_row(item) for item in summaries), key=lambda row: row["start"])
    rows.reverse()
    if as_json:
        console.print_json(data=rows)
        return
    table = Table(title=f"traces of the last {since_minutes} min", title_justify="left")
    table.add_column("trace id", no_wrap=True)
    table.add_column("start (UTC)")
    table.add_column("ms", justify="right")
    table.add_column("root")
    table.add_column("annotations")
    table.add_column("status", no_wrap=True)
    for row in rows:
        listed = {
            key: row["annotations"][key] for key in _LISTED_ANNOTATIONS if key in row["annotations"]
        }
        table.add_row(
            row["id"],
            row["start"][:23].replace("T", " "),
            "-" if row["duration_ms"] is None else f"{row['duration_ms']:.1f}",
            row["root"] or "-",
            _annotation_text(listed),
            Text(row["status"], style="bold red" if row["status"] == "fault" else ""),
        )
    if not rows:
        console.print(f"no traces in the last {since_minutes} minutes")
        return
    console.print(table)


def _summary_row(summary: dict[str, Any]) -> dict[str, Any]:
    start = summary.get("StartTime")
    if not isinstance(start, datetime):
        start = _start_of(summary["Id"])
    annotations = {
        key: ",".join(str(_plain(value["AnnotationValue"])) for value in values)
        for key, values in (summary.get("Annotations") or {}).items()
    }
    status = "ok"
    for flag, name in (("HasFault", "fault"), ("HasError", "error"), ("HasThrottle", "throttle")):
        if summary.get(flag):
            status = name
            break
    duration = summary.get("Duration")
    return {
        "id": summary["Id"],
        "start": start.astimezone(UTC).isoformat(),
        "duration_ms": None if duration is None else round(float(duration) * 1000, 3),
        "root": (summary.get("EntryPoint") or {}).get("Name"),
        "annotations": annotations,
        "status": status,
    }


def _start_of(trace_id: str) -> datetime:
    # A trace id's second part is its start, in epoch seconds: what X-Ray falls back to.
    return datetime.fromtimestamp(int(trace_id.split("-")[1], 16), UTC)


def _plain(value: dict[str, Any]) -> Any:
    for key in ("StringValue", "NumberValue", "BooleanValue"):
        if key in value:
            return value[key]
    return None


def _index(entity: dict[str, Any], entities: dict[str, dict[str, Any]]) -> None:
    entities[str(entity["id"])] = entity
    for child in entity.get("subsegments") or []:
        _index(child, entities)


def _annotation_text(annotations: dict[str, Any]) -> Text:
    return Text(" ".join(f"{key}={value}" for key, value in annotations.items()), style="dim")


__all__ = ["Span", "Waterfall", "bar", "fetch_waterfall", "run_list", "run_show", "waterfall"]
