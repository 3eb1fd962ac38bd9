"""The console's pages: HTML built from what :mod:`maas.console.data` read, every text escaped.

Names in these pages come from tenants (executions, endpoints, models, questions), so every
value goes through :func:`html.escape` and every path segment through :func:`urllib.parse.quote`;
the pages carry no script (the app's Content-Security-Policy forbids one), and the shell is the
project's shared one (:func:`maas.htmlpage.page`).
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from functools import cache
from html import escape
from typing import TYPE_CHECKING, Any, Final, get_args
from urllib.parse import quote, urlencode

from maas.console.data import ExecutionStatus, event_details, machine_of
from maas.console.graph import build_graph
from maas.console.layout import layout
from maas.console.svg import STYLE as GRAPH_STYLE
from maas.console.svg import anchor, render_graph, sparkline
from maas.htmlpage import page
from schemas import EVENT_DETAIL_MODELS
from schemas.export import SCHEMA_SUFFIX, json_schemas

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from maas.console.data import (
        EndpointItem,
        ExecutionDetail,
        ExecutionFilters,
        ExecutionItem,
        StateMachine,
        VersionItem,
    )
    from maas.evaluation.report import ReportSummary
    from schemas.evaluation import EvaluationRecord

#: Where the console is served, under the API's host.
PREFIX: Final = "/console"

_STYLE = """
nav { margin: -8px 0 16px; padding: 0 0 8px; border-bottom: 1px solid #e6e8ee; }
nav a { margin-right: 14px; color: #3b82c4; text-decoration: none; font-weight: 600; }
nav a[aria-current] { color: #1d2330; }
h2 { font-size: 14px; margin: 20px 0 6px; }
a { color: #3b82c4; }
pre, code { font: 12px ui-monospace, monospace; background: #f3f4f7; }
pre { padding: 8px; overflow: auto; max-height: 40em; white-space: pre-wrap; }
div.split { display: flex; gap: 16px; align-items: flex-start; }
div.split > div { flex: 1 1 50%; min-width: 0; overflow: auto; }
span.status { padding: 0 5px; border-radius: 3px; background: #eef0f4; }
span.status.SUCCEEDED, span.status.succeeded, span.status.InService { background: #e3f4e8; }
span.status.RUNNING, span.status.running, span.status.Creating, span.status.Updating {
  background: #e4eefa; }
span.status.FAILED, span.status.failed, span.status.TIMED_OUT, span.status.ABORTED,
span.status.Failed { background: #fbeeed; }
span.status.caught { background: #fdf1dc; }
div.error { padding: 8px 12px; border-left: 4px solid #c0392b; background: #fbeeed; }
form.filters label { margin-right: 10px; }
details summary { cursor: pointer; color: #3b82c4; }
td.io pre { max-height: 12em; margin: 2px 0; }
"""


def _link(path: str, text: str, **query: str) -> str:
    href = PREFIX + path + (f"?{urlencode(query)}" if query else "")
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def _workflow_link(name: str) -> str:
    return _link(f"/workflows/{quote(name, safe='')}", name)


def _report_path(record: EvaluationRecord) -> str:
    return f"/reports/{quote(record.tenant_id, safe='')}/{quote(record.evaluation_id, safe='')}"


def execution_path(execution_arn: str) -> str:
    """The console's path of an execution, from its ARN."""
    machine, name = machine_of(execution_arn)
    return f"/executions/{quote(machine, safe='')}/{quote(name, safe='')}"


def _shell(title: str, current: str, body: str) -> str:
    items = [
        ("workflows", "/workflows", "Workflows"),
        ("executions", "/executions", "Executions"),
        ("endpoints", "/endpoints", "Endpoints"),
        ("models", "/models", "Models"),
        ("events", "/events", "Events"),
    ]
    nav = "".join(
        f'<a href="{PREFIX}{path}"'
        + (' aria-current="page"' if key == current else "")
        + f">{text}</a>"
        for key, path, text in items
    )
    return page(
        f"{title} · maas console",
        f'<nav aria-label="console">{nav}</nav><main><h1>{escape(title)}</h1>{body}</main>',
        style=_STYLE + GRAPH_STYLE,
    )


def _status(value: str | None) -> str:
    text = value or "-"
    return f'<span class="status {escape(text)}">{escape(text)}</span>'


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else escape(f"{moment:%Y-%m-%d %H:%M:%S} UTC")


def _json(text: Any) -> str:
    """A JSON document (text or value) indented; text that is not JSON as it is."""
    if isinstance(text, str):
        try:
            text = json.loads(text)
        except json.JSONDecodeError:
            return escape(text)
    return escape(json.dumps(text, indent=2, ensure_ascii=False, default=str))


def _table(head: Iterable[str], rows: Iterable[str], empty: str) -> str:
    body = "".join(rows)
    if not body:
        return f"<p>{escape(empty)}</p>"
    header = "".join(f'<th scope="col">{escape(name)}</th>' for name in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


# -- workflows -------------------------------------------------------------------------


def workflows_page(machines: list[StateMachine]) -> str:
    """Every state machine, each linked to its graph and its executions."""
    rows = (
        f"<tr><td>{_workflow_link(machine.name)}</td>"
        f"<td>{escape(machine.type)}</td>"
        f"<td>{_link('/executions', 'executions', workflow=machine.name)}</td></tr>"
        for machine in machines
    )
    return _shell(
        "Workflows", "workflows", _table(("workflow", "type", ""), rows, "No state machines.")
    )


def workflow_page(machine: StateMachine) -> str:
    """A state machine's graph beside its definition."""
    graph = render_graph(layout(build_graph(machine.definition)), title=f"{machine.name} graph")
    language = machine.definition.get("QueryLanguage", "JSONPath")
    body = (
        f'<p class="meta">{escape(machine.arn)} · {escape(str(language))} · '
        f"{_link('/executions', 'executions', workflow=machine.name)}</p>"
        f'<div class="split"><div><h2>Graph</h2>{graph}</div>'
        f"<div><h2>Definition</h2><pre>{_json(machine.definition_text)}</pre></div></div>"
    )
    return _shell(machine.name, "workflows", body)


# -- executions ------------------------------------------------------------------------


def executions_page(
    items: list[ExecutionItem],
    filters: ExecutionFilters,
    machines: list[StateMachine],
    *,
    truncated: bool,
) -> str:
    """The executions that pass the filters, with the filters' form above them."""
    rows = (
        f"<tr><td>{_link(execution_path(item.arn), item.name)}</td>"
        f"<td>{_workflow_link(item.workflow)}</td>"
        f"<td>{escape(item.tenant or '-')}</td><td>{_status(item.status)}</td>"
        f"<td>{_time(item.started_at)}</td><td>{_time(item.stopped_at)}</td></tr>"
        for item in items
    )
    note = (
        f"<p>Only the newest {len(items)} are shown; narrow the filters.</p>" if truncated else ""
    )
    table = _table(
        ("execution", "workflow", "tenant", "status", "started", "stopped"),
        rows,
        "No executions match.",
    )
    return _shell("Executions", "executions", _filters_form(filters, machines) + note + table)


def _filters_form(filters: ExecutionFilters, machines: list[StateMachine]) -> str:
    def options(values: Iterable[str], chosen: str | None) -> str:
        return '<option value="">any</option>' + "".join(
            f'<option value="{escape(value)}"'
            + (" selected" if value == chosen else "")
            + f">{escape(value)}</option>"
            for value in values
        )

    def moment(value: datetime | None) -> str:
        return "" if value is None else f"{value:%Y-%m-%dT%H:%M}"

    return (
        f'<form class="filters" method="get" action="{PREFIX}/executions">'
        '<label>workflow <select name="workflow">'
        f"{options((machine.name for machine in machines), filters.workflow)}</select></label>"
        '<label>status <select name="status">'
        f"{options(get_args(ExecutionStatus), filters.status)}</select></label>"
        f'<label>tenant <input name="tenant" size="12" value="{escape(filters.tenant or "")}">'
        "</label>"
        f'<label>since (UTC) <input type="datetime-local" name="since" '
        f'value="{moment(filters.since)}"></label>'
        f'<label>until (UTC) <input type="datetime-local" name="until" '
        f'value="{moment(filters.until)}"></label>'
        '<button type="submit">filter</button></form>'
    )


def execution_page(detail: ExecutionDetail, summaries: dict[str, ReportSummary | None]) -> str:
    """One execution: graph by status, errors, redrive, children, reports, states, history."""
    snapshot = detail.snapshot
    statuses: dict[str, str] = {}
    for visit in snapshot.visits:  # the latest visit of a state decides its colour
        statuses[visit.name] = visit.status.value
    graph = render_graph(
        layout(build_graph(detail.machine.definition)),
        title=f"{snapshot.name}: states by status",
        statuses=statuses,
    )
    sections = [
        f'<p class="meta">{_workflow_link(detail.machine.name)}'
        f" · {_status(snapshot.status)} · started {_time(snapshot.started_at)} · "
        f"stopped {_time(snapshot.stopped_at)} · {escape(snapshot.arn)}</p>",
    ]
    if snapshot.error or snapshot.cause:
        sections.append(
            f'<div class="error" role="alert"><b>{escape(snapshot.error or "")}</b>'
            f"<pre>{_json(snapshot.cause or '')}</pre></div>"
        )
    if detail.redrive_command:
        local = (
            "<p>The local runtime does not redrive (moto has no RedriveExecution): "
            "start the workflow again with the same input.</p>"
            if detail.local
            else ""
        )
        sections.append(f"<h2>Redrive</h2><pre>{escape(detail.redrive_command)}</pre>{local}")
    if detail.children:
        links = "".join(
            f"<li>{_link(execution_path(arn), arn.rsplit(':', 1)[-1])}</li>"
            for arn in detail.children
        )
        sections.append(f"<h2>Child executions</h2><ul>{links}</ul>")
    if detail.evaluations:
        sections.append(_evaluations_section(detail.evaluations, summaries))
    legend = " ".join(_status(status) for status in ("succeeded", "running", "caught", "failed"))
    sections += [
        f'<div class="split"><div><h2>Graph</h2><p class="meta">{legend} · not entered: '
        f"white</p>{graph}</div>"
        f"<div><h2>Input</h2><pre>{_json(detail.description.get('input', ''))}</pre>"
        f"<h2>Output</h2><pre>{_json(detail.description.get('output', ''))}</pre></div></div>",
        "<h2>States</h2>",
        _states_table(detail),
        f"<h2>Event history ({len(detail.events)})</h2>",
        _history_table(detail.events),
    ]
    return _shell(snapshot.name, "executions", "".join(sections))


def _evaluations_section(
    records: list[EvaluationRecord], summaries: dict[str, ReportSummary | None]
) -> str:
    rows = []
    for record in records:
        report = _link(_report_path(record), "report") if record.report_uri else "-"
        summary = summaries.get(record.evaluation_id)
        traces = (
            " ".join(
                _link(f"/traces/{quote(sample.trace_id, safe='')}", sample.id)
                for sample in summary.samples
                if sample.trace_id
            )
            if summary is not None
            else ""
        )
        rows.append(
            f"<tr><td>{escape(record.evaluation_id)}</td><td>{_status(record.status.value)}</td>"
            f"<td>{report}</td><td>{traces or '-'}</td></tr>"
        )
    return "<h2>Evaluations</h2>" + _table(("evaluation", "status", "report", "traces"), rows, "")


def _states_table(detail: ExecutionDetail) -> str:
    """One row per state visit, with the input it got and the output it gave."""
    entered: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
    exited: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
    for event in detail.events:
        if "stateEnteredEventDetails" in event:
            entered[event["stateEnteredEventDetails"]["name"]].append(
                event["stateEnteredEventDetails"]
            )
        elif "stateExitedEventDetails" in event:
            exited[event["stateExitedEventDetails"]["name"]].append(
                event["stateExitedEventDetails"]
            )
    rows, seen = [], set()
    for visit in detail.snapshot.visits:
        got = entered[visit.name].popleft() if entered[visit.name] else {}
        gave = exited[visit.name].popleft() if exited[visit.name] else {}
        # The row's id is the first visit's: the graph's boxes link to it.
        row_id = "" if visit.name in seen else f' id="{anchor(visit.name)}"'
        seen.add(visit.name)
        seconds = "-" if visit.seconds is None else f"{visit.seconds:.2f}"
        error = (
            f"<b>{escape(visit.error or '')}</b> {escape(visit.cause or '')}"
            if visit.error or visit.cause
            else ""
        )
        rows.append(
            f"<tr{row_id}><td>{escape(visit.name)}</td><td>{escape(visit.state_type)}</td>"
            f'<td>{_status(visit.status.value)}</td><td class="num">{seconds}</td>'
            f'<td class="io">{_folded("input", got.get("input", ""))}'
            f"{_folded('output', gave.get('output', ''))}</td><td>{error}</td></tr>"
        )
    return _table(
        ("state", "type", "status", "seconds", "input / output", "error"),
        rows,
        "No state entered yet.",
    )


def _folded(summary: str, document: Any) -> str:
    return f"<details><summary>{summary}</summary><pre>{_json(document)}</pre></details>"


def _history_table(events: list[dict[str, Any]]) -> str:
    rows = []
    for event in events:
        details = event_details(event)
        name = details.get("name", "")
        shown = {key: value for key, value in details.items() if key != "name"}
        rows.append(
            f'<tr><td class="num">{escape(str(event.get("id", "")))}</td>'
            f"<td>{_time(event.get('timestamp'))}</td><td>{escape(event.get('type', ''))}</td>"
            f"<td>{escape(str(name))}</td>"
            f"<td><details><summary>details</summary><pre>{_json(shown)}</pre></details></td></tr>"
            if shown
            else f'<tr><td class="num">{escape(str(event.get("id", "")))}</td>'
            f"<td>{_time(event.get('timestamp'))}</td><td>{escape(event.get('type', ''))}</td>"
            f"<td>{escape(str(name))}</td><td></td></tr>"
        )
    return _table(("id", "time", "type", "state", "details"), rows, "No events.")


# -- endpoints and models ----------------------------------------------------------------


def endpoints_page(
    items: list[EndpointItem], tenant: str | None, *, empty: str = "No endpoints."
) -> str:
    """Endpoints with status, instances and their last hour's figures as sparklines."""
    rows = (
        f"<tr><td>{escape(item.record.tenant_id)}</td><td>{escape(item.record.endpoint_name)}</td>"
        f"<td>{_status(item.record.status.value)}</td><td>{_status(item.status)}</td>"
        f"<td>{escape(item.record.instance_type)}</td>"
        f'<td class="num">{_count(item.current_instances)} / {_count(item.desired_instances)}</td>'
        f"<td>{escape(item.record.model.model_id)} v{escape(item.record.model.version)}</td>"
        + "".join(
            f"<td>{sparkline(item.series.get(metric, []))}</td>"
            for metric in ("Invocations", "ModelLatency", "ConcurrentRequestsPerModel")
        )
        + f"<td>{_correlation(item.record.correlation_id)}</td></tr>"
        for item in items
    )
    head = (
        "tenant",
        "endpoint",
        "record",
        "SageMaker",
        "instance type",
        "instances (now / wanted)",
        "model",
        "invocations / min",
        "latency (µs)",
        "in flight",
        "last changed by",
    )
    scope = f" of {tenant}" if tenant else ""
    return _shell(f"Endpoints{scope}", "endpoints", _table(head, rows, empty))


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _correlation(execution_name: str) -> str:
    link = _link("/executions", execution_name, tenant=execution_name.partition("_")[0])
    return link if "_" in execution_name else escape(execution_name)


def models_page(
    items: list[VersionItem], tenant: str | None, *, empty: str = "No model versions."
) -> str:
    """Model versions with their lineage: source, the execution that packaged them, the
    endpoints that serve them and their evaluations (with the reports)."""
    rows = []
    for item in items:
        record = item.record
        made_by = (
            _link(execution_path(record.execution_arn), record.correlation_id)
            if record.execution_arn
            else escape(record.correlation_id)
        )
        endpoints = ", ".join(escape(endpoint.endpoint_name) for endpoint in item.endpoints) or "-"
        evaluations = (
            ", ".join(_evaluation_link(evaluation) for evaluation in item.evaluations) or "-"
        )
        rows.append(
            f"<tr><td>{escape(record.tenant_id)}</td><td>{escape(record.model_name)}</td>"
            f'<td class="num">{record.version}</td><td>{_status(record.status.value)}</td>'
            f"<td><code>{escape(_source(record.source.model_dump(mode='json')))}</code></td>"
            f"<td>{made_by}</td><td>{endpoints}</td><td>{evaluations}</td></tr>"
        )
    head = (
        "tenant",
        "model",
        "version",
        "status",
        "source",
        "packaged by",
        "endpoints",
        "evaluations",
    )
    scope = f" of {tenant}" if tenant else ""
    return _shell(f"Models{scope}", "models", _table(head, rows, empty))


def _source(source: dict[str, Any]) -> str:
    kind = source.get("kind") or source.get("type") or ""
    where = source.get("model_id") or source.get("uri") or source.get("path") or ""
    revision = source.get("revision")
    return " ".join(str(part) for part in (kind, where, f"@{revision}" if revision else "") if part)


def _evaluation_link(record: EvaluationRecord) -> str:
    text = f"{record.evaluation_id} ({record.status.value})"
    if record.report_uri:
        return _link(_report_path(record), text)
    return escape(text)


@cache
def _event_schemas() -> dict[str, dict[str, Any]]:
    """Each event's published JSON Schema, by detail-type (schemas/json/event.*.schema.json)."""
    published = json_schemas()
    return {
        detail_type: published[f"event.{detail_type}{SCHEMA_SUFFIX}"]
        for detail_type in EVENT_DETAIL_MODELS
        if f"event.{detail_type}{SCHEMA_SUFFIX}" in published
    }


#: Events of one type shown at most, newest first.
EVENTS_SHOWN: Final = 100


def events_page(
    events: list[dict[str, Any]], detail_type: str | None, tenant: str | None, *, empty: str
) -> str:
    """The bus's recent events counted by type; one type's newest events, with its schema."""
    counts: dict[str, int] = {}
    latest: dict[str, str] = {}
    for event in events:  # newest first
        kind = str(event.get("detail-type", ""))
        counts[kind] = counts.get(kind, 0) + 1
        latest.setdefault(kind, str(event.get("time", "")))
    query = {"tenant": tenant} if tenant else {}
    rows = (
        f"<tr><td>{_link('/events', kind, type=kind, **query)}</td>"
        f'<td class="num">{count}</td><td>{escape(latest[kind])}</td></tr>'
        for kind, count in sorted(counts.items())
    )
    scope = f" of {tenant}" if tenant else ""
    body = _table(("detail-type", "events", "latest"), rows, empty)
    if detail_type is not None:
        body += _events_of_type(events, detail_type)
    return _shell(f"Events{scope}", "events", body)


def _events_of_type(events: list[dict[str, Any]], detail_type: str) -> str:
    chosen = [event for event in events if event.get("detail-type") == detail_type]
    schema = _event_schemas().get(detail_type)
    rows = []
    for event in chosen[:EVENTS_SHOWN]:
        found = event.get("detail")
        detail: dict[str, Any] = found if isinstance(found, dict) else {}
        correlation = str(detail.get("correlation_id", ""))
        rows.append(
            f"<tr><td>{escape(str(event.get('time', '')))}</td>"
            f"<td>{escape(str(detail.get('tenant_id', '-')))}</td>"
            f"<td>{_correlation(correlation) if correlation else '-'}</td>"
            f"<td>{_folded('detail', detail)}</td></tr>"
        )
    shown = (
        f"<details><summary>JSON Schema ({escape(str(schema.get('$id', '')))})</summary>"
        f"<pre>{_json(schema)}</pre></details>"
        if schema is not None
        else "<p>No published schema for this type.</p>"
    )
    return f"<h2>{escape(detail_type)} ({len(chosen)})</h2>{shown}" + _table(
        ("time", "tenant", "correlation", "detail"), rows, "No events of this type."
    )


def error_page(status: int, message: str) -> str:
    """A page that says what went wrong, for the statuses the console answers."""
    titles = {
        400: "Bad request",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        502: "Bad gateway",
        503: "AWS not reached",
    }
    body = f'<div class="error" role="alert">{escape(message)}</div>'
    return _shell(f"{status} {titles.get(status, 'Error')}", "", body)


__all__ = [
    "PREFIX",
    "endpoints_page",
    "error_page",
    "events_page",
    "execution_page",
    "execution_path",
    "executions_page",
    "models_page",
    "workflow_page",
    "workflows_page",
]
