"""Show a running execution as it happens: each state, its status and how long it took."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from maas.executions import ExecutionSnapshot, VisitStatus, wait_for_execution

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console, RenderableType

_MARKS = {
    VisitStatus.SUCCEEDED: Text("✓ succeeded", style="green"),
    VisitStatus.CAUGHT: Text("↷ failed, caught", style="yellow"),
    VisitStatus.FAILED: Text("✗ failed", style="bold red"),
}
_EXECUTION_STYLES = {"SUCCEEDED": "bold green", "FAILED": "bold red", "RUNNING": "cyan"}


def render(snapshot: ExecutionSnapshot, title: str) -> RenderableType:
    """A table of the states entered so far; the running one has a spinner and a clock."""
    now = datetime.now(snapshot.started_at.tzinfo)
    table = Table(title=f"{title}  [dim]{snapshot.name}[/]", title_justify="left", show_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("state")
    table.add_column("type", style="dim")
    table.add_column("status")
    table.add_column("elapsed", justify="right")
    for index, visit in enumerate(snapshot.visits, start=1):
        status: RenderableType = _MARKS.get(visit.status) or Spinner("dots", text="running")
        seconds = visit.seconds
        if seconds is None:
            seconds = (now - visit.entered_at).total_seconds()
        table.add_row(str(index), visit.name, visit.state_type, status, f"{seconds:.2f}s")
    elapsed = ((snapshot.stopped_at or now) - snapshot.started_at).total_seconds()
    style = _EXECUTION_STYLES.get(snapshot.status, "yellow")
    summary = Text.assemble(("execution ", "dim"), (snapshot.status, style), f"  {elapsed:.1f}s")
    return Group(table, summary)


class _LiveView:
    """Re-rendered by Rich on every refresh, so running states' clocks keep moving."""

    def __init__(self, title: str, detail: Callable[[], str | None] | None) -> None:
        self.title = title
        self.snapshot: ExecutionSnapshot | None = None
        self._detail = detail

    def __rich__(self) -> RenderableType:
        if self.snapshot is None:
            return Spinner("dots", text=f"{self.title}: starting")
        table = render(self.snapshot, self.title)
        line = self._detail() if self._detail and self.snapshot.status == "RUNNING" else None
        return Group(table, Text(line, style="cyan")) if line else table


def follow(
    console: Console,
    stepfunctions: Any,
    execution_arn: str,
    title: str,
    *,
    timeout_seconds: float = 600,
    detail: Callable[[], str | None] | None = None,
) -> ExecutionSnapshot:
    """Display the execution live until it stops; its final table stays on screen.

    ``detail``, when given, is asked for a line shown under the table while the execution
    runs (for example the progress a long job reports).
    """
    view = _LiveView(title, detail)

    def update(snapshot: ExecutionSnapshot) -> None:
        view.snapshot = snapshot

    # The live view goes when the execution stops and its final table is printed for good:
    # a live view's last frame ends without a newline when the output is not a terminal.
    with Live(view, console=console, refresh_per_second=10, transient=True):
        snapshot = wait_for_execution(
            stepfunctions,
            execution_arn,
            timeout_seconds=timeout_seconds,
            poll_seconds=0.1,
            on_change=update,
        )
    console.print(render(snapshot, title))
    return snapshot


__all__ = ["follow", "render"]
