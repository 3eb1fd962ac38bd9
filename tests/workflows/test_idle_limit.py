"""A deployment's idle limit: an alarm on zero invocations tears the endpoint down, once.

The alarm is evaluated by the local runtime's CloudWatch (``runtime.cloudwatch``) at a time
each test chooses, minutes ahead, instead of waiting for them.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from maas.local import LocalRuntime
from maas.local.events import put_service_event
from maas.naming import idle_alarm_name, sagemaker_endpoint_name
from schemas.alarms import format_state_timestamp
from tests.factories import deployment_request, in_one_hour
from tests.workflows.conftest import FAST, published, record, run

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from maas.executions import ExecutionSnapshot


LIMIT_MINUTES = 5


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """The product, with alarms evaluated only when a test says when."""
    with LocalRuntime(FAST.model_copy(update={"alarm_evaluation_seconds": 3600})) as local:
        yield local


def alarm_of(runtime: LocalRuntime, endpoint_name: str) -> dict[str, Any] | None:
    """The endpoint's idle alarm, as DescribeAlarms answers it."""
    name = idle_alarm_name("acme", endpoint_name)
    alarms = runtime.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarms[0] if alarms else None


def teardowns(runtime: LocalRuntime, endpoint_name: str) -> list[dict[str, Any]]:
    """The teardown executions started for the endpoint's idle alarm."""
    listed = runtime.client("stepfunctions").list_executions(
        stateMachineArn=runtime.state_machine_arn("Teardown")
    )["executions"]
    prefix = idle_alarm_name("acme", endpoint_name)
    return [execution for execution in listed if execution["name"].startswith(prefix)]


def wait_for(probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def test_deploying_with_an_idle_limit_puts_an_alarm_on_the_endpoints_invocations(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="idle-shape", idle_timeout_minutes=LIMIT_MINUTES)
    assert deployed.status == "SUCCEEDED", deployed.cause

    alarm = alarm_of(runtime, "idle-shape")
    assert alarm is not None
    assert alarm["AlarmName"].startswith("maas-idle-idle-shape-")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/SageMaker",
        "Invocations",
        "Sum",
    )
    assert sorted((d["Name"], d["Value"]) for d in alarm["Dimensions"]) == [
        ("EndpointName", sagemaker_endpoint_name("acme", "idle-shape")),
        ("VariantName", "AllTraffic"),
    ]
    assert alarm["Period"] == 60
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == LIMIT_MINUTES
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanOrEqualToThreshold", 0)
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == []
    tags = runtime.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm["AlarmArn"])
    values = {tag["Key"]: tag["Value"] for tag in tags["Tags"]}
    assert (values["maas:tenant"], values["maas:endpoint"]) == ("acme", "idle-shape")
    item = record(runtime, "acme", "idle-shape")
    assert item is not None and item["idle_alarm_name"]["S"] == alarm["AlarmName"]


def test_an_endpoint_idle_for_its_limit_is_torn_down_once(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="idle-quiet", idle_timeout_minutes=LIMIT_MINUTES)
    assert deployed.status == "SUCCEEDED", deployed.cause
    alarm = alarm_of(runtime, "idle-quiet")
    assert alarm is not None
    idle_until = alarm["AlarmConfigurationUpdatedTimestamp"] + timedelta(minutes=LIMIT_MINUTES + 1)

    [change] = [
        change
        for change in runtime.cloudwatch.evaluate(now=idle_until)
        if change.alarm_name == alarm["AlarmName"]
    ]
    # EventBridge delivers at least once: the same state change, delivered again.
    put_service_event(
        runtime.client("events"),
        source="aws.cloudwatch",
        detail_type="CloudWatch Alarm State Change",
        detail={
            "alarmName": change.alarm_name,
            "state": {
                "value": "ALARM",
                "reason": "redelivered",
                "timestamp": format_state_timestamp(change.timestamp),
            },
            "previousState": {"value": "OK", "reason": "", "timestamp": ""},
            "configuration": {},
        },
        resources=[alarm["AlarmArn"]],
    )

    [deleted] = wait_for(lambda: published(runtime, "EndpointDeleted", "idle-quiet"))
    [teardown] = teardowns(runtime, "idle-quiet")
    assert deleted["detail"]["correlation_id"] == teardown["name"]
    item = record(runtime, "acme", "idle-quiet")
    assert item is not None and item["status"]["S"] == "DELETED"
    assert alarm_of(runtime, "idle-quiet") is None
    time.sleep(1)  # a second teardown, were one started, would have published by now
    assert len(published(runtime, "EndpointDeleted", "idle-quiet")) == 1
    assert len(teardowns(runtime, "idle-quiet")) == 1
    assert runtime.events.failed_deliveries == []


def test_an_alarm_that_goes_off_sooner_than_the_limit_after_deployment_is_set_back(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="idle-fresh", idle_timeout_minutes=LIMIT_MINUTES)
    assert deployed.status == "SUCCEEDED", deployed.cause
    alarm = alarm_of(runtime, "idle-fresh")
    assert alarm is not None

    # The minutes before the alarm existed have no datapoints either: CloudWatch's first
    # evaluation finds the limit breached.
    runtime.cloudwatch.evaluate(
        now=alarm["AlarmConfigurationUpdatedTimestamp"] + timedelta(minutes=1)
    )

    def rearmed() -> dict[str, Any] | None:
        current = alarm_of(runtime, "idle-fresh")
        return current if current and current["StateValue"] == "OK" else None

    assert wait_for(rearmed)["StateReason"].startswith(
        "maas: the alarm judged 300 seconds but the endpoint has served for"
    )
    item = record(runtime, "acme", "idle-fresh")
    assert item is not None and item["status"]["S"] == "IN_SERVICE"
    assert teardowns(runtime, "idle-fresh") == []


def test_an_invocation_keeps_the_endpoint(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="idle-busy", idle_timeout_minutes=LIMIT_MINUTES)
    assert deployed.status == "SUCCEEDED", deployed.cause
    alarm = alarm_of(runtime, "idle-busy")
    assert alarm is not None
    later = alarm["AlarmConfigurationUpdatedTimestamp"] + timedelta(minutes=LIMIT_MINUTES + 1)
    runtime.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": alarm["Dimensions"],
                "Timestamp": later - timedelta(minutes=2),
                "Value": 1.0,
            }
        ],
    )

    changes = runtime.cloudwatch.evaluate(now=later)

    assert alarm["AlarmName"] not in [change.alarm_name for change in changes]
    item = record(runtime, "acme", "idle-busy")
    assert item is not None and item["status"]["S"] == "IN_SERVICE"


def test_a_deployment_that_fails_after_its_alarm_deletes_the_alarm(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    fault = runtime.faults.inject("scheduler", "CreateSchedule", "ValidationException")

    failed = deploy(
        endpoint_name="idle-failed",
        idle_timeout_minutes=LIMIT_MINUTES,
        expires_at=in_one_hour(),
    )

    assert failed.status == "FAILED"
    assert fault.fired == 1
    assert alarm_of(runtime, "idle-failed") is None
    [announced] = published(runtime, "EndpointDeploymentFailed", "idle-failed")
    alarm_name = idle_alarm_name("acme", "idle-failed")
    assert f"alarm/{alarm_name}" in announced["detail"]["deleted_resources"]


def test_putting_the_alarm_is_retried_when_cloudwatch_throttles(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    fault = runtime.faults.inject("cloudwatch", "PutMetricAlarm", "Throttling", times=2)

    deployed = deploy(endpoint_name="idle-throttled", idle_timeout_minutes=LIMIT_MINUTES)

    assert deployed.status == "SUCCEEDED", deployed.cause
    assert fault.fired == 2
    assert alarm_of(runtime, "idle-throttled") is not None


@pytest.mark.parametrize("minutes", [0, 4, 1441, "soon"])
def test_a_bad_idle_limit_is_rejected_before_anything_is_created(
    runtime: LocalRuntime, minutes: object
) -> None:
    rejected = run(
        runtime,
        "DeployEndpoint",
        deployment_request(endpoint_name="idle-bad", idle_timeout_minutes=minutes),
    )

    assert rejected.status == "FAILED"
    assert rejected.error == "Maas.ValidationError"
    assert rejected.cause is not None and rejected.cause.startswith("idle_timeout_minutes")
    assert record(runtime, "acme", "idle-bad") is None
    assert alarm_of(runtime, "idle-bad") is None
    assert "Create the idle alarm" not in rejected.path
