"""On/off hours on the local runtime: schedules stop an endpoint, keep its configuration, start it.

The stop and start workflows are run here with exactly the input their schedules carry;
waiting for a real cron minute would be too slow, so when the schedules fire is checked
through the scheduler's next-firing computation instead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from maas.endpoints.inventory import sagemaker_resources
from maas.local.scheduler import cron_firing
from maas.naming import hours_schedule_name, sagemaker_endpoint_name
from schemas import EndpointHoursFailed, EndpointInService, EndpointStopped
from schemas.hours import OFFICE_HOURS_EXAMPLE
from tests.local.support import wait_until
from tests.workflows.conftest import events_of, published, record, run

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


#: Hours whose schedules cannot fire while the tests run: the workflows are run directly.
HOURS_IN_2099 = {
    "timezone": "Europe/Paris",
    "start": "cron(0 8 ? * MON-FRI 2099)",
    "stop": "cron(0 19 ? * MON-FRI 2099)",
}
AUTOSCALING = {"min_capacity": 1, "max_capacity": 3}


def schedule(runtime: LocalRuntime, endpoint_name: str, action: str) -> dict[str, Any]:
    """The endpoint's stop or start schedule, as GetSchedule shows it."""
    name = hours_schedule_name("acme", endpoint_name, action)
    return dict(runtime.client("scheduler").get_schedule(Name=name))


def fire(runtime: LocalRuntime, endpoint_name: str, action: str) -> ExecutionSnapshot:
    """Run the schedule's target workflow with the schedule's own input, as a firing would."""
    fired = schedule(runtime, endpoint_name, action)
    machine = {"stop": "StopEndpoint", "start": "StartEndpoint"}[action]
    assert fired["Target"]["Arn"] == runtime.resources.state_machines[machine]
    return run(runtime, machine, json.loads(fired["Target"]["Input"]))


def scalable_targets(runtime: LocalRuntime, endpoint_name: str) -> list[dict[str, Any]]:
    response = runtime.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker",
        ResourceIds=[
            f"endpoint/{sagemaker_endpoint_name('acme', endpoint_name)}/variant/AllTraffic"
        ],
    )
    return list(response["ScalableTargets"])


def endpoint_exists(runtime: LocalRuntime, endpoint_name: str) -> bool:
    names = [e["EndpointName"] for e in runtime.client("sagemaker").list_endpoints()["Endpoints"]]
    return sagemaker_endpoint_name("acme", endpoint_name) in names


def hours_schedules(runtime: LocalRuntime, endpoint_name: str) -> list[str]:
    listed = runtime.client("scheduler").list_schedules()["Schedules"]
    names = {hours_schedule_name("acme", endpoint_name, a) for a in ("stop", "start")}
    return [s["Name"] for s in listed if s["Name"] in names]


def teardown(runtime: LocalRuntime, endpoint_name: str) -> ExecutionSnapshot:
    return run(runtime, "Teardown", {"tenant_id": "acme", "endpoint_name": endpoint_name})


def test_a_deployment_with_hours_schedules_its_stop_and_start(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="office", hours=OFFICE_HOURS_EXAMPLE)
    assert deployed.status == "SUCCEEDED", deployed.cause
    assert deployed.path.index("Schedule the stop at closing time") < deployed.path.index(
        "Record endpoint as in service"
    )
    target = json.dumps({"tenant_id": "acme", "endpoint_name": "office"})
    for action, machine in (("stop", "StopEndpoint"), ("start", "StartEndpoint")):
        created = schedule(runtime, "office", action)
        assert created["ScheduleExpression"] == OFFICE_HOURS_EXAMPLE[action]
        assert created["ScheduleExpressionTimezone"] == "Europe/Paris"
        assert created["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert created["State"] == "ENABLED"
        assert created["Target"]["Arn"] == runtime.resources.state_machines[machine]
        assert created["Target"]["RoleArn"] == runtime.resources.roles["SchedulerRole"]
        assert created["Target"]["Input"] == target
        # Armed locally for the next weekday opening or closing in Paris.
        assert runtime.scheduler.next_firing(created["Arn"]) == cron_firing(
            OFFICE_HOURS_EXAMPLE[action], "Europe/Paris", datetime.now(UTC)
        )
    item = record(runtime, "acme", "office")
    assert item is not None
    assert item["hours"]["M"]["stop"]["S"] == OFFICE_HOURS_EXAMPLE["stop"]
    assert teardown(runtime, "office").status == "SUCCEEDED"
    assert hours_schedules(runtime, "office") == []


def test_a_stop_deletes_the_endpoint_only_and_a_start_brings_it_back(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="nightly", hours=HOURS_IN_2099, autoscaling=AUTOSCALING)
    assert deployed.status == "SUCCEEDED", deployed.cause
    sagemaker = runtime.client("sagemaker")
    config_name = sagemaker.describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "nightly")
    )["EndpointConfigName"]

    stopped = fire(runtime, "nightly", "stop")
    assert stopped.status == "SUCCEEDED", stopped.cause
    assert stopped.output == {
        "tenant_id": "acme",
        "endpoint_name": "nightly",
        "status": "STOPPED",
        "changed": True,
    }
    assert "Wait for endpoint deletion" in stopped.path
    assert not endpoint_exists(runtime, "nightly")
    assert sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    assert sagemaker.describe_model(ModelName=config_name)
    assert scalable_targets(runtime, "nightly") == []
    item = record(runtime, "acme", "nightly")
    assert item is not None
    assert (item["status"]["S"], item["correlation_id"]["S"]) == ("STOPPED", stopped.name)
    [event] = events_of(runtime, "EndpointStopped", stopped.name)
    assert EndpointStopped.model_validate(event).endpoint_config_name == config_name

    started = fire(runtime, "nightly", "start")
    assert started.status == "SUCCEEDED", started.cause
    assert started.output["status"] == "IN_SERVICE"
    assert "Wait for endpoint" in started.path
    described = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name("acme", "nightly"))
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == (
        "InService",
        config_name,
    )
    [target] = scalable_targets(runtime, "nightly")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    item = record(runtime, "acme", "nightly")
    assert item is not None
    assert (item["status"]["S"], item["endpoint_arn"]["S"]) == (
        "IN_SERVICE",
        described["EndpointArn"],
    )
    [event] = events_of(runtime, "EndpointInService", started.name)
    in_service = EndpointInService.model_validate(event)
    assert (in_service.endpoint_config_name, in_service.model_name) == (config_name, config_name)
    tags = sagemaker.list_tags(ResourceArn=described["EndpointArn"])["Tags"]
    assert {"Key": "maas:correlation-id", "Value": started.name} in tags
    assert teardown(runtime, "nightly").status == "SUCCEEDED"


def test_a_repeated_stop_or_start_changes_nothing(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    assert deploy(endpoint_name="twice", hours=HOURS_IN_2099).status == "SUCCEEDED"
    in_service_already = fire(runtime, "twice", "start")
    assert in_service_already.status == "SUCCEEDED", in_service_already.cause
    assert in_service_already.output["changed"] is False
    assert in_service_already.path[-1] == "In service already"

    assert fire(runtime, "twice", "stop").status == "SUCCEEDED"
    stopped_already = fire(runtime, "twice", "stop")
    assert stopped_already.status == "SUCCEEDED", stopped_already.cause
    assert stopped_already.output == {
        "tenant_id": "acme",
        "endpoint_name": "twice",
        "status": "STOPPED",
        "changed": False,
    }
    assert len(published(runtime, "EndpointStopped", "twice")) == 1
    item = record(runtime, "acme", "twice")
    assert item is not None and item["status"]["S"] == "STOPPED"
    assert teardown(runtime, "twice").status == "SUCCEEDED"


def test_a_stopped_endpoint_is_torn_down_completely(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="closed", hours=HOURS_IN_2099, autoscaling=AUTOSCALING)
    assert deployed.status == "SUCCEEDED", deployed.cause
    assert fire(runtime, "closed", "stop").status == "SUCCEEDED"

    torn_down = teardown(runtime, "closed")
    assert torn_down.status == "SUCCEEDED", torn_down.cause
    assert "Cancel the start schedule" in torn_down.path
    assert sagemaker_resources(runtime.client("sagemaker"), "closed") == []
    assert scalable_targets(runtime, "closed") == []
    assert hours_schedules(runtime, "closed") == []
    item = record(runtime, "acme", "closed")
    assert item is not None and item["status"]["S"] == "DELETED"


def test_a_start_that_fails_is_undone_and_the_endpoint_stays_stopped(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="flaky", hours=HOURS_IN_2099, autoscaling=AUTOSCALING)
    assert deployed.status == "SUCCEEDED", deployed.cause
    assert fire(runtime, "flaky", "stop").status == "SUCCEEDED"
    runtime.sagemaker.fail_endpoint(
        sagemaker_endpoint_name("acme", "flaky"), "CapacityError: no ml.g5.xlarge capacity"
    )

    started = fire(runtime, "flaky", "start")
    assert started.status == "FAILED"
    assert started.error == "Maas.EndpointFailed"
    assert "Delete the started endpoint" in started.path
    item = record(runtime, "acme", "flaky")
    assert item is not None
    assert item["status"]["S"] == "STOPPED"
    assert "Maas.EndpointFailed" in item["failure_reason"]["S"]
    [event] = events_of(runtime, "EndpointHoursFailed", started.name)
    failure = EndpointHoursFailed.model_validate(event)
    assert (failure.operation, failure.status) == ("start", "STOPPED")
    assert scalable_targets(runtime, "flaky") == []
    # The failed endpoint was deleted; SageMaker finishes deleting it on its own.
    wait_until(lambda: not endpoint_exists(runtime, "flaky"))
    kept = sagemaker_resources(runtime.client("sagemaker"), "flaky")
    assert sorted(resource.partition("/")[0] for resource in kept) == ["endpoint-config", "model"]

    retried = fire(runtime, "flaky", "start")
    assert retried.status == "SUCCEEDED", retried.cause
    assert teardown(runtime, "flaky").status == "SUCCEEDED"


def test_a_stop_sagemaker_refuses_is_undone_and_the_endpoint_keeps_serving(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="stubborn", hours=HOURS_IN_2099, autoscaling=AUTOSCALING)
    assert deployed.status == "SUCCEEDED", deployed.cause
    runtime.faults.inject("sagemaker", "DeleteEndpoint", "InternalFailure")

    stopped = fire(runtime, "stubborn", "stop")
    assert stopped.status == "FAILED"
    assert "Register scalable target again" in stopped.path
    assert endpoint_exists(runtime, "stubborn")
    [target] = scalable_targets(runtime, "stubborn")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    item = record(runtime, "acme", "stubborn")
    assert item is not None and item["status"]["S"] == "IN_SERVICE"
    [event] = events_of(runtime, "EndpointHoursFailed", stopped.name)
    assert EndpointHoursFailed.model_validate(event).status == "IN_SERVICE"
    assert teardown(runtime, "stubborn").status == "SUCCEEDED"


def test_a_stop_of_an_endpoint_the_tenant_does_not_have_is_refused(
    runtime: LocalRuntime,
) -> None:
    snapshot = run(runtime, "StopEndpoint", {"tenant_id": "acme", "endpoint_name": "nowhere"})
    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.NotFound"
    assert snapshot.cause == "endpoint_name: no endpoint 'nowhere' for this tenant"


def test_a_start_restarts_the_idle_clock_that_ran_out_overnight(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="idle-nights", hours=HOURS_IN_2099, idle_timeout_minutes=30)
    assert deployed.status == "SUCCEEDED", deployed.cause
    item = record(runtime, "acme", "idle-nights")
    assert item is not None
    alarm_name = item["idle_alarm_name"]["S"]
    assert fire(runtime, "idle-nights", "stop").status == "SUCCEEDED"
    # Overnight nothing is invoked: the alarm goes off, and the stopped endpoint is left alone.
    cloudwatch = runtime.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue="ALARM", StateReason="idle")

    started = fire(runtime, "idle-nights", "start")

    assert started.status == "SUCCEEDED", started.cause
    assert "Restart the idle clock" in started.path
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    assert alarm["StateValue"] == "OK"
    assert teardown(runtime, "idle-nights").status == "SUCCEEDED"
    assert cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"] == []
