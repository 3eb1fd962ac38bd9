"""Batch's job state changes annotate the version being packaged; the workflow owns its status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.registry import ModelRegistry
from schemas import PackagingRequest
from schemas.aws_events import BatchJobStateChange
from schemas.packaging import ApprovalStatus, PackagingJob, VersionStatus
from tests.factories import ARTIFACTS_BUCKET, package_manifest, packaging_request

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def registry(aws: None) -> ModelRegistry:
    client = boto3.client("dynamodb")
    client.create_table(**table_arguments("models"))
    return ModelRegistry("models", client)


def opened(registry: ModelRegistry, correlation_id: str = "run-1") -> PackagingJob:
    """The job of a version opened by ``correlation_id``, as the packaging job is handed it."""
    request = PackagingRequest.model_validate(packaging_request())
    record = registry.open_version(
        request,
        model_name="smollm2",
        correlation_id=correlation_id,
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    return PackagingJob(
        tenant_id=record.tenant_id,
        model_name=record.model_name,
        version=record.version,
        correlation_id=correlation_id,
        source=record.source,
        serving=record.serving,
        artifact_uri=record.artifact_uri,
    )


def job_change(status: str, *, attempts: int = 0, **detail: Any) -> BatchJobStateChange:
    return BatchJobStateChange.model_validate(
        {
            "jobName": "package-acme-smollm2-1",
            "jobId": "4c7599ae",
            "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/packager",
            "status": status,
            "attempts": [{"container": {}}] * attempts,
            **detail,
        }
    )


def test_a_user_sees_the_job_waiting_for_capacity(registry: ModelRegistry) -> None:
    job = opened(registry)
    reason = "waiting for capacity"
    kept = registry.observe_packaging_job(
        job, job_change("RUNNABLE", statusReason=reason).observation(NOW)
    )
    record = registry.get("acme", "smollm2", 1)
    assert kept == record.packaging_job
    assert record.packaging_job is not None
    assert (record.packaging_job.status, record.packaging_job.reason) == ("RUNNABLE", reason)
    assert record.status is VersionStatus.PACKAGING


def test_an_older_or_repeated_report_changes_nothing(registry: ModelRegistry) -> None:
    job = opened(registry)
    registry.observe_packaging_job(job, job_change("RUNNING", attempts=1).observation(NOW))
    assert registry.observe_packaging_job(job, job_change("RUNNABLE").observation(NOW)) is None
    running_again = job_change("RUNNING", attempts=1).observation(NOW)
    assert registry.observe_packaging_job(job, running_again) is None
    record = registry.get("acme", "smollm2", 1)
    assert record.packaging_job is not None
    assert record.packaging_job.status == "RUNNING"


def test_a_retried_attempt_is_newer_than_the_failed_one(registry: ModelRegistry) -> None:
    job = opened(registry)
    registry.observe_packaging_job(job, job_change("RUNNING", attempts=1).observation(NOW))
    retry = job_change("RUNNABLE", attempts=2).observation(NOW)
    assert registry.observe_packaging_job(job, retry) == retry


def test_a_failed_job_s_exit_code_is_in_the_reason(registry: ModelRegistry) -> None:
    job = opened(registry)
    failed = job_change(
        "FAILED",
        attempts=1,
        statusReason="Essential container in task exited",
        container={"exitCode": 3},
    )
    registry.observe_packaging_job(job, failed.observation(NOW))
    record = registry.get("acme", "smollm2", 1)
    assert record.packaging_job is not None
    assert record.packaging_job.reason == "Essential container in task exited (exit code 3)"
    assert record.status is VersionStatus.PACKAGING  # the workflow fails it, not the event


def test_a_job_of_another_execution_does_not_annotate_the_version(
    registry: ModelRegistry,
) -> None:
    job = opened(registry)
    stranger = job.model_copy(update={"correlation_id": "run-9"})
    assert registry.observe_packaging_job(stranger, job_change("RUNNING").observation(NOW)) is None
    assert registry.get("acme", "smollm2", 1).packaging_job is None


def test_a_registered_version_is_not_annotated_any_more(registry: ModelRegistry) -> None:
    job = opened(registry)
    registry.mark_registered(
        package_manifest(registry.get("acme", "smollm2", 1)),
        model_package_arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/acme-smollm2/1",
        approval_status=ApprovalStatus.APPROVED,
    )
    late = job_change("SUCCEEDED", attempts=1).observation(NOW)
    assert registry.observe_packaging_job(job, late) is None
    assert registry.get("acme", "smollm2", 1).status is VersionStatus.REGISTERED
