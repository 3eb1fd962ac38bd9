"""The lifecycle under injected faults: retried faults pass, others fail once and leave nothing.

After every scenario: the registry says what exists, no SageMaker model, endpoint
configuration, endpoint, scaling target or schedule of the lifecycle is left, and the
failure (if any) was announced exactly once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from maas.endpoints.inventory import sagemaker_resources
from maas.naming import sagemaker_endpoint_name
from tests.fixtures.models import write_tiny_llama
from tests.workflows.conftest import events_of, record
from tests.workflows.test_lifecycle import children, lifecycle_request, run_lifecycle

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime


AUTOSCALING = {"min_capacity": 1, "max_capacity": 2}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(autouse=True)
def no_faults_left(runtime: LocalRuntime) -> Any:
    yield
    runtime.faults.clear()


def assert_nothing_left(runtime: LocalRuntime, endpoint_name: str) -> None:
    """No SageMaker resource, scaling target or schedule of ``endpoint_name`` exists."""
    assert [
        name for name in sagemaker_resources(runtime.client("sagemaker")) if endpoint_name in name
    ] == []
    targets = runtime.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    assert [
        t
        for t in targets
        if f"endpoint/{sagemaker_endpoint_name('acme', endpoint_name)}/" in t["ResourceId"]
    ] == []
    schedules = runtime.client("scheduler").list_schedules()["Schedules"]
    assert [s for s in schedules if endpoint_name in s["Name"]] == []


def status_of(runtime: LocalRuntime, endpoint_name: str) -> str | None:
    item = record(runtime, "acme", endpoint_name)
    return item["status"]["S"] if item else None


def test_throttled_and_failed_service_calls_are_retried_and_the_lifecycle_succeeds(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    model = runtime.faults.inject("sagemaker", "CreateModel", "InternalFailure")
    created = runtime.faults.inject("sagemaker", "CreateEndpoint", "ThrottlingException", times=2)
    scaled = runtime.faults.inject(
        "application-autoscaling", "RegisterScalableTarget", "ConcurrentUpdateException"
    )
    request = lifecycle_request(tiny_model, "fault-throttled")
    request["deployment"]["autoscaling"] = AUTOSCALING

    snapshot = run_lifecycle(runtime, request)

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert (model.fired, created.fired, scaled.fired) == (1, 2, 1)
    assert events_of(runtime, "LifecycleFailed", "fault-throttled") == []
    assert status_of(runtime, "chat-fault-throttled") == "DELETED"
    assert_nothing_left(runtime, "chat-fault-throttled")


def test_no_capacity_fails_the_deploy_stage_once_and_leaves_nothing(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    fault = runtime.faults.inject("sagemaker", "CreateEndpoint", "ResourceLimitExceeded", times=5)
    request = lifecycle_request(tiny_model, "fault-nocapacity")
    request["deployment"]["autoscaling"] = AUTOSCALING

    snapshot = run_lifecycle(runtime, request)

    assert snapshot.status == "FAILED"
    assert fault.fired == 1  # not a fault to retry
    [failed] = events_of(runtime, "LifecycleFailed", "fault-nocapacity")
    assert failed["stage"] == "deploy"
    assert "ResourceLimitExceeded" in failed["cause"]
    [deployment_failed] = events_of(runtime, "EndpointDeploymentFailed", "fault-nocapacity-deploy")
    assert deployment_failed["endpoint_name"] == "chat-fault-nocapacity"
    assert status_of(runtime, "chat-fault-nocapacity") == "FAILED"
    assert_nothing_left(runtime, "chat-fault-nocapacity")


def test_a_crashed_planning_function_fails_the_deploy_stage_before_anything_exists(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    fault = runtime.faults.crash_function("PlanDeployment")

    snapshot = run_lifecycle(runtime, lifecycle_request(tiny_model, "fault-crash"))

    assert snapshot.status == "FAILED"
    assert fault.fired == 1
    [failed] = events_of(runtime, "LifecycleFailed", "fault-crash")
    assert failed["stage"] == "deploy"
    assert "Runtime.ExitError" in failed["cause"]
    assert children(runtime, "fault-crash") == {
        "fault-crash-package": "SUCCEEDED",
        "fault-crash-deploy": "FAILED",
    }
    assert status_of(runtime, "chat-fault-crash") is None
    assert_nothing_left(runtime, "chat-fault-crash")


def test_a_packaging_job_that_exits_non_zero_fails_the_package_stage_once(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    fault = runtime.faults.fail_job(exit_code=3)

    snapshot = run_lifecycle(runtime, lifecycle_request(tiny_model, "fault-job"))

    assert snapshot.status == "FAILED"
    assert fault.fired == 1
    [failed] = events_of(runtime, "LifecycleFailed", "fault-job")
    assert failed["stage"] == "package"
    [packaging_failed] = events_of(runtime, "ModelPackagingFailed", "fault-job-package")
    assert packaging_failed["model_name"] == "tiny-fault-job"
    assert children(runtime, "fault-job") == {"fault-job-package": "FAILED"}
    assert_nothing_left(runtime, "chat-fault-job")


def test_an_endpoint_that_goes_failed_fails_the_deploy_stage_once_and_leaves_nothing(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    runtime.sagemaker.fail_endpoint(
        sagemaker_endpoint_name("acme", "chat-fault-failed"), "CUDA out of memory (injected)"
    )
    request = lifecycle_request(tiny_model, "fault-failed")
    request["deployment"]["autoscaling"] = AUTOSCALING

    snapshot = run_lifecycle(runtime, request)

    assert snapshot.status == "FAILED"
    [failed] = events_of(runtime, "LifecycleFailed", "fault-failed")
    assert failed["stage"] == "deploy"
    assert "CUDA out of memory (injected)" in failed["cause"]
    [deployment_failed] = events_of(runtime, "EndpointDeploymentFailed", "fault-failed-deploy")
    assert deployment_failed["error"] == "Maas.EndpointFailed"
    assert "CUDA out of memory (injected)" in deployment_failed["cause"]
    assert status_of(runtime, "chat-fault-failed") == "FAILED"
    assert_nothing_left(runtime, "chat-fault-failed")


def test_a_timed_out_function_is_retried_and_the_lifecycle_succeeds(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    fault = runtime.faults.time_out_function("RecordEndpointStatus")

    snapshot = run_lifecycle(runtime, lifecycle_request(tiny_model, "fault-timeout"))

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert fault.fired == 1
    assert events_of(runtime, "LifecycleFailed", "fault-timeout") == []
    assert status_of(runtime, "chat-fault-timeout") == "DELETED"
    assert_nothing_left(runtime, "chat-fault-timeout")


def test_a_function_that_keeps_timing_out_fails_the_stage_once_and_leaves_nothing(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    fault = runtime.faults.time_out_function("PlanDeployment", times=10)

    snapshot = run_lifecycle(runtime, lifecycle_request(tiny_model, "fault-hung"))

    assert snapshot.status == "FAILED"
    assert 1 < fault.fired < 10  # retried, then given up on
    [failed] = events_of(runtime, "LifecycleFailed", "fault-hung")
    assert failed["stage"] == "deploy"
    assert "Sandbox.Timedout" in failed["cause"]
    assert status_of(runtime, "chat-fault-hung") is None
    assert_nothing_left(runtime, "chat-fault-hung")


def test_throttled_teardown_calls_are_retried_and_nothing_is_left(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    deleted = runtime.faults.inject("sagemaker", "DeleteEndpoint", "ThrottlingException", times=2)
    deregistered = runtime.faults.inject(
        "application-autoscaling", "DeregisterScalableTarget", "ConcurrentUpdateException"
    )
    config = runtime.faults.inject("sagemaker", "DeleteEndpointConfig", "InternalFailure")
    request = lifecycle_request(tiny_model, "fault-teardown")
    request["deployment"]["autoscaling"] = AUTOSCALING

    snapshot = run_lifecycle(runtime, request)

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert (deleted.fired, deregistered.fired, config.fired) == (2, 1, 1)
    assert status_of(runtime, "chat-fault-teardown") == "DELETED"
    assert_nothing_left(runtime, "chat-fault-teardown")
