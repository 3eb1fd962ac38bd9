"""What the demo says as it runs and when it ends badly: plain lines off a terminal, and a
short message (which state, its error and cause, where the history is), never a traceback."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rich.console import Console

from maas.cli import demo, progress
from maas.cli.demo import failure_message
from maas.executions import ExecutionSnapshot, StateVisit

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

AT = datetime(2026, 1, 1, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:maas-{machine}:{name}"


def snapshot(
    machine: str, name: str, status: str, visits: list[StateVisit], **fields: Any
) -> ExecutionSnapshot:
    stopped = None if status == "RUNNING" else AT + timedelta(seconds=30)
    return ExecutionSnapshot(
        ARN.format(machine=machine, name=name), name, status, AT, stopped, visits, **fields
    )


def visit(name: str, seconds: float | None = None, **fields: Any) -> StateVisit:
    exited = None if seconds is None else AT + timedelta(seconds=seconds)
    return StateVisit(name, "Task", AT, exited, **fields)


def plain_console() -> tuple[Console, io.StringIO]:
    output = io.StringIO()
    return Console(file=output, width=100, force_terminal=False), output


def test_off_a_terminal_each_state_change_is_a_line_as_it_happens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console, output = plain_console()
    lines_when: list[str] = []
    snapshots = [
        snapshot("lifecycle", "demo-1", "RUNNING", [visit("Package the model")]),
        snapshot("lifecycle", "demo-1", "RUNNING", [visit("Package the model", 20.0)]),
        snapshot(
            "lifecycle",
            "demo-1",
            "SUCCEEDED",
            [visit("Package the model", 20.0), visit("Deploy the version", 5.0)],
        ),
    ]

    def wait(
        stepfunctions: Any,
        arn: str,
        *,
        on_change: Callable[[ExecutionSnapshot], None],
        **_: Any,
    ) -> ExecutionSnapshot:
        for each in snapshots:
            on_change(each)
            # What was printed so far is in the output before the next change comes.
            lines_when.append(output.getvalue())
        return snapshots[-1]

    monkeypatch.setattr(progress, "wait_for_execution", wait)
    progress.follow(console, None, "arn", "lifecycle")
    assert lines_when[0].splitlines() == ["lifecycle: Package the model (Task) started"]
    assert "lifecycle: Package the model succeeded in 20.0s" in lines_when[1]
    assert lines_when[2].splitlines()[2:] == [
        "lifecycle: Deploy the version (Task) started",
        "lifecycle: Deploy the version succeeded in 5.0s",
        "lifecycle: execution SUCCEEDED in 30.0s",
    ]


def test_a_failed_lifecycle_is_told_by_its_failed_child_state_error_cause_and_history() -> None:
    lifecycle = snapshot(
        "lifecycle",
        "demo-1",
        "FAILED",
        [visit("Evaluate the version", 9.0, error="States.TaskFailed", cause="child failed")],
        error="States.TaskFailed",
    )
    evaluation = snapshot(
        "evaluate",
        "demo-1-eval",
        "FAILED",
        [
            visit("Plan the evaluation", 1.0),
            visit("Score the shards", 8.0, error="Maas.ShardFailed", cause="shard 1 exited 1"),
            visit("Mark it failed", 1.0, error="AccessDenied", cause="a later failure"),
        ],
    )
    message = failure_message(lifecycle, [None, None, evaluation], ending="ended FAILED")
    assert message.splitlines() == [
        "ended FAILED: evaluate execution demo-1-eval in state 'Score the shards'",
        "  error: Maas.ShardFailed",
        "  cause: shard 1 exited 1",
        "  history: maas executions show evaluate demo-1-eval (while a local runtime holding "
        "it runs: `maas local up`)",
    ]


class NoSuchExecution(Exception):
    """The fake client's ``ExecutionDoesNotExist``."""


def test_a_lifecycle_past_the_demos_limit_ends_with_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executions = {
        "demo-1": snapshot("lifecycle", "demo-1", "RUNNING", [visit("Evaluate the version")]),
        "demo-1-package": snapshot("package-model", "demo-1-package", "SUCCEEDED", []),
        "demo-1-deploy": snapshot("deploy-endpoint", "demo-1-deploy", "SUCCEEDED", []),
        "demo-1-eval": snapshot(
            "evaluate", "demo-1-eval", "RUNNING", [visit("Plan", 1.0), visit("Score the shards")]
        ),
    }

    def never_done(*_: Any, **__: Any) -> ExecutionSnapshot:
        raise TimeoutError("still RUNNING after 900s")

    def read(_: Any, arn: str) -> ExecutionSnapshot:
        name = arn.rsplit(":", 1)[-1]
        if name not in executions:
            raise NoSuchExecution(name)
        return executions[name]

    stepfunctions = SimpleNamespace(
        exceptions=SimpleNamespace(ExecutionDoesNotExist=NoSuchExecution)
    )
    runtime = SimpleNamespace(
        client=lambda service: stepfunctions,
        resources=SimpleNamespace(tables={"ModelsTable": "models"}),
        start_execution=lambda *_, **__: "arn",
        state_machine_arn=lambda machine: f"arn:aws:states:us-east-1:1:stateMachine:{machine}",
    )
    monkeypatch.setattr(demo, "follow", never_done)
    monkeypatch.setattr(demo, "read_execution", read)
    console, output = plain_console()
    result = demo._run(console, runtime, {"request_id": "demo-1"})  # type: ignore[arg-type]
    assert not result.succeeded
    assert result.failure is not None
    assert result.failure.splitlines()[0] == (
        f"stopped waiting: not done within {demo.LIFECYCLE_TIMEOUT_SECONDS} s: evaluate "
        "execution demo-1-eval was RUNNING in state 'Score the shards'"
    )
    assert "maas executions show evaluate demo-1-eval" in result.failure
    assert "Traceback" not in output.getvalue()
    assert result.failure.splitlines()[0] in " ".join(output.getvalue().split())
