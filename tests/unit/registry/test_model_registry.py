"""Model versions: numbers only increase, records only move forward, one owner closes them."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from maas.endpoints.plan import resolve_model
from maas.endpoints.records import table_arguments
from maas.exceptions import Conflict, NotFound
from maas.registry import ModelRegistry
from schemas import DeploymentRequest, PackagingRequest
from schemas.packaging import ApprovalStatus, VersionProgress, VersionStatus
from tests.factories import ARTIFACTS_BUCKET, IMAGE_URI, package_manifest, packaging_request


@pytest.fixture
def registry(aws: None) -> ModelRegistry:
    client = boto3.client("dynamodb")
    client.create_table(**table_arguments("models"))
    return ModelRegistry("models", client)


def open_version(registry: ModelRegistry, correlation_id: str, **overrides: Any) -> Any:
    request = PackagingRequest.model_validate(packaging_request(**overrides))
    return registry.open_version(
        request,
        model_name=request.model_name or "smollm2",
        correlation_id=correlation_id,
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )


def test_versions_are_numbered_one_up_per_model_and_tenant(registry: ModelRegistry) -> None:
    first = open_version(registry, "run-1")
    second = open_version(registry, "run-2")
    other_model = open_version(registry, "run-3", model_name="glm-4")
    other_tenant = open_version(registry, "run-4", tenant_id="globex")
    assert (first.version, second.version, other_model.version, other_tenant.version) == (
        1,
        2,
        1,
        1,
    )
    assert second.artifact_uri == f"s3://{ARTIFACTS_BUCKET}/acme/smollm2/2/"
    assert second.status is VersionStatus.PACKAGING


def test_a_retried_open_returns_the_same_version(registry: ModelRegistry) -> None:
    assert open_version(registry, "run-1").version == open_version(registry, "run-1").version
    assert [record.version for record in registry.list_versions("acme", "smollm2")] == [1]


def test_another_tenant_cannot_read_a_version(registry: ModelRegistry) -> None:
    open_version(registry, "run-1")
    with pytest.raises(NotFound, match="no version 1 of model 'smollm2' for this tenant"):
        registry.get("globex", "smollm2", 1)


def test_registration_records_what_the_package_holds(registry: ModelRegistry) -> None:
    record = open_version(registry, "run-1")
    registry.record_progress("acme", "smollm2", 1, VersionProgress(stage="uploading"))
    registered = registry.mark_registered(
        package_manifest(record, resolved_revision="abc123"),
        model_package_arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/acme-smollm2/1",
        approval_status=ApprovalStatus.APPROVED,
    )
    stored = registry.get("acme", "smollm2", 1)
    assert stored == registered
    assert stored.status is VersionStatus.REGISTERED
    assert (stored.instance_type, stored.resolved_revision, stored.progress) == (
        "ml.g6.xlarge",
        "abc123",
        None,
    )


def test_a_registered_version_is_immutable(registry: ModelRegistry) -> None:
    record = open_version(registry, "run-1")
    registry.mark_registered(
        package_manifest(record), model_package_arn="arn", approval_status=ApprovalStatus.APPROVED
    )
    registry.record_progress("acme", "smollm2", 1, VersionProgress(stage="late"))
    assert registry.get("acme", "smollm2", 1).progress is None
    with pytest.raises(Conflict, match="immutable"):
        registry.mark_failed(
            "acme", "smollm2", 1, correlation_id="run-1", error="Maas.X", cause="late"
        )


def test_only_the_opening_execution_closes_a_version(registry: ModelRegistry) -> None:
    record = open_version(registry, "run-1")
    with pytest.raises(Conflict, match="belongs to execution 'run-1', not 'run-2'"):
        registry.mark_registered(
            package_manifest(record, correlation_id="run-2"),
            model_package_arn="arn",
            approval_status=ApprovalStatus.APPROVED,
        )


def test_a_failure_keeps_the_jobs_own_reason(registry: ModelRegistry) -> None:
    open_version(registry, "run-1")
    registry.record_job_failure(
        "acme", "smollm2", 1, error="Maas.SourceNotFound", cause="no model org/nope"
    )
    failed = registry.mark_failed(
        "acme",
        "smollm2",
        1,
        correlation_id="run-1",
        error="States.TaskFailed",
        cause="Batch job 1 FAILED",
    )
    assert (failed.status, failed.error, failed.cause) == (
        VersionStatus.FAILED,
        "Maas.SourceNotFound",
        "no model org/nope",
    )


def test_a_failure_without_a_job_report_keeps_the_workflows(registry: ModelRegistry) -> None:
    open_version(registry, "run-1")
    failed = registry.mark_failed(
        "acme", "smollm2", 1, correlation_id="run-1", error="States.Timeout", cause="took 6 h"
    )
    assert (failed.error, failed.cause) == ("States.Timeout", "took 6 h")


def registered(registry: ModelRegistry, approval: ApprovalStatus) -> None:
    record = open_version(registry, "run-1")
    registry.mark_registered(
        package_manifest(record), model_package_arn="arn", approval_status=approval
    )


def registered_request(version: int = 1, **overrides: Any) -> DeploymentRequest:
    return DeploymentRequest.model_validate(
        {
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "model": {"model_name": "smollm2", "version": version},
        }
        | overrides
    )


def test_a_registered_approved_version_resolves_to_its_package(registry: ModelRegistry) -> None:
    registered(registry, ApprovalStatus.APPROVED)
    resolved = resolve_model(registered_request(), registry)
    assert resolved.instance_type == "ml.g6.xlarge"
    assert resolved.model.model_dump() == {
        "model_id": "smollm2",
        "version": "1",
        "image_uri": IMAGE_URI,
        "model_data_url": f"s3://{ARTIFACTS_BUCKET}/acme/smollm2/1/",
        "environment": {},
        # The package's weight bytes, from its advisor report (package_manifest's is 1).
        "model_data_bytes": 1,
    }


def test_the_request_may_choose_another_instance_type(registry: ModelRegistry) -> None:
    registered(registry, ApprovalStatus.APPROVED)
    resolved = resolve_model(registered_request(instance_type="ml.g5.2xlarge"), registry)
    assert resolved.instance_type == "ml.g5.2xlarge"


def test_an_unapproved_version_does_not_deploy(registry: ModelRegistry) -> None:
    registered(registry, ApprovalStatus.PENDING)
    with pytest.raises(Conflict, match=r"is PendingManualApproval; only Approved versions deploy$"):
        resolve_model(registered_request(), registry)


def test_a_version_still_packaging_does_not_deploy(registry: ModelRegistry) -> None:
    open_version(registry, "run-1")
    with pytest.raises(Conflict, match="is PACKAGING, not REGISTERED"):
        resolve_model(registered_request(), registry)


def test_an_unknown_version_is_not_found(registry: ModelRegistry) -> None:
    registered(registry, ApprovalStatus.APPROVED)
    with pytest.raises(NotFound, match="no version 7"):
        resolve_model(registered_request(version=7), registry)
