"""An endpoint's live figures: the catalogue of SageMaker's metrics and the reader, on moto."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from rich.console import Console
from typer.testing import CliRunner

from maas.cli.main import app
from maas.cli.top import run_top
from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.records import table_arguments
from maas.exceptions import NotFound, ValidationError
from maas.local.cloudwatch import answer_percentiles
from maas.naming import sagemaker_endpoint_name
from maas.observability import (
    ENDPOINT_METRICS,
    INSTANCE_NAMESPACE,
    INVOCATION_NAMESPACE,
    EndpointMetricsReader,
    MetricScope,
    endpoint_metric,
)
from schemas import DeploymentRequest, EndpointStatus
from tests.factories import ARTIFACTS_BUCKET, deployment_request

if TYPE_CHECKING:
    from collections.abc import Iterator

    from click.testing import Result

    from maas.observability import EndpointSnapshot

TABLE = "endpoints"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
DIMENSIONS = [
    {"Name": "EndpointName", "Value": sagemaker_endpoint_name("acme", "chat")},
    {"Name": "VariantName", "Value": "AllTraffic"},
]


@pytest.fixture
def clients(aws: None) -> Iterator[dict[str, Any]]:
    """moto's DynamoDB, SageMaker and CloudWatch; CloudWatch answers percentiles as AWS does
    (moto alone answers none: the local runtime adds them, see maas.local.cloudwatch)."""
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments(TABLE))
    with answer_percentiles():
        yield {
            "dynamodb": dynamodb,
            "sagemaker": boto3.client("sagemaker"),
            "cloudwatch": boto3.client("cloudwatch"),
        }


@pytest.fixture
def registry(clients: dict[str, Any]) -> EndpointRegistry:
    return EndpointRegistry(TABLE, clients["dynamodb"])


@pytest.fixture
def reader(clients: dict[str, Any], registry: EndpointRegistry) -> EndpointMetricsReader:
    return EndpointMetricsReader(registry, clients["sagemaker"], clients["cloudwatch"])


def recorded(registry: EndpointRegistry, tenant_id: str = "acme", name: str = "chat") -> None:
    """A record in service for ``tenant_id``'s endpoint ``name``, as a deployment leaves it."""
    plan = plan_deployment(
        DeploymentRequest.model_validate(
            deployment_request(
                tenant_id=tenant_id,
                endpoint_name=name,
                model={
                    **deployment_request()["model"],
                    "model_data_url": f"s3://{ARTIFACTS_BUCKET}/{tenant_id}/smollm2/1/",
                },
            )
        ),
        correlation_id=f"deploy-{name}",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    registry.begin_deployment(plan)
    registry.mark_in_service(
        tenant_id, name, correlation_id=f"deploy-{name}", endpoint_arn="arn:endpoint"
    )


def served(clients: dict[str, Any], *, instances: int = 2) -> None:
    """SageMaker's endpoint of acme's ``chat``, with ``instances`` instances (moto: InService
    at once)."""
    sagemaker = clients["sagemaker"]
    sagemaker.create_model(
        ModelName="chat", PrimaryContainer={"Image": "lmi"}, ExecutionRoleArn=ROLE
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="chat",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "chat",
                "InstanceType": "ml.g4dn.xlarge",
                "InitialInstanceCount": instances,
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "chat"), EndpointConfigName="chat"
    )


def put(
    clients: dict[str, Any],
    namespace: str,
    name: str,
    values: list[float],
    *,
    ago: timedelta = timedelta(seconds=5),
    unit: str = "None",
) -> None:
    clients["cloudwatch"].put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Unit": unit,
                "Dimensions": DIMENSIONS,
                "Timestamp": datetime.now(UTC) - ago,
            }
            for value in values
        ],
    )


# The catalogue


def test_invocation_and_instance_metrics_are_in_sagemakers_two_namespaces() -> None:
    by_scope = {
        scope: sorted(name for name, metric in ENDPOINT_METRICS.items() if metric.scope is scope)
        for scope in MetricScope
    }

    assert INVOCATION_NAMESPACE == "AWS/SageMaker"
    assert INSTANCE_NAMESPACE == "/aws/sagemaker/Endpoints"
    assert by_scope == {
        MetricScope.INVOCATION: [
            "ConcurrentRequestsPerModel",
            "Invocation4XXErrors",
            "Invocation5XXErrors",
            "Invocations",
            "InvocationsPerInstance",
            "ModelLatency",
            "OverheadLatency",
        ],
        MetricScope.INSTANCE: [
            "CPUUtilization",
            "DiskUtilization",
            "GPUMemoryUtilization",
            "GPUUtilization",
            "MemoryUtilization",
        ],
    }


def test_counts_are_summed_latencies_averaged_in_microseconds_and_utilizations_in_percent() -> None:
    assert {name: m.statistics[0] for name, m in ENDPOINT_METRICS.items() if m.unit == "None"} == {
        "Invocations": "Sum",
        "InvocationsPerInstance": "Sum",
        "Invocation4XXErrors": "Sum",
        "Invocation5XXErrors": "Sum",
        "ConcurrentRequestsPerModel": "Maximum",
    }
    assert endpoint_metric("ModelLatency").unit == "Microseconds"
    assert endpoint_metric("ModelLatency").statistics == ("Average", "p50", "p99")
    assert endpoint_metric("OverheadLatency").unit == "Microseconds"
    assert {m.unit for m in ENDPOINT_METRICS.values() if m.scope is MetricScope.INSTANCE} == {
        "Percent"
    }


def test_an_unknown_metric_name_is_a_validation_error_listing_the_known_ones() -> None:
    with pytest.raises(ValidationError) as raised:
        endpoint_metric("GpuUtilization")

    assert raised.value.error_name == "Maas.ValidationError"
    assert raised.value.message == (
        "metrics: unknown endpoint metric 'GpuUtilization'; known: CPUUtilization, "
        "ConcurrentRequestsPerModel, DiskUtilization, GPUMemoryUtilization, GPUUtilization, "
        "Invocation4XXErrors, Invocation5XXErrors, Invocations, InvocationsPerInstance, "
        "MemoryUtilization, ModelLatency, OverheadLatency"
    )


# The reader


def test_a_snapshot_has_the_instances_the_status_and_the_latest_figures(
    clients: dict[str, Any], registry: EndpointRegistry, reader: EndpointMetricsReader
) -> None:
    recorded(registry)
    served(clients, instances=2)
    put(clients, INVOCATION_NAMESPACE, "Invocations", [1.0, 1.0, 1.0])
    put(clients, INVOCATION_NAMESPACE, "Invocation5XXErrors", [0.0, 1.0, 0.0])
    put(
        clients, INVOCATION_NAMESPACE, "ModelLatency", [1000.0, 2000.0, 6000.0], unit="Microseconds"
    )
    put(clients, INVOCATION_NAMESPACE, "ConcurrentRequestsPerModel", [2.0, 5.0])
    put(clients, INSTANCE_NAMESPACE, "CPUUtilization", [150.0, 250.0], unit="Percent")

    snapshot = reader.read("acme", "chat")

    assert (snapshot.tenant_id, snapshot.endpoint_name) == ("acme", "chat")
    assert (snapshot.status, snapshot.record_status) == ("InService", EndpointStatus.IN_SERVICE)
    [variant] = snapshot.variants
    assert variant.variant_name == "AllTraffic"
    assert variant.instance_type == "ml.g5.xlarge"  # the record's; DescribeEndpoint has none
    assert (variant.desired_instance_count, variant.current_instance_count) == (2, 2)
    assert variant.value("Invocations") == 3
    assert variant.value("Invocation5XXErrors") == 1
    assert variant.value("ModelLatency") == 3000
    assert variant.value("ModelLatency", "p50") == 2000
    assert variant.value("ConcurrentRequestsPerModel") == 5
    assert variant.value("CPUUtilization") == 200
    assert variant.value("CPUUtilization", "Maximum") == 250


def test_a_figure_nobody_reported_is_none_not_zero(
    clients: dict[str, Any], registry: EndpointRegistry, reader: EndpointMetricsReader
) -> None:
    recorded(registry)
    served(clients)

    [variant] = reader.read("acme", "chat").variants

    gpu = [reading for reading in variant.readings if reading.metric == "GPUUtilization"]
    assert [(reading.value, reading.timestamp) for reading in gpu] == [(None, None)] * 2
    assert variant.value("Invocations") is None


def test_only_the_latest_period_with_data_in_the_window_counts(
    clients: dict[str, Any], registry: EndpointRegistry, reader: EndpointMetricsReader
) -> None:
    recorded(registry)
    served(clients)
    put(clients, INVOCATION_NAMESPACE, "Invocations", [1.0] * 7, ago=timedelta(minutes=3))
    put(clients, INVOCATION_NAMESPACE, "Invocations", [1.0] * 2, ago=timedelta(seconds=10))
    put(clients, INVOCATION_NAMESPACE, "Invocation4XXErrors", [1.0], ago=timedelta(minutes=20))

    [variant] = reader.read("acme", "chat", window_seconds=600).variants

    assert variant.value("Invocations") == 2
    assert variant.value("Invocation4XXErrors") is None  # before the window


def test_only_the_metrics_asked_for_are_read(
    clients: dict[str, Any], registry: EndpointRegistry, reader: EndpointMetricsReader
) -> None:
    recorded(registry)
    served(clients)

    [variant] = reader.read("acme", "chat", metrics=["Invocations", "ModelLatency"]).variants

    assert [(r.metric, r.statistic) for r in variant.readings] == [
        ("Invocations", "Sum"),
        ("ModelLatency", "Average"),
        ("ModelLatency", "p50"),
        ("ModelLatency", "p99"),
    ]


def test_asking_for_an_unknown_metric_is_a_validation_error_before_anything_is_read(
    reader: EndpointMetricsReader,
) -> None:
    # No record exists: the metric names are judged first.
    with pytest.raises(ValidationError, match="unknown endpoint metric 'Latency'; known: CPU"):
        reader.read("acme", "chat", metrics=["Invocations", "Latency"])


@pytest.mark.parametrize(
    ("window", "period", "message"),
    [
        (300, 45, "period_seconds: 45 is not 1, 5, 10, 30 or a multiple of 60"),
        (30, 60, "window_seconds: 30 is shorter than one period (60)"),
    ],
)
def test_a_window_cloudwatch_cannot_answer_is_a_validation_error(
    reader: EndpointMetricsReader, window: int, period: int, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        reader.read("acme", "chat", window_seconds=window, period_seconds=period)

    assert raised.value.message == message


def test_another_tenants_endpoint_is_not_found(
    clients: dict[str, Any], registry: EndpointRegistry, reader: EndpointMetricsReader
) -> None:
    recorded(registry, tenant_id="acme")
    served(clients)

    with pytest.raises(NotFound) as raised:
        reader.read("globex", "chat")

    assert raised.value.error_name == "Maas.NotFound"
    assert raised.value.message == "endpoint_name: no endpoint 'chat' for this tenant"


def test_an_endpoint_sagemaker_no_longer_holds_has_no_status_and_no_instances(
    registry: EndpointRegistry, reader: EndpointMetricsReader
) -> None:
    recorded(registry)  # deleted outside the platform, or never created

    snapshot = reader.read("acme", "chat")

    assert snapshot.status is None
    assert snapshot.record_status is EndpointStatus.IN_SERVICE
    [variant] = snapshot.variants
    assert variant.variant_name == "AllTraffic"
    assert (variant.desired_instance_count, variant.current_instance_count) == (None, None)


def test_the_tenants_endpoints_are_listed_by_name_without_other_tenants_or_deleted_ones(
    registry: EndpointRegistry, reader: EndpointMetricsReader
) -> None:
    for tenant, name in (
        ("acme", "summarize"),
        ("acme", "chat"),
        ("acme", "retired"),
        ("globex", "search"),
    ):
        recorded(registry, tenant_id=tenant, name=name)
    registry.begin_teardown("acme", "retired", correlation_id="teardown-1")
    registry.mark_deleted("acme", "retired", correlation_id="teardown-1")

    assert reader.endpoint_names("acme") == ["chat", "summarize"]


# maas endpoints top, on moto


def top(*arguments: str) -> Result:
    return CliRunner().invoke(
        app, ["endpoints", "top", *arguments], env={"ENDPOINTS_TABLE_NAME": TABLE}
    )


def test_top_once_as_json_is_one_line_with_every_endpoint_of_the_tenant(
    clients: dict[str, Any], registry: EndpointRegistry
) -> None:
    recorded(registry)
    recorded(registry, tenant_id="globex", name="search")
    served(clients, instances=3)
    put(clients, INVOCATION_NAMESPACE, "Invocations", [1.0] * 4)

    result = top("--tenant", "acme", "--once", "--json")

    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    [snapshot] = json.loads(line)["endpoints"]
    assert (snapshot["endpoint_name"], snapshot["status"]) == ("chat", "InService")
    [variant] = snapshot["variants"]
    assert variant["current_instance_count"] == 3
    [invocations] = [r for r in variant["readings"] if r["metric"] == "Invocations"]
    assert (invocations["namespace"], invocations["statistic"]) == ("AWS/SageMaker", "Sum")
    assert invocations["value"] == 4


def test_top_once_for_a_tenant_without_endpoints_says_so(clients: dict[str, Any]) -> None:
    result = top("--tenant", "acme", "--once")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "tenant acme has no endpoints"


def test_top_refreshes_until_stopped(
    clients: dict[str, Any],
    registry: EndpointRegistry,
    reader: EndpointMetricsReader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded(registry)
    served(clients)
    stop = threading.Event()
    output = io.StringIO()
    console = Console(file=output, width=200)
    refreshes: list[int] = []
    real_read = reader.read

    def counting_read(*arguments: Any, **options: Any) -> EndpointSnapshot:
        refreshes.append(1)
        if len(refreshes) == 3:
            stop.set()
        return real_read(*arguments, **options)

    monkeypatch.setattr(reader, "read", counting_read)

    run_top(
        console,
        reader,
        tenant_id="acme",
        endpoint_name=None,
        interval_seconds=0.01,
        window_seconds=300,
        period_seconds=60,
        once=False,
        as_json=False,
        stop=stop,
    )

    assert len(refreshes) == 3
    assert "chat" in output.getvalue()  # the last table stays on screen
