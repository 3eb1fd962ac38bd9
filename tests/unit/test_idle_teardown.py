"""An idle alarm going off tears down its endpoint once, and only an endpoint that serves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.idle import IdleOutcome, IdleTeardown
from maas.endpoints.records import table_arguments
from schemas import DeploymentRequest
from schemas.alarms import AlarmStateChange, format_state_timestamp, parse_state_timestamp
from tests.factories import ARTIFACTS_BUCKET, deployment_request

if TYPE_CHECKING:
    from maas.endpoints import DeploymentPlan

TABLE = "endpoints"
LIMIT_MINUTES = 5
ROLE = "arn:aws:iam::123456789012:role/states"


@pytest.fixture
def clients(aws: None) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments(TABLE))
    return {
        "dynamodb": dynamodb,
        "cloudwatch": boto3.client("cloudwatch"),
        "stepfunctions": boto3.client("stepfunctions"),
    }


@pytest.fixture
def registry(clients: dict[str, Any]) -> EndpointRegistry:
    return EndpointRegistry(TABLE, clients["dynamodb"])


@pytest.fixture
def teardown_arn(clients: dict[str, Any]) -> str:
    created = clients["stepfunctions"].create_state_machine(
        name="teardown",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=ROLE,
    )
    return str(created["stateMachineArn"])


@pytest.fixture
def idle(clients: dict[str, Any], registry: EndpointRegistry, teardown_arn: str) -> IdleTeardown:
    return IdleTeardown(
        cloudwatch=clients["cloudwatch"],
        stepfunctions=clients["stepfunctions"],
        registry=registry,
        teardown_state_machine_arn=teardown_arn,
    )


def a_plan(**overrides: Any) -> DeploymentPlan:
    request = deployment_request(**{"idle_timeout_minutes": LIMIT_MINUTES, **overrides})
    return plan_deployment(
        DeploymentRequest.model_validate(request),
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )


def deployed(clients: dict[str, Any], registry: EndpointRegistry, plan: DeploymentPlan) -> str:
    """Record the endpoint in service and put its idle alarm, as the deployment does."""
    registry.begin_deployment(plan)
    registry.mark_in_service(
        "acme", plan.endpoint_name, correlation_id="deploy-1", endpoint_arn="arn:endpoint"
    )
    assert plan.idle_alarm is not None
    clients["cloudwatch"].put_metric_alarm(**plan.idle_alarm.model_dump())
    return plan.idle_alarm.AlarmName


def went_off(clients: dict[str, Any], alarm_name: str, *, after: timedelta) -> AlarmStateChange:
    """The alarm's state change into ALARM, ``after`` the alarm was put."""
    [alarm] = clients["cloudwatch"].describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    moment = alarm["AlarmConfigurationUpdatedTimestamp"] + after
    return AlarmStateChange.model_validate(
        {
            "source": "aws.cloudwatch",
            "detail-type": "CloudWatch Alarm State Change",
            "time": moment.isoformat(),
            "resources": [alarm["AlarmArn"]],
            "detail": {
                "alarmName": alarm_name,
                "state": {
                    "value": "ALARM",
                    "reason": "idle",
                    "timestamp": format_state_timestamp(moment),
                },
                "previousState": {"value": "OK", "reason": "", "timestamp": ""},
            },
        }
    )


IDLE_FOR_LONG = timedelta(minutes=LIMIT_MINUTES, seconds=30)


def executions(clients: dict[str, Any], teardown_arn: str) -> list[dict[str, Any]]:
    listed = clients["stepfunctions"].list_executions(stateMachineArn=teardown_arn)
    return list(listed["executions"])


def test_an_idle_endpoint_is_torn_down_under_a_name_of_the_state_change(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())

    result = idle.handle(went_off(clients, alarm_name, after=IDLE_FOR_LONG))

    assert result.outcome is IdleOutcome.TEARDOWN_STARTED
    assert (result.tenant_id, result.endpoint_name) == ("acme", "chat")
    [execution] = executions(clients, teardown_arn)
    assert execution["name"].startswith(f"{alarm_name}-")
    described = clients["stepfunctions"].describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {
        "tenant_id": "acme",
        "endpoint_name": "chat",
        "delete_model": True,
    }


def test_the_same_state_change_delivered_twice_starts_one_teardown(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())
    change = went_off(clients, alarm_name, after=IDLE_FOR_LONG)

    first, second = idle.handle(change), idle.handle(change)

    # Step Functions answers a running execution's name and input with that execution.
    assert first.outcome is IdleOutcome.TEARDOWN_STARTED
    assert second.execution_arn == first.execution_arn
    assert len(executions(clients, teardown_arn)) == 1


def test_a_state_change_delivered_after_its_teardown_ended_starts_nothing(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())
    change = went_off(clients, alarm_name, after=IDLE_FOR_LONG)
    first = idle.handle(change)
    assert first.execution_arn is not None
    clients["stepfunctions"].stop_execution(executionArn=first.execution_arn)

    late = idle.handle(change)

    assert late.outcome is IdleOutcome.TEARDOWN_ALREADY_STARTED
    assert late.execution_arn == first.execution_arn
    assert len(executions(clients, teardown_arn)) == 1


def test_an_alarm_that_went_off_before_the_limit_had_passed_is_set_back_to_ok(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())

    result = idle.handle(went_off(clients, alarm_name, after=timedelta(minutes=1)))

    assert result.outcome is IdleOutcome.REARMED
    [alarm] = clients["cloudwatch"].describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    assert alarm["StateValue"] == "OK"
    assert alarm["StateReason"] == result.reason
    assert executions(clients, teardown_arn) == []


def test_an_endpoint_already_being_deleted_is_left_to_its_teardown(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())
    registry.begin_teardown("acme", "chat", correlation_id="teardown-1")

    result = idle.handle(went_off(clients, alarm_name, after=IDLE_FOR_LONG))

    assert (result.outcome, result.reason) == (IdleOutcome.IGNORED, "the endpoint is DELETING")
    assert executions(clients, teardown_arn) == []


def test_an_endpoint_that_is_gone_is_a_no_op(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())
    registry.begin_teardown("acme", "chat", correlation_id="teardown-1")
    registry.mark_deleted("acme", "chat", correlation_id="teardown-1")

    result = idle.handle(went_off(clients, alarm_name, after=IDLE_FOR_LONG))

    assert (result.outcome, result.reason) == (IdleOutcome.IGNORED, "the endpoint is DELETED")
    assert executions(clients, teardown_arn) == []


def test_an_alarm_the_record_does_not_name_is_a_no_op(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())
    # Redeployed without an idle limit: the old alarm's event must not tear the new one down.
    registry.begin_teardown("acme", "chat", correlation_id="teardown-1")
    registry.mark_deleted("acme", "chat", correlation_id="teardown-1")
    registry.begin_deployment(
        plan_deployment(
            DeploymentRequest.model_validate(deployment_request()),
            correlation_id="deploy-2",
            artifacts_bucket=ARTIFACTS_BUCKET,
            poll_interval_seconds=1,
            max_status_checks=5,
        )
    )
    registry.mark_in_service("acme", "chat", correlation_id="deploy-2", endpoint_arn="arn:e")

    result = idle.handle(went_off(clients, alarm_name, after=IDLE_FOR_LONG))

    assert result.outcome is IdleOutcome.IGNORED
    assert result.reason == f"the endpoint's idle limit is not alarm {alarm_name}"
    assert executions(clients, teardown_arn) == []


def test_an_alarm_without_the_products_tags_is_a_no_op(
    clients: dict[str, Any], idle: IdleTeardown, teardown_arn: str
) -> None:
    clients["cloudwatch"].put_metric_alarm(
        AlarmName="maas-idle-someone-elses",
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=5,
        Threshold=0.0,
        ComparisonOperator="LessThanOrEqualToThreshold",
    )

    result = idle.handle(went_off(clients, "maas-idle-someone-elses", after=IDLE_FOR_LONG))

    assert result.outcome is IdleOutcome.IGNORED
    assert result.reason == "alarm maas-idle-someone-elses has no maas:tenant/maas:endpoint tags"
    assert executions(clients, teardown_arn) == []


def test_a_change_back_to_ok_is_a_no_op(
    clients: dict[str, Any], registry: EndpointRegistry, idle: IdleTeardown, teardown_arn: str
) -> None:
    alarm_name = deployed(clients, registry, a_plan())
    change = went_off(clients, alarm_name, after=IDLE_FOR_LONG)
    back = change.model_copy(
        update={"detail": change.detail.model_copy(update={"state": change.detail.previous_state})}
    )

    result = idle.handle(back)

    assert result.outcome is IdleOutcome.IGNORED
    assert executions(clients, teardown_arn) == []


def test_an_idle_limit_is_an_alarm_on_no_invocation_for_that_many_minutes() -> None:
    plan = a_plan()
    assert plan.idle_alarm is not None
    assert plan.idle_alarm.model_dump(exclude={"AlarmDescription", "Tags"}) == {
        "AlarmName": "maas-idle-chat-c7bee5eb",
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocations",
        "Dimensions": [
            {"Name": "EndpointName", "Value": "acme-chat-c7bee5eb"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": LIMIT_MINUTES,
        "DatapointsToAlarm": LIMIT_MINUTES,
        "Threshold": 0.0,
        "ComparisonOperator": "LessThanOrEqualToThreshold",
        "TreatMissingData": "breaching",
    }
    assert {"Key": "maas:tenant", "Value": "acme"} in plan.idle_alarm.Tags
    assert a_plan(idle_timeout_minutes=None).idle_alarm is None


def test_state_timestamps_are_read_as_cloudwatch_writes_them() -> None:
    moment = datetime(2026, 1, 1, 12, 0, 0, 989000, tzinfo=UTC)
    assert parse_state_timestamp(format_state_timestamp(moment)) == moment
