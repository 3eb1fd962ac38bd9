"""Following an execution costs the events it adds, not its whole history per poll.

The fake client below pages ``GetExecutionHistory`` as the API reference says
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html:
``reverseOrder`` lists newest first, ``maxResults`` caps a page, ``nextToken`` continues it)
and counts the events it hands out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maas.executions import FOLLOW_PAGE_SIZE, ExecutionFollower, read_execution, wait_for_execution

NOW = datetime(2026, 12, 7, tzinfo=UTC)


class GrowingExecution:
    """An execution whose history grows by one state per ``describe_execution``."""

    def __init__(self, states: int, page_size: int = 1000) -> None:
        self.events: list[dict[str, Any]] = [{"id": 1, "type": "ExecutionStarted"}]
        self.remaining = states
        self.page_size = page_size
        self.served = 0

    def _add_state(self, number: int) -> None:
        for kind in ("TaskStateEntered", "TaskStateExited"):
            event: dict[str, Any] = {"id": len(self.events) + 1, "type": kind, "timestamp": NOW}
            if kind == "TaskStateEntered":
                event["stateEnteredEventDetails"] = {"name": f"Step{number}"}
            self.events.append(event)

    def describe_execution(self, executionArn: str) -> dict[str, Any]:  # noqa: N803 - boto3's
        if self.remaining:
            self._add_state(len(self.events) // 2 + 1)
            self.remaining -= 1
        return {
            "name": "run",
            "status": "RUNNING" if self.remaining else "SUCCEEDED",
            "startDate": NOW,
        }

    def get_execution_history(
        self,
        executionArn: str,  # noqa: N803 - boto3's names
        reverseOrder: bool = False,  # noqa: N803
        maxResults: int = 100,  # noqa: N803
        nextToken: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        ordered = self.events[::-1] if reverseOrder else self.events
        start = int(nextToken or 0)
        page = ordered[start : start + min(maxResults, self.page_size)]
        self.served += len(page)
        answer: dict[str, Any] = {"events": page}
        if start + len(page) < len(ordered):
            answer["nextToken"] = str(start + len(page))
        return answer


def test_a_follower_reads_each_event_about_once_however_often_it_polls() -> None:
    execution = GrowingExecution(states=200, page_size=7)
    follower = ExecutionFollower(execution, "arn")
    snapshot = follower.read()
    while not snapshot.done:
        snapshot = follower.read()
    assert snapshot.path == [f"Step{n}" for n in range(1, 201)]
    # Each poll re-reads at most one page's worth of old events to find where it left off.
    assert execution.served <= len(execution.events) + 7 * 201
    # Re-reading the whole history on each of the 201 polls would have served ~40,000.
    assert execution.served < 5000


def test_a_one_off_read_and_the_waiter_see_the_same_execution() -> None:
    waited = wait_for_execution(GrowingExecution(states=5), "arn", poll_seconds=0)
    once = read_execution(GrowingExecution(states=0), "arn")
    assert [visit.name for visit in waited.visits] == [f"Step{n}" for n in range(1, 6)]
    assert once.done
    assert once.path == []


def test_a_follower_asks_for_small_pages_even_where_the_service_serves_a_thousand() -> None:
    execution = GrowingExecution(states=200)
    follower = ExecutionFollower(execution, "arn")
    polls = 1
    snapshot = follower.read()
    while not snapshot.done:
        snapshot = follower.read()
        polls += 1
    assert snapshot.path == [f"Step{n}" for n in range(1, 201)]
    # Asking for the API's largest page would have served the newest thousand on every poll.
    assert execution.served <= len(execution.events) + FOLLOW_PAGE_SIZE * polls
