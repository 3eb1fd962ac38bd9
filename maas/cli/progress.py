"""Show a running execution as it happens: each state, its status and how long it took.

On a terminal the states are a live table. Off one (``make demo > log``, a CI job) a live
view prints nothing until it stops, so there each state change is one plain line, flushed
as it happens, and so is each new line of the ``detail`` a long step reports.
"""

from __future__ import annotations

import threading
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


def change_lines(
    title: str, before: ExecutionSnapshot | None, after: ExecutionSnapshot
) -> list[str]:
    """One plain line per state that started or stopped between two snapshots.

    Examples
    --------
    >>> from datetime import UTC
    >>> from maas.executions import StateVisit
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> visits = [StateVisit("Build", "Task", at)]
    >>> change_lines("deploy", None, ExecutionSnapshot("arn", "e1", "RUNNING", at, None, visits))
    ['deploy: Build (Task) started']
    """
    lines = []
    seen = {index: visit.status for index, visit in enumerate(before.visits if before else [])}
    for index, visit in enumerate(after.visits):
        status = visit.status
        if seen.get(index) == status:
            continue
        if index not in seen and status is not VisitStatus.RUNNING:
            # Entered and left between two looks: say both, so no state goes unmentioned.
            lines.append(f"{title}: {visit.name} ({visit.state_type}) started")
        if status is VisitStatus.RUNNING:
            lines.append(f"{title}: {visit.name} ({visit.state_type}) started")
        elif status is VisitStatus.SUCCEEDED:
            lines.append(f"{title}: {visit.name} succeeded in {visit.seconds or 0:.1f}s")
        else:
            failed = "failed, caught" if status is VisitStatus.CAUGHT else "FAILED"
            lines.append(f"{title}: {visit.name} {failed}: {visit.error}: {_short(visit.cause)}")
    if after.done and (before is None or not before.done):
        elapsed = ((after.stopped_at or after.started_at) - after.started_at).total_seconds()
        lines.append(f"{title}: execution {after.status} in {elapsed:.1f}s")
    return lines


def _short(text: str | None, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _follow_plainly(
    console: Console,
    stepfunctions: Any,
    execution_arn: str,
    title: str,
    *,
    timeout_seconds: float,
    detail: Callable[[], str | None] | None,
) -> ExecutionSnapshot:
    """Print each state change, and each new detail line, as one flushed plain line."""
    last: list[ExecutionSnapshot | None] = [None]
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
            console.file.flush()

    def update(snapshot: ExecutionSnapshot) -> None:
        for line in change_lines(title, last[0], snapshot):
            say(line)
        last[0] = snapshot

    stopped = threading.Event()

    def report_detail() -> None:
        # The detail (a job's progress) changes while no state does: it is read on its own.
        assert detail is not None
        shown = None
        while not stopped.wait(1.0):
            line = detail()
            if line and line != shown:
                shown = line
                say(f"{title}: {line}")

    reporter = threading.Thread(target=report_detail, name=f"{title}-detail", daemon=True)
    if detail is not None:
        reporter.start()
    try:
        return wait_for_execution(
            stepfunctions,
            execution_arn,
            timeout_seconds=timeout_seconds,
            poll_seconds=0.1,
            on_change=update,
        )
    finally:
        stopped.set()
        if reporter.is_alive():
            reporter.join(timeout=5)


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
    runs (for example the progress a long job reports). Off a terminal each change is a
    plain line instead (see the module's docstring).

    Raises
    ------
    TimeoutError
        The execution is still running after ``timeout_seconds``.
    """
    if not console.is_terminal:
        snapshot = _follow_plainly(
            console,
            stepfunctions,
            execution_arn,
            title,
            timeout_seconds=timeout_seconds,
            detail=detail,
        )
        console.print(render(snapshot, title))
        return snapshot
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


__all__ = ["change_lines", "follow", "render"]
