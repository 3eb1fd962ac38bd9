"""On/off hours: the request's cron expressions, the stop and start plans, the record's moves."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.hours import plan_start, plan_stop
from maas.endpoints.plan import plan_teardown
from maas.endpoints.records import table_arguments
from maas.exceptions import Conflict, ValidationError
from maas.validation import parse
from schemas import DeploymentRequest, EndpointStatus, TeardownRequest
from schemas.hours import OFFICE_HOURS_EXAMPLE
from tests.factories import ARTIFACTS_BUCKET, deployment_request

if TYPE_CHECKING:
    from maas.endpoints import DeploymentPlan
    from schemas import EndpointRecord

TABLE = "endpoints"


def with_hours(**hours: str) -> dict[str, Any]:
    return deployment_request(hours={**OFFICE_HOURS_EXAMPLE, **hours})


# --- The request ---------------------------------------------------------------------------


def test_the_office_hours_example_is_a_valid_request() -> None:
    request = parse(DeploymentRequest, with_hours())
    assert request.hours is not None
    assert (request.hours.start, request.hours.stop) == (
        "cron(0 8 ? * MON-FRI *)",
        "cron(0 19 ? * MON-FRI *)",
    )


@pytest.mark.parametrize(
    "expression",
    [
        "cron(*/15 8-18 ? * 2-6 *)",
        "cron(0 9 L * ? *)",
        "cron(0 9 LW * ? 2026-2030)",
        "cron(0 9 15W JAN,JUL ? *)",
        "cron(0 9 ? * 6L *)",
        "cron(0 9 ? * 2#1 2027/2)",
        "cron(0 9 ? * L *)",
    ],
)
def test_every_form_eventbridge_scheduler_takes_is_accepted(expression: str) -> None:
    assert parse(DeploymentRequest, with_hours(stop=expression)).hours is not None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start", "rate(1 hour)", "hours.start: 'rate(1 hour)' is not a cron(...) expression"),
        ("stop", "cron(0 19 ? * MON-FRI)", "hours.stop: a cron expression has six fields"),
        (
            "stop",
            "cron(0 19 * * MON-FRI *)",
            "hours.stop: exactly one of day-of-month and day-of-week must be ?, "
            "got '*' and 'MON-FRI'",
        ),
        ("stop", "cron(0 19 ? * ? *)", "hours.stop: exactly one of day-of-month and"),
        ("stop", "cron(60 19 ? * MON-FRI *)", "hours.stop: minutes value 60 is outside 0-59"),
        ("start", "cron(0 24 ? * MON-FRI *)", "hours.start: hours value 24 is outside 0-23"),
        ("start", "cron(0 8 32 * ? *)", "hours.start: day-of-month value 32 is outside 1-31"),
        ("start", "cron(0 8 ? 13 MON *)", "hours.start: month value 13 is outside 1-12"),
        ("start", "cron(0 8 ? * 0 *)", "hours.start: day-of-week value 0 is outside 1-7"),
        ("start", "cron(0 8 ? * MON-FRY *)", "hours.start: day-of-week value 'FRY' is not"),
        ("start", "cron(0 8 ? * FRI-MON *)", "hours.start: day-of-week range 'FRI-MON' runs"),
        ("start", "cron(0 8 ? * 2#6 *)", "hours.start: day-of-week '2#6': the week after #"),
        ("start", "cron(*/0 8 ? * MON *)", "hours.start: minutes step '0' is not a positive"),
        ("start", "cron(0 8 ? * MON 1969)", "hours.start: year value 1969 is outside 1970-2199"),
        ("timezone", "Mars/Olympus", "hours.timezone: 'Mars/Olympus' is not an IANA time zone"),
        ("stop", "cron(0 8 ? * MON-FRI *)", "hours: start and stop are the same"),
    ],
)
def test_a_bad_hours_field_is_refused_naming_it(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse(DeploymentRequest, with_hours(**{field: value}))
    assert message in raised.value.message


# --- The deployment's schedules and the teardown's --------------------------------------


def a_plan(correlation_id: str = "deploy-1", **overrides: Any) -> DeploymentPlan:
    return plan_deployment(
        DeploymentRequest.model_validate(deployment_request(**overrides)),
        correlation_id=correlation_id,
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )


def test_hours_plan_two_recurring_schedules_in_the_request_time_zone() -> None:
    plan = a_plan(hours=OFFICE_HOURS_EXAMPLE)
    assert plan.hours is not None
    stop, start = plan.hours.stop, plan.hours.start
    assert (stop.Name, start.Name) == ("maas-stop-chat-c7bee5eb", "maas-start-chat-c7bee5eb")
    assert (stop.ScheduleExpression, start.ScheduleExpression) == (
        OFFICE_HOURS_EXAMPLE["stop"],
        OFFICE_HOURS_EXAMPLE["start"],
    )
    assert {stop.ScheduleExpressionTimezone, start.ScheduleExpressionTimezone} == {"Europe/Paris"}
    assert {stop.ActionAfterCompletion, start.ActionAfterCompletion} == {"NONE"}
    assert stop.FlexibleTimeWindow == {"Mode": "OFF"}
    assert json.loads(stop.Input) == {"tenant_id": "acme", "endpoint_name": "chat"}
    assert a_plan().hours is None


@pytest.fixture
def registry(aws: None) -> EndpointRegistry:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments(TABLE))
    return EndpointRegistry(TABLE, dynamodb)


def in_service(registry: EndpointRegistry, **overrides: Any) -> EndpointRecord:
    registry.begin_deployment(a_plan(hours=OFFICE_HOURS_EXAMPLE, **overrides))
    return registry.mark_in_service(
        "acme", "chat", correlation_id="deploy-1", endpoint_arn="arn:endpoint"
    )


def test_teardown_deletes_the_hours_schedules_the_record_implies(
    registry: EndpointRegistry,
) -> None:
    record = in_service(registry)
    assert record.hours is not None
    plan = plan_teardown(
        record,
        TeardownRequest(tenant_id="acme", endpoint_name="chat"),
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    assert plan.hours_schedules is not None
    assert (plan.hours_schedules.stop, plan.hours_schedules.start) == (
        "maas-stop-chat-c7bee5eb",
        "maas-start-chat-c7bee5eb",
    )


# --- Stop and start plans and the record's moves -----------------------------------------


def test_a_stop_then_a_start_move_the_record_through_their_statuses(
    registry: EndpointRegistry,
) -> None:
    in_service(registry)
    registry.begin_stop("acme", "chat", correlation_id="stop-1")
    stopped = registry.mark_stopped("acme", "chat", correlation_id="stop-1")
    assert (stopped.status, stopped.endpoint_arn) == (EndpointStatus.STOPPED, None)
    registry.begin_start("acme", "chat", correlation_id="start-1")
    started = registry.mark_in_service(
        "acme", "chat", correlation_id="start-1", endpoint_arn="arn:again"
    )
    assert (started.status, started.endpoint_arn) == (EndpointStatus.IN_SERVICE, "arn:again")


def test_a_stopped_endpoint_can_be_torn_down_but_not_scaled(registry: EndpointRegistry) -> None:
    in_service(registry)
    registry.begin_stop("acme", "chat", correlation_id="stop-1")
    registry.mark_stopped("acme", "chat", correlation_id="stop-1")
    with pytest.raises(Conflict, match="endpoint 'chat' is STOPPED; it cannot become UPDATING"):
        registry.begin_update("acme", "chat", correlation_id="scale-1")
    assert registry.begin_teardown("acme", "chat", correlation_id="teardown-1").status is (
        EndpointStatus.DELETING
    )


def test_an_undone_start_leaves_the_endpoint_stopped_with_the_reason(
    registry: EndpointRegistry,
) -> None:
    in_service(registry)
    registry.begin_stop("acme", "chat", correlation_id="stop-1")
    registry.mark_stopped("acme", "chat", correlation_id="stop-1")
    registry.begin_start("acme", "chat", correlation_id="start-1")
    undone = registry.abandon_hours_change(
        "acme",
        "chat",
        correlation_id="start-1",
        status=EndpointStatus.STOPPED,
        reason="Maas.EndpointFailed: no capacity",
    )
    assert (undone.status, undone.failure_reason) == (
        EndpointStatus.STOPPED,
        "Maas.EndpointFailed: no capacity",
    )


def test_stop_and_start_plans_are_nothing_to_do_when_already_done(
    registry: EndpointRegistry,
) -> None:
    record = in_service(registry, autoscaling={"min_capacity": 1, "max_capacity": 3})
    timing = {"poll_interval_seconds": 1, "max_status_checks": 5}
    assert plan_start(record, correlation_id="start-1", **timing).nothing_to_do
    stop = plan_stop(record, correlation_id="stop-1", **timing)
    assert not stop.nothing_to_do
    assert stop.scaling_target is not None
    assert stop.scaling_target.ResourceId == "endpoint/acme-chat-c7bee5eb/variant/AllTraffic"
    registry.begin_stop("acme", "chat", correlation_id="stop-1")
    stopped = registry.mark_stopped("acme", "chat", correlation_id="stop-1")
    assert plan_stop(stopped, correlation_id="stop-2", **timing).nothing_to_do
    start = plan_start(stopped, correlation_id="start-1", **timing)
    assert not start.nothing_to_do
    assert start.scaling is not None
    assert (start.scaling.MinCapacity, start.scaling.MaxCapacity) == (1, 3)
    assert start.endpoint_config_name == stopped.endpoint_config_name
    assert {"Key": "maas:correlation-id", "Value": "start-1"} in start.tags


def test_an_endpoint_being_created_neither_stops_nor_starts(registry: EndpointRegistry) -> None:
    creating = registry.begin_deployment(a_plan(hours=OFFICE_HOURS_EXAMPLE))
    timing = {"poll_interval_seconds": 1, "max_status_checks": 5}
    with pytest.raises(Conflict, match="endpoint 'chat' is CREATING; only an endpoint in"):
        plan_stop(creating, correlation_id="stop-1", **timing)
    with pytest.raises(Conflict, match="endpoint 'chat' is CREATING; only a stopped endpoint"):
        plan_start(creating, correlation_id="start-1", **timing)
