"""EventBridge Scheduler on the local runtime: schedules fire, once or at their rate."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.local.support import unique

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime

WAITING_STATE_MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}


@pytest.fixture(scope="module")
def target(create_state_machine: Callable[[dict[str, Any]], str]) -> str:
    return create_state_machine(WAITING_STATE_MACHINE)


def executions(runtime: LocalRuntime, state_machine_arn: str) -> list[dict[str, Any]]:
    listed = runtime.client("stepfunctions").list_executions(stateMachineArn=state_machine_arn)
    return list(listed["executions"])


def inputs(runtime: LocalRuntime, state_machine_arn: str) -> list[Any]:
    sfn = runtime.client("stepfunctions")
    return [
        json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        for execution in executions(runtime, state_machine_arn)
    ]


def at(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def create_schedule(
    runtime: LocalRuntime, name: str, expression: str, arn: str, **extra: Any
) -> None:
    runtime.client("scheduler").create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": arn,
            "RoleArn": runtime.resources.roles["SchedulerRole"],
            "Input": json.dumps({"schedule": name}),
        },
        **extra,
    )


def wait_until(condition: Callable[[], bool], seconds: float = 6.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_one_time_schedule_starts_its_state_machine_with_its_input(
    runtime: LocalRuntime, target: str
) -> None:
    name = unique("ttl")
    create_schedule(runtime, name, at(1), target)
    assert executions(runtime, target) == [] or {"schedule": name} not in inputs(runtime, target)
    assert wait_until(lambda: {"schedule": name} in inputs(runtime, target))


def test_a_fired_schedule_that_says_delete_is_gone(runtime: LocalRuntime, target: str) -> None:
    name = unique("ttl")
    create_schedule(runtime, name, at(1), target, ActionAfterCompletion="DELETE")
    scheduler = runtime.client("scheduler")

    def gone() -> bool:
        return name not in [item["Name"] for item in scheduler.list_schedules()["Schedules"]]

    assert wait_until(gone)
    assert {"schedule": name} in inputs(runtime, target)


def test_a_schedule_deleted_before_it_is_due_never_fires(
    runtime: LocalRuntime, target: str
) -> None:
    name = unique("ttl")
    create_schedule(runtime, name, at(1), target)
    runtime.client("scheduler").delete_schedule(Name=name)
    time.sleep(2.5)
    assert {"schedule": name} not in inputs(runtime, target)


def test_a_disabled_schedule_does_not_fire(runtime: LocalRuntime, target: str) -> None:
    name = unique("ttl")
    create_schedule(runtime, name, at(1), target, State="DISABLED")
    time.sleep(2.5)
    assert {"schedule": name} not in inputs(runtime, target)


def test_an_unreachable_target_is_kept_as_a_failed_delivery(runtime: LocalRuntime) -> None:
    name = unique("ttl")
    missing = runtime.resources.arn("states", "stateMachine:nothing-here")
    create_schedule(runtime, name, at(1), missing)
    assert wait_until(
        lambda: any(f.target_arn == missing for f in runtime.scheduler.failed_deliveries)
    )
