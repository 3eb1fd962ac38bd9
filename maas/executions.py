"""Follow a Step Functions execution: its status and the path it took, state by state.

Reads ``DescribeExecution`` and ``GetExecutionHistory``, so it works the same against AWS and
the local runtime; the CLI's progress display and the tests are built on it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

_FAILURE_EVENTS = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "TaskSubmitFailed",
        "TaskStartFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
    }
)
_RETRY_EVENTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
#: Events per ``GetExecutionHistory`` page: the most the API returns at once.
HISTORY_PAGE_SIZE = 1000
#: Events per page while following an execution: a poll finds a few new events, and a page of
#: the most would have the service read out (and, locally, serialize) the newest thousand
#: events on every poll, which made waiting cost the whole history again each time.
FOLLOW_PAGE_SIZE = 25


class VisitStatus(StrEnum):
    """How a state visit ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    CAUGHT = "caught"
    FAILED = "failed"


@dataclass
class StateVisit:
    """One entry into one state."""

    name: str
    state_type: str
    entered_at: datetime
    exited_at: datetime | None = None
    error: str | None = None
    cause: str | None = None
    attempts: int = 0
    failed_execution: bool = False

    @property
    def status(self) -> VisitStatus:
        """Running, succeeded, failed but caught (the workflow went on), or failed."""
        if self.failed_execution or (self.state_type == "Fail" and self.exited_at is None):
            return VisitStatus.FAILED
        if self.exited_at is None:
            return VisitStatus.RUNNING
        return VisitStatus.CAUGHT if self.error else VisitStatus.SUCCEEDED

    @property
    def seconds(self) -> float | None:
        """How long the state took, once it is over."""
        if self.exited_at is None:
            return None
        return (self.exited_at - self.entered_at).total_seconds()


@dataclass
class ExecutionSnapshot:
    """An execution as it is now."""

    arn: str
    name: str
    status: str
    started_at: datetime
    stopped_at: datetime | None
    visits: list[StateVisit] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    output: Any = None

    @property
    def done(self) -> bool:
        """True once the execution stopped, whatever the outcome."""
        return self.status != "RUNNING"

    @property
    def path(self) -> list[str]:
        """The names of the states entered, in order."""
        return [visit.name for visit in self.visits]


def _visits(events: list[dict[str, Any]]) -> list[StateVisit]:
    visits: list[StateVisit] = []
    for event in events:
        kind: str = event["type"]
        current = visits[-1] if visits else None
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            visits.append(StateVisit(name, kind.removesuffix("StateEntered"), event["timestamp"]))
        elif kind.endswith("StateExited") and current is not None:
            current.exited_at = event["timestamp"]
        elif kind in _RETRY_EVENTS and current is not None:
            current.attempts += 1
        elif kind in _FAILURE_EVENTS and current is not None:
            details: dict[str, Any] = next(
                (value for key, value in event.items() if key.endswith("Details")), {}
            )
            current.error, current.cause = details.get("error"), details.get("cause")
        elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded") and current is not None:
            current.error = current.cause = None
        elif kind == "ExecutionFailed" and current is not None and current.exited_at is None:
            current.failed_execution = True
    return visits


class ExecutionFollower:
    """Reads one execution as it runs, each read fetching only the events added since the last.

    ``GetExecutionHistory`` cannot start after a given event, but it can read newest first
    (``reverseOrder``): a read pages back from the newest event until it reaches one it has
    seen, so following an execution costs the events it adds, not its whole history on
    every poll (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html).
    """

    def __init__(self, stepfunctions: Any, execution_arn: str) -> None:
        self._stepfunctions = stepfunctions
        self._arn = execution_arn
        self._events: list[dict[str, Any]] = []

    def read(self) -> ExecutionSnapshot:
        """The execution's status and every state it entered so far."""
        # Described first: the history read after it holds at least the events it implies.
        description = self._stepfunctions.describe_execution(executionArn=self._arn)
        self._events.extend(self._new_events())
        output = description.get("output")
        return ExecutionSnapshot(
            arn=self._arn,
            name=description["name"],
            status=description["status"],
            started_at=description["startDate"],
            stopped_at=description.get("stopDate"),
            visits=_visits(self._events),
            error=description.get("error"),
            cause=description.get("cause"),
            output=json.loads(output) if output else None,
        )

    def _new_events(self) -> list[dict[str, Any]]:
        """The events after the last one read, oldest first."""
        last_id = int(self._events[-1]["id"]) if self._events else 0
        newest_first: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {
            "executionArn": self._arn,
            "reverseOrder": True,
            "maxResults": FOLLOW_PAGE_SIZE,
        }
        while True:
            page = self._stepfunctions.get_execution_history(**arguments)
            fresh = [event for event in page["events"] if int(event["id"]) > last_id]
            newest_first.extend(fresh)
            if len(fresh) < len(page["events"]) or not page.get("nextToken"):
                return sorted(newest_first, key=lambda event: int(event["id"]))
            arguments["nextToken"] = page["nextToken"]


def read_execution(stepfunctions: Any, execution_arn: str) -> ExecutionSnapshot:
    """The execution's status and every state it entered so far."""
    return ExecutionFollower(stepfunctions, execution_arn).read()


def wait_for_execution(
    stepfunctions: Any,
    execution_arn: str,
    *,
    timeout_seconds: float = 600,
    poll_seconds: float = 0.2,
    on_change: Callable[[ExecutionSnapshot], None] | None = None,
) -> ExecutionSnapshot:
    """Poll until the execution stops; call ``on_change`` whenever a state starts or ends.

    Raises
    ------
    TimeoutError
        When the execution is still running after ``timeout_seconds``.
    """
    deadline = time.monotonic() + timeout_seconds
    seen: tuple[Any, ...] = ()
    follower = ExecutionFollower(stepfunctions, execution_arn)
    while True:
        snapshot = follower.read()
        progress = (snapshot.status, *((v.name, v.status) for v in snapshot.visits))
        if on_change is not None and progress != seen:
            on_change(snapshot)
        seen = progress
        if snapshot.done:
            return snapshot
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still {snapshot.status} after {timeout_seconds}s")
        time.sleep(poll_seconds)


__all__ = [
    "FOLLOW_PAGE_SIZE",
    "HISTORY_PAGE_SIZE",
    "ExecutionFollower",
    "ExecutionSnapshot",
    "StateVisit",
    "VisitStatus",
    "read_execution",
    "wait_for_execution",
]
