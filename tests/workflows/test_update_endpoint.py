"""update_endpoint on the local runtime: a new version or instance type, blue/green, rolled back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from maas.endpoints import EndpointRegistry
from maas.endpoints.update import ROLLBACK_ALARM_PREFIX
from maas.naming import sagemaker_endpoint_name
from schemas import EndpointUpdated, EndpointUpdateFailed
from schemas.packaging import ApprovalStatus
from tests.factories import deployment_request
from tests.workflows.conftest import published, record, run, upload_artifact
from tests.workflows.versions import LLAMA_70B_CONFIG, register_version

if TYPE_CHECKING:
    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


def update(runtime: LocalRuntime, endpoint_name: str, **changes: Any) -> ExecutionSnapshot:
    """Run update_endpoint on one of tenant acme's endpoints."""
    return run(
        runtime,
        "UpdateEndpoint",
        {"tenant_id": "acme", "endpoint_name": endpoint_name, **changes},
    )


def deploy_version(runtime: LocalRuntime, endpoint_name: str, model_name: str) -> None:
    """Deploy version 1 of ``model_name`` (registered first) on ``endpoint_name``."""
    register_version(runtime, model_name)
    request = deployment_request(
        endpoint_name=endpoint_name, model={"model_name": model_name, "version": 1}
    )
    snapshot = run(runtime, "DeployEndpoint", request)
    assert snapshot.status == "SUCCEEDED", snapshot.cause


def deploy_explicit(runtime: LocalRuntime, endpoint_name: str, **overrides: Any) -> None:
    """Deploy the factory's explicit model (no registry version) on ``endpoint_name``."""
    request = deployment_request(endpoint_name=endpoint_name, **overrides)
    upload_artifact(runtime, request)
    snapshot = run(runtime, "DeployEndpoint", request)
    assert snapshot.status == "SUCCEEDED", snapshot.cause


def exists(call: Any, **name: str) -> bool:
    """Whether a SageMaker Describe* call finds the named resource."""
    try:
        call(**name)
    except ClientError as error:
        assert "Could not find" in error.response["Error"]["Message"]
        return False
    return True


def rollback_alarms(runtime: LocalRuntime) -> list[str]:
    """Names of the rollback alarms updates created and have not deleted."""
    alarms = runtime.client("cloudwatch").describe_alarms(AlarmNamePrefix=ROLLBACK_ALARM_PREFIX)
    return [alarm["AlarmName"] for alarm in alarms["MetricAlarms"]]


def hosting_resources(runtime: LocalRuntime) -> tuple[list[str], list[str]]:
    """Every SageMaker model and endpoint configuration of the account, by name."""
    sagemaker = runtime.client("sagemaker")
    models = [model["ModelName"] for model in sagemaker.list_models()["Models"]]
    configs = [
        config["EndpointConfigName"]
        for config in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    ]
    return sorted(models), sorted(configs)


def test_a_new_version_is_served_and_the_old_configuration_and_model_are_gone(
    runtime: LocalRuntime,
) -> None:
    deploy_version(runtime, "upgrade", "upgrade-model")
    sagemaker = runtime.client("sagemaker")
    before = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name("acme", "upgrade"))
    old_config = before["EndpointConfigName"]
    old_model = sagemaker.describe_endpoint_config(EndpointConfigName=old_config)[
        "ProductionVariants"
    ][0]["ModelName"]
    version_2 = register_version(runtime, "upgrade-model")

    snapshot = update(runtime, "upgrade", model={"model_name": "upgrade-model", "version": 2})

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    path = snapshot.path
    assert path.index("Create error alarm") < path.index("Update endpoint")
    assert path.index("Create latency alarm") < path.index("Update endpoint")
    assert "Wait for endpoint" in path
    assert "Deregister scalable target" not in path
    endpoint = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name("acme", "upgrade"))
    new_config = endpoint["EndpointConfigName"]
    assert new_config != old_config
    [variant] = sagemaker.describe_endpoint_config(EndpointConfigName=new_config)[
        "ProductionVariants"
    ]
    container = sagemaker.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == version_2.artifact_uri
    assert variant["InstanceType"] == "ml.g5.xlarge"
    assert not exists(sagemaker.describe_endpoint_config, EndpointConfigName=old_config)
    assert not exists(sagemaker.describe_model, ModelName=old_model)
    assert rollback_alarms(runtime) == []
    item = record(runtime, "acme", "upgrade")
    assert item is not None
    assert (item["status"]["S"], item["endpoint_config_name"]["S"]) == ("IN_SERVICE", new_config)
    assert item["model"]["M"]["version"]["S"] == "2"
    assert item["model_name"]["S"] == variant["ModelName"]
    assert item["correlation_id"]["S"] == snapshot.name
    [event] = published(runtime, "EndpointUpdated", "upgrade")
    detail = EndpointUpdated.model_validate(event["detail"])
    assert (detail.previous_model_version, detail.model_version) == ("1", "2")
    assert (detail.previous_endpoint_config_name, detail.endpoint_config_name) == (
        old_config,
        new_config,
    )
    assert detail.traffic_routing == "ALL_AT_ONCE"
    assert published(runtime, "EndpointUpdateFailed", "upgrade") == []


def test_an_instance_type_change_moves_autoscaling_aside_and_back(runtime: LocalRuntime) -> None:
    deploy_explicit(runtime, "wider", autoscaling={"min_capacity": 1, "max_capacity": 3})

    snapshot = update(
        runtime,
        "wider",
        instance_type="ml.g6e.xlarge",
        deployment={"traffic_routing": "CANARY", "canary_percent": 25, "wait_interval_seconds": 0},
    )

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    path = snapshot.path
    assert path.index("Deregister scalable target") < path.index("Update endpoint")
    assert path.index("Update endpoint") < path.index("Register scalable target")
    targets = runtime.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker",
        ResourceIds=[f"endpoint/{sagemaker_endpoint_name('acme', 'wider')}/variant/AllTraffic"],
    )["ScalableTargets"]
    assert [(target["MinCapacity"], target["MaxCapacity"]) for target in targets] == [(1, 3)]
    sagemaker = runtime.client("sagemaker")
    config = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name("acme", "wider"))[
        "EndpointConfigName"
    ]
    [variant] = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    assert variant["InstanceType"] == "ml.g6e.xlarge"
    item = record(runtime, "acme", "wider")
    assert item is not None
    assert (item["instance_type"]["S"], item["endpoint_config_name"]["S"]) == (
        "ml.g6e.xlarge",
        config,
    )
    [event] = published(runtime, "EndpointUpdated", "wider")
    detail = EndpointUpdated.model_validate(event["detail"])
    assert (detail.previous_instance_type, detail.instance_type) == (
        "ml.g5.xlarge",
        "ml.g6e.xlarge",
    )
    assert detail.traffic_routing == "CANARY"


def test_a_rollback_alarm_in_alarm_rolls_the_update_back_and_nothing_new_is_left(
    runtime: LocalRuntime,
) -> None:
    deploy_version(runtime, "guarded", "guarded-model")
    register_version(runtime, "guarded-model")
    sagemaker, cloudwatch = runtime.client("sagemaker"), runtime.client("cloudwatch")
    old_config = sagemaker.describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "guarded")
    )["EndpointConfigName"]
    resources_before = hosting_resources(runtime)
    cloudwatch.put_metric_alarm(
        AlarmName="guarded-client-errors",
        Namespace="AWS/SageMaker",
        MetricName="Invocation4XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": "guarded"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        # No data breaches: an alarm evaluator keeps it in ALARM, as set below.
        TreatMissingData="breaching",
    )
    cloudwatch.set_alarm_state(
        AlarmName="guarded-client-errors", StateValue="ALARM", StateReason="clients fail"
    )

    snapshot = update(
        runtime,
        "guarded",
        model={"model_name": "guarded-model", "version": 2},
        rollback={"alarm_names": ["guarded-client-errors"]},
    )

    assert (snapshot.status, snapshot.error) == ("FAILED", "Maas.EndpointFailed")
    assert f"rolled back to {old_config}: " in (snapshot.cause or "")
    assert "guarded-client-errors" in (snapshot.cause or "")
    endpoint = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name("acme", "guarded"))
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", old_config)
    assert hosting_resources(runtime) == resources_before
    assert rollback_alarms(runtime) == []
    item = record(runtime, "acme", "guarded")
    assert item is not None
    assert (item["status"]["S"], item["endpoint_config_name"]["S"]) == ("IN_SERVICE", old_config)
    assert item["model"]["M"]["version"]["S"] == "1"
    assert item["failure_reason"]["S"].startswith("Maas.EndpointFailed: ")
    [event] = published(runtime, "EndpointUpdateFailed", "guarded")
    detail = EndpointUpdateFailed.model_validate(event["detail"])
    assert (detail.operation, detail.error) == ("update", "Maas.EndpointFailed")
    assert published(runtime, "EndpointUpdated", "guarded") == []
    cloudwatch.delete_alarms(AlarmNames=["guarded-client-errors"])


@pytest.fixture(scope="module")
def settled(runtime: LocalRuntime) -> None:
    """An endpoint serving version 1 of a registered model, one that is busy, and versions
    that cannot be served on it: one pending approval, one too big for its instance type."""
    deploy_version(runtime, "settled", "settled-model")
    register_version(runtime, "settled-model", approval_status=ApprovalStatus.PENDING)
    register_version(runtime, "settled-model", config=LLAMA_70B_CONFIG)
    deploy_explicit(runtime, "busy")
    EndpointRegistry(
        runtime.resources.tables["EndpointsTable"], runtime.client("dynamodb")
    ).begin_update("acme", "busy", correlation_id="another-update")


@pytest.mark.parametrize(
    ("endpoint_name", "changes", "expected"),
    [
        (
            "nowhere",
            {"instance_type": "ml.g6.xlarge"},
            ("Maas.NotFound", "endpoint_name: no endpoint 'nowhere' for this tenant"),
        ),
        (
            "busy",
            {"instance_type": "ml.g6.xlarge"},
            (
                "Maas.Conflict",
                "endpoint_name: endpoint 'busy' is UPDATING; only an endpoint in service can "
                "be updated",
            ),
        ),
        (
            "settled",
            {"model": {"model_name": "settled-model", "version": 2}},
            (
                "Maas.Conflict",
                "model.version: version 2 of model 'settled-model' is PendingManualApproval; "
                "only Approved versions deploy",
            ),
        ),
        (
            "settled",
            {"model": {"model_name": "settled-model", "version": 3}},
            (
                "Maas.NoInstanceFits",
                "instance_type: version 3 of model 'settled-model' does not fit: none of "
                "ml.g5.xlarge can serve",
            ),
        ),
        (
            "settled",
            {"instance_type": "ml.m5.xlarge"},
            (
                "Maas.ValidationError",
                "instance_type: version 1 of model 'settled-model': instance_types: "
                "ml.m5.xlarge is not a GPU instance type the advisor sizes",
            ),
        ),
        (
            "settled",
            {"model": {"model_name": "settled-model", "version": 1}},
            (
                "Maas.ValidationError",
                "nothing to change: endpoint 'settled' already serves version 1 of "
                "'settled-model' on ml.g5.xlarge",
            ),
        ),
        (
            "settled",
            {"deployment": {"traffic_routing": "ALL_AT_ONCE"}},
            ("Maas.ValidationError", "nothing to change: give model, instance_type or both"),
        ),
    ],
    ids=[
        "missing-endpoint",
        "not-in-service",
        "version-not-approved",
        "model-does-not-fit",
        "not-a-gpu-instance",
        "same-model-same-type",
        "no-change-asked",
    ],
)
@pytest.mark.usefixtures("settled")
def test_bad_input_is_rejected_before_anything_changes(
    runtime: LocalRuntime,
    endpoint_name: str,
    changes: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    before = record(runtime, "acme", endpoint_name)
    resources_before = hosting_resources(runtime)
    snapshot = update(runtime, endpoint_name, **changes)
    assert (snapshot.status, snapshot.error) == ("FAILED", expected[0])
    assert expected[1] in (snapshot.cause or "")
    assert snapshot.path == [
        "Act for the tenant",
        "Validate and plan update",
        "Explain the rejection",
        "Request rejected",
    ]
    assert record(runtime, "acme", endpoint_name) == before
    assert hosting_resources(runtime) == resources_before
    assert rollback_alarms(runtime) == []
