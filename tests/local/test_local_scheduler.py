"""EventBridge Scheduler on the local runtime: schedules fire, once or at their rate."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from maas.local.scheduler import UnsupportedCronExpression, cron_firing, croniter_expression
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
    # Three seconds ahead: a loaded machine takes more than one to get to the next line.
    create_schedule(runtime, name, at(3), target)
    assert executions(runtime, target) == [] or {"schedule": name} not in inputs(runtime, target)
    assert wait_until(lambda: {"schedule": name} in inputs(runtime, target), seconds=10)


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


# --- cron(...) ------------------------------------------------------------------------------

PARIS = "Europe/Paris"


@pytest.mark.parametrize(
    ("aws", "fields", "years"),
    [
        ("cron(0 8 ? * MON-FRI *)", "0 8 * * mon-fri", None),
        ("cron(*/15 8-18 ? * 2-6 *)", "*/15 8-18 * * 1-5", None),
        ("cron(0 9 1,15 JAN,JUL ? *)", "0 9 1,15 jan,jul *", None),
        ("cron(0 9 ? * 1,7 *)", "0 9 * * 0,6", None),
        ("cron(0 9 ? * 2/2 *)", "0 9 * * 1/2", None),
        ("cron(0 9 ? * 6L *)", "0 9 * * L5", None),
        ("cron(0 9 ? * L *)", "0 9 * * 6", None),
        ("cron(0 9 ? * 2#1 *)", "0 9 * * 1#1", None),
        ("cron(0 9 L * ? *)", "0 9 L * *", None),
        ("cron(0 9 15W * ? *)", "0 9 15W * *", None),
        ("cron(0 9 ? * MON 2026-2028)", "0 9 * * mon", frozenset({2026, 2027, 2028})),
        ("cron(0 9 ? * MON 2026/10)", "0 9 * * mon", frozenset(range(2026, 2200, 10))),
    ],
)
def test_an_aws_cron_expression_becomes_croniter_fields_and_years(
    aws: str, fields: str, years: frozenset[int] | None
) -> None:
    assert croniter_expression(aws) == (fields, years)


def test_the_last_weekday_of_the_month_cannot_be_computed_locally() -> None:
    with pytest.raises(UnsupportedCronExpression, match=r"day-of-month LW .* no croniter"):
        croniter_expression("cron(0 9 LW * ? *)")


@pytest.mark.parametrize(
    ("now", "expression", "expected"),
    [
        # Friday evening in Paris: the next weekday opening is Monday's.
        (datetime(2026, 1, 9, 19, 0, tzinfo=UTC), "cron(0 8 ? * MON-FRI *)", (2026, 1, 12, 7)),
        # Monday before opening: today's.
        (datetime(2026, 1, 12, 6, 0, tzinfo=UTC), "cron(0 8 ? * MON-FRI *)", (2026, 1, 12, 7)),
        # Saturday: weekends only fire on Sunday (AWS day 1) and Saturday (day 7).
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), "cron(0 10 ? * 1,7 *)", (2026, 1, 11, 9)),
        # The last Friday of January 2026 is the 30th.
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "cron(0 9 ? * 6L *)", (2026, 1, 30, 8)),
        # The year field skips to the first allowed year.
        (datetime(2026, 6, 1, 0, 0, tzinfo=UTC), "cron(0 8 ? * MON-FRI 2099)", (2099, 1, 1, 7)),
    ],
)
def test_the_next_cron_firing_is_computed_in_the_schedules_time_zone(
    now: datetime, expression: str, expected: tuple[int, int, int, int]
) -> None:
    assert cron_firing(expression, PARIS, now) == datetime(*expected, tzinfo=UTC)


def test_a_daily_opening_keeps_its_local_time_across_daylight_saving() -> None:
    # Paris moves to summer time on Sunday 29 March 2026: 08:00 is 07:00 UTC before, 06:00 after.
    friday = cron_firing("cron(0 8 ? * MON-FRI *)", PARIS, datetime(2026, 3, 26, 12, tzinfo=UTC))
    monday = cron_firing("cron(0 8 ? * MON-FRI *)", PARIS, datetime(2026, 3, 27, 12, tzinfo=UTC))
    assert (friday, monday) == (
        datetime(2026, 3, 27, 7, tzinfo=UTC),
        datetime(2026, 3, 30, 6, tzinfo=UTC),
    )


def test_a_firing_in_the_skipped_hour_moves_to_the_end_of_the_gap() -> None:
    # 02:30 does not exist in Paris on 29 March 2026; the clock jumps from 02:00 to 03:00.
    due = cron_firing("cron(30 2 * * ? *)", PARIS, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert due == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_cron_whose_years_are_past_never_fires() -> None:
    assert cron_firing("cron(0 8 ? * MON 2020)", "UTC", datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_a_cron_schedule_is_armed_for_its_next_firing(runtime: LocalRuntime, target: str) -> None:
    name = unique("hours")
    expression = "cron(0 8 ? * MON-FRI *)"
    create_schedule(runtime, name, expression, target, ScheduleExpressionTimezone=PARIS)
    arn = runtime.client("scheduler").get_schedule(Name=name)["Arn"]
    expected = cron_firing(expression, PARIS, datetime.now(UTC))
    assert runtime.scheduler.next_firing(arn) == expected
    runtime.client("scheduler").delete_schedule(Name=name)
    assert runtime.scheduler.next_firing(arn) is None


def test_a_cron_the_local_runtime_cannot_compute_is_stored_but_not_armed(
    runtime: LocalRuntime, target: str
) -> None:
    name = unique("hours")
    create_schedule(runtime, name, "cron(0 8 LW * ? *)", target)
    arn = runtime.client("scheduler").get_schedule(Name=name)["Arn"]
    assert runtime.scheduler.next_firing(arn) is None
    assert "LW" in runtime.scheduler.unarmed[arn]
