"""CloudWatch alarms on the local runtime: evaluated against moto's datapoints, announced once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from moto.cloudwatch.models import cloudwatch_backends

from maas.local import LocalSettings
from maas.local.cloudwatch import AlarmTransition, UnsupportedAlarm, judge
from maas.local.events import DEFAULT_EVENT_BUS
from schemas.alarms import format_state_timestamp
from tests.local.support import unique

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime

ACCOUNT = "123456789012"
REGION = "us-east-1"
#: A whole minute, so that periods are easy to reason about: [NOW - 3 min, NOW) are judged.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def settings() -> LocalSettings:
    """The timer out of the way: each test evaluates at the time it chooses."""
    return LocalSettings(serve_models=False, alarm_evaluation_seconds=3600)


@pytest.fixture
def endpoint() -> str:
    """An endpoint name of this test's own, for its metric's dimensions."""
    return unique("chat")


def dimensions(endpoint: str) -> list[dict[str, str]]:
    return [
        {"Name": "EndpointName", "Value": endpoint},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]


@pytest.fixture
def put_alarm(runtime: LocalRuntime, endpoint: str) -> Callable[..., str]:
    """Put an idle-style alarm on the endpoint's Invocations; return its name."""

    def put(**overrides: Any) -> str:
        name = unique("idle")
        arguments = {
            "AlarmName": name,
            "Namespace": "AWS/SageMaker",
            "MetricName": "Invocations",
            "Dimensions": dimensions(endpoint),
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "Threshold": 0.0,
            "ComparisonOperator": "LessThanOrEqualToThreshold",
            "TreatMissingData": "breaching",
            **overrides,
        }
        runtime.client("cloudwatch").put_metric_alarm(**arguments)
        return name

    return put


@pytest.fixture
def invoked(runtime: LocalRuntime, endpoint: str) -> Callable[..., None]:
    """Report invocations of the endpoint at a time, as SageMaker would."""

    def put(at: datetime, count: float = 1.0) -> None:
        runtime.client("cloudwatch").put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": dimensions(endpoint),
                    "Timestamp": at,
                    "Value": count,
                }
            ],
        )

    return put


@pytest.fixture
def announced(runtime: LocalRuntime) -> Callable[[str], Callable[[], list[dict[str, Any]]]]:
    """The alarm state change events a rule on the default bus hears for an alarm."""
    sqs = runtime.client("sqs")
    events = runtime.client("events")

    def listen(alarm_name: str) -> Callable[[], list[dict[str, Any]]]:
        queue = sqs.create_queue(QueueName=unique("alarm-events"))["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        rule = unique("alarm-rule")
        pattern = {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [alarm_name]},
        }
        events.put_rule(Name=rule, EventBusName=DEFAULT_EVENT_BUS, EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule=rule, EventBusName=DEFAULT_EVENT_BUS, Targets=[{"Id": "q", "Arn": queue_arn}]
        )

        def received() -> list[dict[str, Any]]:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            return [json.loads(message["Body"]) for message in messages]

        return received

    return listen


def evaluate(runtime: LocalRuntime, alarm_name: str, now: datetime) -> list[AlarmTransition]:
    """Evaluate every alarm at ``now``; the changes of this test's alarm.

    Other tests' alarms are judged too (as CloudWatch judges every alarm of the account).
    """
    return [
        change for change in runtime.cloudwatch.evaluate(now=now) if change.alarm_name == alarm_name
    ]


def state_of(runtime: LocalRuntime, alarm_name: str) -> str:
    alarms = runtime.client("cloudwatch").describe_alarms(AlarmNames=[alarm_name])
    return str(alarms["MetricAlarms"][0]["StateValue"])


# No invocations: the idle limit


def test_no_invocation_for_the_evaluation_periods_puts_the_alarm_in_alarm_with_one_event(
    runtime: LocalRuntime, put_alarm: Callable[..., str], announced: Callable[..., Any]
) -> None:
    name = put_alarm()
    received = announced(name)

    [transition] = evaluate(runtime, name, NOW)
    again = evaluate(runtime, name, NOW + MINUTE)

    assert (transition.alarm_name, transition.previous, transition.state) == (name, "OK", "ALARM")
    assert again == []
    assert state_of(runtime, name) == "ALARM"
    [event] = received()
    assert received() == []
    assert event["source"] == "aws.cloudwatch"
    assert event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["resources"] == [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"]
    detail = event["detail"]
    assert detail["alarmName"] == name
    assert detail["state"]["value"] == "ALARM"
    assert detail["state"]["timestamp"] == "2026-06-01T12:00:00.000+0000"
    assert "3 missing datapoints were treated as [Breaching]" in detail["state"]["reason"]
    assert json.loads(detail["state"]["reasonData"])["statistic"] == "Sum"
    assert detail["previousState"]["value"] == "OK"
    [metric] = detail["configuration"]["metrics"]
    assert metric["metricStat"]["metric"]["name"] == "Invocations"
    assert metric["metricStat"]["metric"]["namespace"] == "AWS/SageMaker"
    assert metric["metricStat"]["period"] == 60
    assert metric["metricStat"]["stat"] == "Sum"


def test_an_invocation_brings_the_alarm_back_to_ok(
    runtime: LocalRuntime,
    put_alarm: Callable[..., str],
    invoked: Callable[..., None],
    announced: Callable[..., Any],
) -> None:
    name = put_alarm()
    received = announced(name)
    evaluate(runtime, name, NOW)

    invoked(at=NOW + timedelta(seconds=30))
    [transition] = evaluate(runtime, name, NOW + MINUTE)

    assert (transition.previous, transition.state) == ("ALARM", "OK")
    assert [event["detail"]["state"]["value"] for event in received()] == ["ALARM", "OK"]


def test_an_invocation_within_the_periods_keeps_an_ok_alarm_ok(
    runtime: LocalRuntime, put_alarm: Callable[..., str], invoked: Callable[..., None]
) -> None:
    name = put_alarm()
    invoked(at=NOW - timedelta(seconds=150))

    assert evaluate(runtime, name, NOW) == []
    assert state_of(runtime, name) == "OK"


def test_an_invocation_before_the_periods_does_not_count(
    runtime: LocalRuntime, put_alarm: Callable[..., str], invoked: Callable[..., None]
) -> None:
    name = put_alarm()
    invoked(at=NOW - timedelta(minutes=3, seconds=1))

    evaluate(runtime, name, NOW)

    assert state_of(runtime, name) == "ALARM"


def test_datapoints_to_alarm_m_out_of_n_breaching_periods_are_enough(
    runtime: LocalRuntime, put_alarm: Callable[..., str], invoked: Callable[..., None]
) -> None:
    name = put_alarm(DatapointsToAlarm=2)
    invoked(at=NOW - timedelta(seconds=30))

    evaluate(runtime, name, NOW)

    assert state_of(runtime, name) == "ALARM"


# Missing data


@pytest.mark.parametrize(
    ("treatment", "state"),
    [
        ("breaching", "ALARM"),
        ("notBreaching", "OK"),
        ("missing", "INSUFFICIENT_DATA"),
        ("ignore", "OK"),  # no datapoint at all: the state it had is kept
    ],
)
def test_periods_without_datapoints_are_treated_as_the_alarm_says(
    runtime: LocalRuntime, put_alarm: Callable[..., str], treatment: str, state: str
) -> None:
    name = put_alarm(TreatMissingData=treatment)

    evaluate(runtime, name, NOW)

    assert state_of(runtime, name) == state


def test_reported_zeros_breach_whatever_the_missing_data_treatment(
    runtime: LocalRuntime, put_alarm: Callable[..., str], invoked: Callable[..., None]
) -> None:
    name = put_alarm(TreatMissingData="notBreaching")
    for minutes_ago in (1, 2, 3):
        invoked(at=NOW - timedelta(minutes=minutes_ago) + timedelta(seconds=5), count=0.0)

    evaluate(runtime, name, NOW)

    assert state_of(runtime, name) == "ALARM"


def test_with_missing_treated_as_missing_the_present_datapoints_decide(
    runtime: LocalRuntime, put_alarm: Callable[..., str], invoked: Callable[..., None]
) -> None:
    name = put_alarm(TreatMissingData="missing", ComparisonOperator="GreaterThanThreshold")
    invoked(at=NOW - timedelta(seconds=30), count=5.0)

    evaluate(runtime, name, NOW)

    assert state_of(runtime, name) == "OK"  # 1 breaching datapoint, 3 needed


# Gaps, said out loud


def test_a_percentile_alarm_is_left_alone_and_the_gap_is_named(runtime: LocalRuntime) -> None:
    client = runtime.client("cloudwatch")
    name = unique("latency")
    client.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        ExtendedStatistic="p90",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1000.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    backend = cloudwatch_backends[ACCOUNT][REGION]

    evaluate(runtime, name, NOW)

    assert state_of(runtime, name) == "OK"
    assert "statistic p90 is not evaluated locally" in runtime.cloudwatch.unsupported[name]
    with pytest.raises(UnsupportedAlarm, match="p90"):
        judge(backend, backend.alarms[name], NOW)


def test_state_timestamps_are_written_as_cloudwatch_writes_them() -> None:
    assert format_state_timestamp(NOW + timedelta(microseconds=989_000)) == (
        "2026-06-01T12:00:00.989+0000"
    )
