"""``maas endpoints top``: a tenant's endpoints, live: instances, load, errors, latency, use."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from maas.observability import EndpointMetricsReader, EndpointSnapshot, VariantSnapshot

#: What a figure with no datapoint in the window shows (not zero: nothing was reported).
NO_DATA = "-"
#: What a GPU figure shows when none is reported (no GPU, or none reported yet).
NO_GPU = "n/a"
#: The right-aligned columns, after endpoint, variant and status.
_FIGURES = (
    "instances cur/des",
    "in flight",
    "inv/min",
    "4xx",
    "5xx",
    "p50 ms",
    "avg ms",
    "CPU",
    "memory",
    "GPU / GPU mem",
)
_STATUS_STYLES = {"InService": "green", "Failed": "bold red", "Creating": "cyan"}


def _number(value: float | None, pattern: str = "{:.0f}") -> str:
    return NO_DATA if value is None else pattern.format(value)


def _milliseconds(microseconds: float | None) -> str:
    return _number(None if microseconds is None else microseconds / 1000, "{:.1f}")


def _instances(variant: VariantSnapshot) -> str:
    current, desired = variant.current_instance_count, variant.desired_instance_count
    if current is None and desired is None:
        return NO_DATA
    return f"{_number(current)}/{_number(desired)}"


def _gpu(variant: VariantSnapshot) -> str:
    compute = variant.value("GPUUtilization")
    memory = variant.value("GPUMemoryUtilization")
    if compute is None and memory is None:
        return NO_GPU
    return f"{_number(compute, '{:.0f}%')} / {_number(memory, '{:.0f}%')}"


def render(snapshots: list[EndpointSnapshot], tenant_id: str) -> RenderableType:
    """One row per endpoint variant; "-" is no datapoint in the window, "n/a" no GPU figure."""
    if not snapshots:
        return Text(f"tenant {tenant_id} has no endpoints", style="yellow")
    table = Table(title=f"endpoints of {tenant_id}", title_justify="left", show_edge=False)
    for column in ("endpoint", "variant", "status"):
        table.add_column(column)
    for column in _FIGURES:
        table.add_column(column, justify="right")
    for snapshot in snapshots:
        status = snapshot.status or f"({snapshot.record_status.value})"
        for variant in snapshot.variants:
            table.add_row(
                snapshot.endpoint_name,
                variant.variant_name,
                Text(status, style=_STATUS_STYLES.get(status, "yellow")),
                _instances(variant),
                _number(variant.value("ConcurrentRequestsPerModel")),
                _number(variant.value("Invocations")),
                _number(variant.value("Invocation4XXErrors")),
                _number(variant.value("Invocation5XXErrors")),
                _milliseconds(variant.value("ModelLatency", "p50")),
                _milliseconds(variant.value("ModelLatency", "Average")),
                _number(variant.value("CPUUtilization"), "{:.0f}%"),
                _number(variant.value("MemoryUtilization"), "{:.1f}%"),
                _gpu(variant),
            )
    window = snapshots[0].window_seconds
    when = snapshots[0].read_at.strftime("%H:%M:%S")
    footer = Text(
        f"latest period of {snapshots[0].period_seconds}s within the last {window}s, "
        f"read at {when} UTC; {NO_DATA}: no datapoint, {NO_GPU}: no GPU figure",
        style="dim",
    )
    return Group(table, footer)


def read_all(
    reader: EndpointMetricsReader,
    tenant_id: str,
    endpoint_name: str | None,
    *,
    window_seconds: int,
    period_seconds: int,
) -> list[EndpointSnapshot]:
    """Snapshots of the named endpoint, or of every endpoint of the tenant."""
    names = [endpoint_name] if endpoint_name else reader.endpoint_names(tenant_id)
    return [
        reader.read(tenant_id, name, window_seconds=window_seconds, period_seconds=period_seconds)
        for name in names
    ]


def run_top(
    console: Console,
    reader: EndpointMetricsReader,
    *,
    tenant_id: str,
    endpoint_name: str | None,
    interval_seconds: float,
    window_seconds: int,
    period_seconds: int,
    once: bool,
    as_json: bool,
    stop: threading.Event | None = None,
) -> None:
    """Show the snapshots every ``interval_seconds`` until ``stop`` is set (or once).

    With ``as_json`` each refresh is one line of JSON, ``{"endpoints": [...]}``.
    """
    stopped = stop or threading.Event()

    def snapshots() -> list[EndpointSnapshot]:
        return read_all(
            reader,
            tenant_id,
            endpoint_name,
            window_seconds=window_seconds,
            period_seconds=period_seconds,
        )

    if as_json:
        while True:
            document = {"endpoints": [each.model_dump(mode="json") for each in snapshots()]}
            typer.echo(json.dumps(document))
            if once or stopped.wait(interval_seconds):
                return
    if once:
        console.print(render(snapshots(), tenant_id))
        return
    with Live(console=console, auto_refresh=False) as live:
        while True:
            live.update(render(snapshots(), tenant_id), refresh=True)
            if stopped.wait(interval_seconds):
                return


__all__ = ["NO_DATA", "NO_GPU", "read_all", "render", "run_top"]
