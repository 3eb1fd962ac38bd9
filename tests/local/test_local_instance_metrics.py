"""A served endpoint's live figures on the local runtime, read as on AWS; ``maas endpoints top``.

One endpoint serves the tiny model for the whole module; the runtime reports its figures
every 0.2 s instead of SageMaker's 10 s, so each check waits a moment, not minutes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from maas.cli.main import app
from maas.endpoints import EndpointRegistry, plan_deployment
from maas.local import LocalSettings
from maas.local.instancemetrics import NO_GPU, gpu_utilization
from maas.naming import sagemaker_endpoint_name
from maas.observability import EndpointMetricsReader
from schemas import DeploymentRequest
from tests.factories import ARTIFACTS_BUCKET, deployment_request
from tests.local.support import unique, wait_until

# A fixture shared with the serving tests, made visible here by importing it.

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime
    from maas.observability import VariantSnapshot

TENANT = "acme"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"


@pytest.fixture(scope="module")
def settings() -> LocalSettings:
    """Endpoints that serve their model and report their figures five times a second."""
    return LocalSettings(
        endpoint_create_seconds=0.3,
        endpoint_delete_seconds=0.2,
        model_server_startup_seconds=120,
        instance_metrics_seconds=0.2,
    )


@pytest.fixture(scope="module")
def registry(runtime: LocalRuntime) -> EndpointRegistry:
    return EndpointRegistry(runtime.resources.tables["EndpointsTable"], runtime.client("dynamodb"))


@pytest.fixture(scope="module")
def endpoint(
    runtime: LocalRuntime,
    registry: EndpointRegistry,
    tiny_model_dir: Path,
) -> str:
    """An InService endpoint serving the tiny model, recorded for the tenant ``acme``."""
    name = unique("chat")
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    s3 = runtime.client("s3")
    for path in sorted(tiny_model_dir.iterdir()):
        s3.put_object(Bucket=bucket, Key=f"{TENANT}/{name}/1/{path.name}", Body=path.read_bytes())
    sagemaker = runtime.client("sagemaker")
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": IMAGE,
            "ModelDataSource": {
                "S3DataSource": {
                    "S3Uri": f"s3://{bucket}/{TENANT}/{name}/1/",
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            },
        },
        ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.g5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName=sagemaker_endpoint_name(TENANT, name), EndpointConfigName=name
    )

    def settled() -> str | None:
        described = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name(TENANT, name))
        status = str(described["EndpointStatus"])
        return None if status == "Creating" else status

    status = wait_until(settled, timeout=120, interval=0.1)
    assert status == "InService"
    plan = plan_deployment(
        DeploymentRequest.model_validate(deployment_request(endpoint_name=name)),
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    registry.begin_deployment(plan)
    registry.mark_in_service(TENANT, name, correlation_id="deploy-1", endpoint_arn="arn:endpoint")
    return name


@pytest.fixture(scope="module")
def reader(runtime: LocalRuntime, registry: EndpointRegistry) -> EndpointMetricsReader:
    """The same reader as on AWS, on the runtime's clients."""
    return EndpointMetricsReader(
        registry, runtime.client("sagemaker"), runtime.client("cloudwatch")
    )


def variant_once(
    reader: EndpointMetricsReader, endpoint: str, ready: Any, timeout: float = 20
) -> VariantSnapshot:
    """The endpoint's variant, read until ``ready(variant)`` holds."""

    def probe() -> VariantSnapshot | None:
        [variant] = reader.read(TENANT, endpoint).variants
        return variant if ready(variant) else None

    return wait_until(probe, timeout=timeout, interval=0.2)  # type: ignore[no-any-return]


def invoke(runtime: LocalRuntime, endpoint: str) -> None:
    runtime.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=sagemaker_endpoint_name(TENANT, endpoint),
        Body=json.dumps({"inputs": "Hello", "parameters": {"max_new_tokens": 8}}),
        ContentType="application/json",
    )


def test_a_request_in_flight_is_reported_as_concurrent_requests_per_model(
    runtime: LocalRuntime, endpoint: str, reader: EndpointMetricsReader
) -> None:
    invoke(runtime, endpoint)

    # moto reads datapoints up to the last whole second: wait for the invocation's too.
    variant = variant_once(
        reader,
        endpoint,
        lambda v: v.value("Invocations") and v.value("ConcurrentRequestsPerModel"),
    )
    # The request was shorter than the reporting interval: the peak, not the moment, counts.
    assert variant.value("ConcurrentRequestsPerModel") == 1
    assert variant.value("Invocations") == 1
    assert (variant.desired_instance_count, variant.current_instance_count) == (1, 1)


def test_the_servers_cpu_memory_and_disk_are_reported_as_instance_metrics(
    runtime: LocalRuntime, endpoint: str, reader: EndpointMetricsReader
) -> None:
    invoke(runtime, endpoint)  # generating keeps the server's CPU busy for a moment

    variant = variant_once(
        reader, endpoint, lambda v: (v.value("CPUUtilization", "Maximum") or 0) > 0
    )
    # A process with torch and a model loaded holds some of the host's memory.
    assert 0 < (variant.value("MemoryUtilization") or 0) < 100
    assert 0 < (variant.value("DiskUtilization") or 0) <= 100


def test_gpu_figures_are_reported_only_where_a_gpu_exists(
    endpoint: str, reader: EndpointMetricsReader, log_messages: Any
) -> None:
    variant = variant_once(reader, endpoint, lambda v: v.value("MemoryUtilization") is not None)

    if gpu_utilization() is None:
        assert variant.value("GPUUtilization") is None
        assert variant.value("GPUMemoryUtilization") is None
        lines = log_messages(
            f"/aws/sagemaker/Endpoints/{sagemaker_endpoint_name(TENANT, endpoint)}"
        )
        assert lines.count(NO_GPU) == 1
    else:
        assert variant.value("GPUUtilization") is not None
        assert variant.value("GPUMemoryUtilization") is not None


# maas endpoints top


def test_top_once_as_json_prints_one_snapshot_of_the_tenants_endpoints(
    runtime: LocalRuntime, endpoint: str, reader: EndpointMetricsReader
) -> None:
    variant_once(reader, endpoint, lambda v: v.value("MemoryUtilization") is not None)

    result = CliRunner().invoke(
        app,
        ["endpoints", "top", "--tenant", TENANT, "--once", "--json"],
        env={"ENDPOINTS_TABLE_NAME": runtime.resources.tables["EndpointsTable"]},
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [snapshot] = [each for each in document["endpoints"] if each["endpoint_name"] == endpoint]
    assert (snapshot["tenant_id"], snapshot["status"]) == (TENANT, "InService")
    [variant] = snapshot["variants"]
    assert (variant["desired_instance_count"], variant["current_instance_count"]) == (1, 1)
    memory = [r for r in variant["readings"] if r["metric"] == "MemoryUtilization"]
    assert memory[0]["namespace"] == "/aws/sagemaker/Endpoints"
    assert memory[0]["value"] > 0


def test_top_once_shows_a_table_with_no_gpu_as_not_available(
    runtime: LocalRuntime, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI's console was sized when it was imported; a wide one keeps each row on a line.
    monkeypatch.setattr("maas.cli.main.console", Console(width=250))
    result = CliRunner().invoke(
        app,
        ["endpoints", "top", "--tenant", TENANT, "--endpoint", endpoint, "--once"],
        env={"ENDPOINTS_TABLE_NAME": runtime.resources.tables["EndpointsTable"]},
    )

    assert result.exit_code == 0, result.output
    [row] = [line for line in result.stdout.splitlines() if endpoint in line]
    assert "InService" in row
    assert "1/1" in row
    if gpu_utilization() is None:
        assert row.rstrip().endswith("n/a")


def test_top_for_an_endpoint_the_tenant_does_not_have_is_not_found(
    runtime: LocalRuntime, endpoint: str
) -> None:
    result = CliRunner().invoke(
        app,
        ["endpoints", "top", "--tenant", "globex", "--endpoint", endpoint, "--once", "--json"],
        env={"ENDPOINTS_TABLE_NAME": runtime.resources.tables["EndpointsTable"]},
    )

    assert result.exit_code == 1
    assert result.exception is not None
    assert getattr(result.exception, "error_name", None) == "Maas.NotFound"
