"""The reconciler: records that drifted are repaired, orphans reported or deleted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto.sagemaker.models import sagemaker_backends

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.reconcile import Reconciler
from maas.endpoints.records import table_arguments
from schemas import DeploymentRequest, EndpointStatus
from tests.factories import ARTIFACTS_BUCKET, IMAGE_URI, deployment_request

NOW = timedelta(0)


@pytest.fixture
def world(aws: None) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments("endpoints"))
    return {
        "registry": EndpointRegistry("endpoints", dynamodb),
        "sagemaker": boto3.client("sagemaker"),
    }


def deployed(world: dict[str, Any], name: str, *, tenant: str = "acme", create: bool = True) -> Any:
    """A deployment recorded IN_SERVICE, with its SageMaker resources when ``create``."""
    request = DeploymentRequest.model_validate(
        deployment_request(endpoint_name=name, tenant_id=tenant)
        | {
            "model": {
                "model_id": "org/m",
                "version": "1",
                "image_uri": IMAGE_URI,
                "model_data_url": f"s3://{ARTIFACTS_BUCKET}/{tenant}/m/1/",
            }
        }
    )
    plan = plan_deployment(
        request,
        correlation_id=f"deploy-{name}",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=1,
    )
    registry: EndpointRegistry = world["registry"]
    registry.begin_deployment(plan)
    if create:
        create_resources(world, plan.model_name, plan.sagemaker_endpoint_name, plan.tags)
    registry.mark_in_service(
        tenant, name, correlation_id=plan.correlation_id, endpoint_arn=f"arn:endpoint/{name}"
    )
    return plan


def create_resources(
    world: dict[str, Any], model_name: str, endpoint_name: str, tags: list[dict[str, str]]
) -> None:
    sagemaker = world["sagemaker"]
    sagemaker.create_model(
        ModelName=model_name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
        PrimaryContainer={"Image": IMAGE_URI},
        Tags=tags,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=model_name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        Tags=tags,
    )
    sagemaker.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=model_name, Tags=tags)


def reconcile(world: dict[str, Any], **options: Any) -> list[Any]:
    reconciler = Reconciler(world["registry"], world["sagemaker"], grace=options.pop("grace", NOW))
    return reconciler.run(correlation_id="reconcile-1", **options)


def test_an_account_that_matches_its_registry_has_no_findings(world: dict[str, Any]) -> None:
    deployed(world, "chat")
    assert reconcile(world) == []


def test_a_record_whose_endpoint_was_deleted_elsewhere_is_marked_failed(
    world: dict[str, Any],
) -> None:
    plan = deployed(world, "chat")
    world["sagemaker"].delete_endpoint(EndpointName=plan.sagemaker_endpoint_name)
    [drift, *orphans] = reconcile(world)
    assert (drift.kind, drift.action, drift.resource) == (
        "drifted_record",
        "repaired",
        "record/acme/chat",
    )
    record = world["registry"].get("acme", "chat")
    assert record.status is EndpointStatus.FAILED
    assert "deleted outside the platform" in (record.failure_reason or "")
    assert record.correlation_id == "reconcile-1"
    # What the endpoint left behind is no longer claimed by a live record.
    assert {finding.resource for finding in orphans} == {
        f"endpoint-config/{plan.endpoint_config_name}",
        f"model/{plan.model_name}",
    }


def test_a_record_whose_endpoint_failed_after_coming_into_service_is_marked_failed(
    world: dict[str, Any],
) -> None:
    plan = deployed(world, "chat")
    endpoint = sagemaker_backends["123456789012"]["us-east-1"].endpoints[
        plan.sagemaker_endpoint_name
    ]
    endpoint.endpoint_status = "Failed"
    endpoint.failure_reason = "the instance became unhealthy"
    findings = reconcile(world)
    assert findings[0].kind == "drifted_record"
    record = world["registry"].get("acme", "chat")
    assert record.failure_reason == (
        "SageMaker reports the endpoint Failed: the instance became unhealthy"
    )


def test_tagged_resources_no_record_claims_are_reported_not_deleted(
    world: dict[str, Any],
) -> None:
    tags = [{"Key": "maas:tenant", "Value": "acme"}]
    create_resources(world, "stray-model", "stray", tags)
    findings = reconcile(world)
    assert {(f.resource, f.action, f.tenant_id) for f in findings} == {
        ("endpoint/stray", "reported", "acme"),
        ("endpoint-config/stray-model", "reported", "acme"),
        ("model/stray-model", "reported", "acme"),
    }
    assert world["sagemaker"].list_endpoints()["Endpoints"] != []


def test_orphans_are_deleted_when_asked(world: dict[str, Any]) -> None:
    create_resources(world, "stray-model", "stray", [{"Key": "maas:tenant", "Value": "acme"}])
    plan = deployed(world, "chat")
    findings = reconcile(world, delete_orphans=True)
    assert {f.action for f in findings} == {"deleted"}
    endpoints = world["sagemaker"].list_endpoints()["Endpoints"]
    assert [e["EndpointName"] for e in endpoints] == [plan.sagemaker_endpoint_name]


def test_resources_without_the_products_tags_are_not_its_business(world: dict[str, Any]) -> None:
    create_resources(world, "theirs", "theirs", [{"Key": "team", "Value": "search"}])
    assert reconcile(world, delete_orphans=True) == []
    assert len(world["sagemaker"].list_endpoints()["Endpoints"]) == 1


def test_young_resources_are_left_to_the_workflow_creating_them(world: dict[str, Any]) -> None:
    create_resources(world, "new-model", "new", [{"Key": "maas:tenant", "Value": "acme"}])
    assert reconcile(world, grace=timedelta(hours=1)) == []


def test_a_record_stuck_in_flight_is_reported(world: dict[str, Any]) -> None:
    # A teardown took the record and died: what it left is for a person (or a new teardown).
    deployed(world, "stuck")
    world["registry"].begin_teardown("acme", "stuck", correlation_id="teardown-stuck")
    [finding] = reconcile(world)
    assert (finding.kind, finding.action) == ("stuck_record", "reported")
    assert "owned by execution teardown-stuck" in finding.detail
    assert world["registry"].get("acme", "stuck").status is EndpointStatus.DELETING


def test_a_stopped_endpoint_is_neither_drifted_nor_its_configuration_orphaned(
    world: dict[str, Any],
) -> None:
    plan = deployed(world, "chat")
    registry: EndpointRegistry = world["registry"]
    registry.begin_stop("acme", "chat", correlation_id="stop-1")
    world["sagemaker"].delete_endpoint(EndpointName=plan.sagemaker_endpoint_name)
    registry.mark_stopped("acme", "chat", correlation_id="stop-1")
    assert reconcile(world, delete_orphans=True) == []
    assert registry.get("acme", "chat").status is EndpointStatus.STOPPED
    sagemaker = world["sagemaker"]
    assert sagemaker.describe_endpoint_config(EndpointConfigName=plan.endpoint_config_name)
    assert sagemaker.describe_model(ModelName=plan.model_name)


def begun(world: dict[str, Any], name: str, *, create: bool) -> Any:
    """A deployment whose execution died after recording CREATING (and, when ``create``,
    after SageMaker created its resources): its status writes never came."""
    request = DeploymentRequest.model_validate(deployment_request(endpoint_name=name))
    plan = plan_deployment(
        request,
        correlation_id=f"deploy-{name}",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=1,
    )
    world["registry"].begin_deployment(plan)
    if create:
        create_resources(world, plan.model_name, plan.sagemaker_endpoint_name, plan.tags)
    return plan


def test_a_record_left_creating_is_settled_in_service_when_sagemaker_serves_it(
    world: dict[str, Any],
) -> None:
    begun(world, "lost-write", create=True)
    [finding] = reconcile(world)
    assert (finding.kind, finding.action) == ("stuck_record", "repaired")
    record = world["registry"].get("acme", "lost-write")
    assert record.status is EndpointStatus.IN_SERVICE
    assert record.failure_reason is None
    # In service again, it claims its endpoint, configuration and model: no orphan.
    assert reconcile(world) == []


def test_a_record_left_creating_without_an_endpoint_is_settled_failed(
    world: dict[str, Any],
) -> None:
    begun(world, "died", create=False)
    [finding] = reconcile(world)
    assert (finding.kind, finding.action) == ("stuck_record", "repaired")
    record = world["registry"].get("acme", "died")
    assert record.status is EndpointStatus.FAILED
    assert "ended without recording its outcome" in (record.failure_reason or "")


def test_what_a_failed_deployment_left_behind_is_deleted_without_being_asked(
    world: dict[str, Any],
) -> None:
    # The clean-up failed: the record says FAILED, the endpoint the deployment made lives on.
    plan = begun(world, "half-cleaned", create=True)
    world["registry"].mark_failed(
        "acme", "half-cleaned", correlation_id=plan.correlation_id, reason="Maas.EndpointFailed"
    )
    findings = reconcile(world)
    assert {(f.resource, f.action) for f in findings} == {
        (f"endpoint/{plan.sagemaker_endpoint_name}", "deleted"),
        (f"endpoint-config/{plan.endpoint_config_name}", "deleted"),
        (f"model/{plan.model_name}", "deleted"),
    }
    assert world["sagemaker"].list_endpoints()["Endpoints"] == []
    assert world["registry"].get("acme", "half-cleaned").status is EndpointStatus.FAILED


def test_another_deployments_resources_are_not_a_failed_records_leftovers(
    world: dict[str, Any],
) -> None:
    failed = begun(world, "retried", create=False)
    world["registry"].mark_failed(
        "acme", "retried", correlation_id=failed.correlation_id, reason="Maas.EndpointFailed"
    )
    tags = [{"Key": "maas:tenant", "Value": "acme"}, {"Key": "maas:correlation-id", "Value": "x"}]
    create_resources(world, "someone-elses", "someone-elses", tags)
    findings = reconcile(world)
    assert {f.action for f in findings} == {"reported"}
    assert len(world["sagemaker"].list_endpoints()["Endpoints"]) == 1
