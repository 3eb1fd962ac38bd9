"""The update plan's DeploymentConfig and rollback alarms, checked against the APIs' shapes."""

from __future__ import annotations

from typing import Any

import botocore.session
import pydantic
import pytest
from botocore.validate import ParamValidator

from maas.endpoints.update import deployment_config, rollback_alarms
from schemas import BlueGreenPolicy, UpdateRequest


def api_errors(service: str, operation: str, arguments: dict[str, Any]) -> str:
    """What botocore's own validation says about ``arguments`` ("" when they are valid)."""
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(arguments, model.operation_model(operation).input_shape)
    return report.generate_report()


@pytest.mark.parametrize(
    ("policy", "routing"),
    [
        ({}, {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300}),
        (
            {"traffic_routing": "CANARY", "canary_percent": 10, "wait_interval_seconds": 120},
            {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 120,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            },
        ),
        (
            {"traffic_routing": "LINEAR", "linear_step_percent": 20},
            {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": 300,
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
            },
        ),
    ],
    ids=["all-at-once", "canary", "linear"],
)
def test_the_deployment_config_is_what_update_endpoint_takes(
    policy: dict[str, Any], routing: dict[str, Any]
) -> None:
    config = deployment_config(BlueGreenPolicy.model_validate(policy), ["a", "b"])
    assert config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == routing
    assert config["BlueGreenUpdatePolicy"]["TerminationWaitInSeconds"] == 600
    assert config["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "a"}, {"AlarmName": "b"}]
    }
    arguments = {"EndpointName": "chat", "EndpointConfigName": "chat-1", "DeploymentConfig": config}
    assert api_errors("sagemaker", "UpdateEndpoint", arguments) == ""


def test_rollback_alarms_watch_the_new_fleet_over_the_requested_thresholds() -> None:
    request = UpdateRequest.model_validate(
        {
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "instance_type": "ml.g6.xlarge",
            "rollback": {"max_5xx_errors_per_minute": 3, "max_model_latency_seconds": 2.5},
        }
    )
    alarms = rollback_alarms("chat", "AllTraffic", "chat-1a2b3c4d", request, tags=[])
    assert alarms.errors.AlarmName == "maas-rollback-chat-1a2b3c4d-5xx-errors"
    assert (alarms.errors.MetricName, alarms.errors.Threshold) == ("Invocation5XXErrors", 3)
    assert (alarms.latency.MetricName, alarms.latency.Threshold) == ("ModelLatency", 2_500_000)
    assert {"Name": "EndpointConfigName", "Value": "chat-1a2b3c4d"} in alarms.latency.Dimensions
    for alarm in (alarms.errors, alarms.latency):
        assert api_errors("cloudwatch", "PutMetricAlarm", alarm.model_dump()) == ""


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"traffic_routing": "CANARY"}, "canary_percent is given with traffic_routing CANARY"),
        ({"canary_percent": 10}, "canary_percent is given with traffic_routing CANARY"),
        ({"traffic_routing": "LINEAR", "linear_step_percent": 5}, "greater than or equal to 10"),
        ({"baking_seconds": 7200}, "less than or equal to 3600"),
    ],
    ids=["canary-without-size", "size-without-canary", "linear-step-too-small", "baking-too-long"],
)
def test_a_policy_sagemaker_would_refuse_is_refused(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        BlueGreenPolicy.model_validate(policy)
