"""lifecycle on the local runtime: package -> deploy -> teardown as children, or one failure."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from maas.endpoints.inventory import sagemaker_resources
from maas.executions import ExecutionSnapshot, wait_for_execution
from maas.naming import sagemaker_endpoint_name
from maas.workflows import execution_name
from schemas.api import Workflow
from schemas.events import LifecycleFailed
from schemas.lifecycle import CLIENT_EVENT_SOURCE, LifecycleRequest
from tests.factories import packaging_request
from tests.fixtures.models import write_tiny_llama
from tests.workflows.conftest import events_of, record, run

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama checkpoint: packaging it takes a second, not a minute."""
    return write_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


def lifecycle_request(model_path: Path, request_id: str, **overrides: Any) -> dict[str, Any]:
    """A lifecycle of the tiny Llama at ``model_path``, deployed as ``chat-<request_id>``."""
    package = packaging_request(
        model_name=f"tiny-{request_id}", source={"kind": "local", "path": str(model_path)}
    )
    del package["tenant_id"]
    request: dict[str, Any] = {
        "tenant_id": "acme",
        "request_id": request_id,
        "package": package,
        "deployment": {"endpoint_name": f"chat-{request_id}", "instance_type": "ml.g5.xlarge"},
    }
    request.update(overrides)
    return LifecycleRequest.model_validate(request).model_dump(mode="json", exclude_none=True)


def run_lifecycle(runtime: LocalRuntime, request: dict[str, Any]) -> ExecutionSnapshot:
    arn = runtime.start_execution("Lifecycle", json.dumps(request), name=request["request_id"])
    return wait_for_execution(runtime.client("stepfunctions"), arn, timeout_seconds=300)


def children(runtime: LocalRuntime, name: str) -> dict[str, str]:
    """The child executions of the lifecycle ``name``, by state machine id: their status."""
    stepfunctions = runtime.client("stepfunctions")
    found = {}
    for machine_id in ("PackageModel", "DeployEndpoint", "Evaluate", "Teardown"):
        listed = stepfunctions.list_executions(
            stateMachineArn=runtime.state_machine_arn(machine_id)
        )["executions"]
        for execution in listed:
            if execution["name"].startswith(f"{name}-"):
                found[execution["name"]] = execution["status"]
    return found


def leftovers(runtime: LocalRuntime, endpoint_name: str) -> list[str]:
    return [
        name for name in sagemaker_resources(runtime.client("sagemaker")) if endpoint_name in name
    ]


@pytest.fixture(scope="module")
def completed(runtime: LocalRuntime, tiny_model: Path) -> ExecutionSnapshot:
    return run_lifecycle(runtime, lifecycle_request(tiny_model, "life-done"))


def test_a_lifecycle_runs_each_child_under_a_name_derived_from_its_own(
    runtime: LocalRuntime, completed: ExecutionSnapshot
) -> None:
    assert completed.status == "SUCCEEDED", completed.cause
    assert completed.path == [
        "Address the package to the tenant",
        "Package the model",
        "Address the deployment to the version",
        "Deploy the version",
        "Evaluate it?",
        "No evaluation",
        "Keep the endpoint?",
        "Tear the endpoint down",
        "Lifecycle complete",
    ]
    assert children(runtime, "life-done") == {
        "life-done-package": "SUCCEEDED",
        "life-done-deploy": "SUCCEEDED",
        "life-done-teardown": "SUCCEEDED",
    }


def test_the_packaged_version_is_the_one_deployed_and_nothing_is_left(
    runtime: LocalRuntime, completed: ExecutionSnapshot
) -> None:
    version, endpoint = completed.output["version"], completed.output["endpoint"]
    assert (version["model_name"], version["version"]) == ("tiny-life-done", 1)
    assert endpoint["endpoint_name"] == "chat-life-done"
    [in_service] = events_of(runtime, "EndpointInService", "life-done-deploy")
    assert in_service["model_version"] == "1"
    assert leftovers(runtime, "chat-life-done") == []
    stored = record(runtime, "acme", "chat-life-done")
    assert stored is not None and stored["status"]["S"] == "DELETED"
    assert events_of(runtime, "LifecycleFailed", "life-done") == []


def test_a_kept_endpoint_is_still_in_service_when_the_lifecycle_ends(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    snapshot = run_lifecycle(
        runtime, lifecycle_request(tiny_model, "life-kept", keep_endpoint=True)
    )

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert "Tear the endpoint down" not in snapshot.path
    sagemaker = runtime.client("sagemaker")
    status = sagemaker.describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "chat-life-kept")
    )["EndpointStatus"]
    assert status == "InService"
    torn_down = run(runtime, "Teardown", {"tenant_id": "acme", "endpoint_name": "chat-life-kept"})
    assert torn_down.status == "SUCCEEDED", torn_down.cause


def test_a_failed_gate_tears_the_endpoint_down_when_the_request_says_so(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    # No model is served here (FAST): every question goes unanswered, so nothing scores and
    # the gate fails; the evaluation tears the endpoint down and the lifecycle completes.
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    question = {"id": "q1", "question": "What is 2 + 2?", "reference": "4"}
    runtime.client("s3").put_object(
        Bucket=bucket, Key="acme/eval/one.jsonl", Body=json.dumps(question).encode()
    )
    evaluation = {
        "question_set_uri": f"s3://{bucket}/acme/eval/one.jsonl",
        "metrics": ["exact_match"],
        "thresholds": {"exact_match": 0.5},
        "on_gate_failure": "teardown",
    }
    snapshot = run_lifecycle(
        runtime, lifecycle_request(tiny_model, "life-gated", evaluation=evaluation)
    )

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert snapshot.output["evaluation"]["passed"] is False
    assert "Tear the endpoint down" not in snapshot.path  # the evaluation already did
    assert children(runtime, "life-gated") == {
        "life-gated-package": "SUCCEEDED",
        "life-gated-deploy": "SUCCEEDED",
        "life-gated-eval": "SUCCEEDED",
        "life-gated-eval-teardown": "SUCCEEDED",
    }
    (failed,) = events_of(runtime, "EvaluationGateFailed", "life-gated-eval")
    assert failed["verdict"]["action"] == "teardown"
    assert leftovers(runtime, "chat-life-gated") == []


def test_a_failed_package_stage_is_announced_once_and_deploys_nothing(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    request = lifecycle_request(tiny_model, "life-nopkg")
    request["package"]["source"]["path"] = "/nowhere/model.gguf"

    snapshot = run_lifecycle(runtime, request)

    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.LifecycleFailed"
    assert snapshot.cause and snapshot.cause.startswith("package stage failed: States.TaskFailed")
    [failed] = events_of(runtime, "LifecycleFailed", "life-nopkg")
    detail = LifecycleFailed.model_validate(failed)
    assert (detail.stage, detail.error) == ("package", "States.TaskFailed")
    assert detail.cause.startswith("Maas.") and "/nowhere/model.gguf" in detail.cause
    assert children(runtime, "life-nopkg") == {"life-nopkg-package": "FAILED"}
    assert leftovers(runtime, "chat-life-nopkg") == []


def test_a_failed_deploy_stage_is_announced_once_and_leaves_nothing(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    request = lifecycle_request(tiny_model, "life-nodeploy")
    # The deployment child rejects a count outside the autoscaling bounds.
    request["deployment"]["instance_count"] = 3
    request["deployment"]["autoscaling"] = {"min_capacity": 1, "max_capacity": 2}

    snapshot = run_lifecycle(runtime, request)

    assert snapshot.status == "FAILED"
    [failed] = events_of(runtime, "LifecycleFailed", "life-nodeploy")
    assert failed["stage"] == "deploy"
    assert failed["cause"].startswith("Maas.ValidationError: ")
    assert "outside the autoscaling bounds" in failed["cause"]
    assert children(runtime, "life-nodeploy") == {
        "life-nodeploy-package": "SUCCEEDED",
        "life-nodeploy-deploy": "FAILED",
    }
    assert leftovers(runtime, "chat-life-nodeploy") == []


def uploaded(runtime: LocalRuntime, model_path: Path, tenant: str) -> str:
    """``model_path``'s files under ``tenant``'s folder of the artifacts bucket: a source an
    event may name (a ``local`` one it may not)."""
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    prefix = f"{tenant}/sources/{model_path.name}/"
    for file in model_path.iterdir():
        runtime.client("s3").upload_file(str(file), bucket, prefix + file.name)
    return f"s3://{bucket}/{prefix}"


def test_a_lifecycle_requested_twice_on_the_bus_starts_one_execution(
    runtime: LocalRuntime, tiny_model: Path
) -> None:
    request = lifecycle_request(tiny_model, "life-twice", keep_endpoint=True)
    request["package"]["source"] = {"kind": "s3", "uri": uploaded(runtime, tiny_model, "acme")}
    entry = {
        "Source": CLIENT_EVENT_SOURCE,
        "DetailType": "LifecycleRequested",
        "Detail": json.dumps(request),
        "EventBusName": runtime.resources.event_bus,
    }
    events = runtime.client("events")
    stepfunctions = runtime.client("stepfunctions")
    # Named after the tenant and its request id: another tenant's "life-twice" is another.
    name = execution_name("acme", Workflow.LIFECYCLE, "life-twice")
    execution_arn = (
        runtime.state_machine_arn("Lifecycle").replace(":stateMachine:", ":execution:") + f":{name}"
    )

    events.put_events(Entries=[entry])
    first = wait_for_execution(stepfunctions, _started(runtime, execution_arn), timeout_seconds=300)
    events.put_events(Entries=[entry])
    # The function the rule invokes, handed the same event again, starts nothing either.
    answer = runtime.client("lambda").invoke(
        FunctionName=runtime.resources.functions["StartLifecycle"],
        Payload=json.dumps({"source": CLIENT_EVENT_SOURCE, "detail": request}),
    )
    assert json.loads(answer["Payload"].read()) == {
        "execution_arn": execution_arn,
        "started": False,
    }

    assert first.status == "SUCCEEDED", first.cause
    listed = stepfunctions.list_executions(stateMachineArn=runtime.state_machine_arn("Lifecycle"))
    assert [e["name"] for e in listed["executions"]].count(name) == 1
    assert list(children(runtime, name)) == [f"{name}-package", f"{name}-deploy"]
    assert runtime.events.failed_deliveries == []
    torn_down = run(runtime, "Teardown", {"tenant_id": "acme", "endpoint_name": "chat-life-twice"})
    assert torn_down.status == "SUCCEEDED", torn_down.cause


def _started(runtime: LocalRuntime, execution_arn: str, timeout_seconds: float = 30) -> str:
    """Wait until the rule's target has started ``execution_arn``; return it."""
    stepfunctions = runtime.client("stepfunctions")
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            stepfunctions.describe_execution(executionArn=execution_arn)
        except stepfunctions.exceptions.ExecutionDoesNotExist:
            time.sleep(0.2)
            continue
        return execution_arn
    raise AssertionError(f"{execution_arn} was not started")


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"kind": "local", "path": "/etc"}, "package.source.kind: 'local' sources are not"),
        (
            {"kind": "s3", "uri": "s3://maas-artifacts-bucket-123456789012/globex/m/"},
            "package.source.uri: in s3://maas-artifacts-bucket-123456789012/ only the tenant's",
        ),
    ],
)
def test_an_event_may_not_package_a_host_folder_or_another_tenants_files(
    runtime: LocalRuntime, tiny_model: Path, source: dict[str, Any], field: str
) -> None:
    request = lifecycle_request(tiny_model, "life-refused")
    request["package"]["source"] = source
    answer = runtime.client("lambda").invoke(
        FunctionName=runtime.resources.functions["StartLifecycle"],
        Payload=json.dumps({"source": CLIENT_EVENT_SOURCE, "detail": request}),
    )
    error = json.loads(answer["Payload"].read())
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Maas.ValidationError"
    assert error["errorMessage"].startswith(field)
    listed = runtime.client("stepfunctions").list_executions(
        stateMachineArn=runtime.state_machine_arn("Lifecycle")
    )["executions"]
    assert execution_name("acme", Workflow.LIFECYCLE, "life-refused") not in [
        e["name"] for e in listed
    ]
