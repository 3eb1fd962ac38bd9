"""The package_model steps: registration is idempotent and checks S3; failure leaves nothing
but a finished package whose registration failed; a source is the tenant's own."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.exceptions import Conflict, IntegrityError, ValidationError
from maas.registry import ModelPackages, ModelRegistry, model_package_group_name
from maas.registry.packaging_steps import (
    PackagingPlan,
    StepFailure,
    check_source,
    delete_prefix,
    fail_registration,
    fail_version,
    plan_packaging,
    register_version,
)
from schemas import PackagingRequest
from schemas.packaging import (
    MANIFEST_FILE,
    ApprovalStatus,
    HuggingFaceSource,
    S3Source,
    VersionStatus,
)
from tests.factories import ARTIFACTS_BUCKET, package_manifest, packaging_request


@pytest.fixture
def world(aws: None) -> dict[str, Any]:
    dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    dynamodb.create_table(**table_arguments("models"))
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    return {
        "registry": ModelRegistry("models", dynamodb),
        "packages": ModelPackages(boto3.client("sagemaker")),
        "s3": s3,
    }


def plan(world: dict[str, Any], correlation_id: str = "run-1") -> PackagingPlan:
    return plan_packaging(
        PackagingRequest.model_validate(packaging_request()),
        world["registry"],
        correlation_id=correlation_id,
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )


def upload_package(world: dict[str, Any], plan: PackagingPlan, *, lose: str | None = None) -> None:
    """What the packaging job leaves: its files, then the manifest listing them."""
    prefix = f"acme/smollm2/{plan.version}/"
    files = {"config.json": b"{}", "model.safetensors": b"x" * 100}
    for name, body in files.items():
        if name != lose:
            world["s3"].put_object(Bucket=ARTIFACTS_BUCKET, Key=prefix + name, Body=body)
    record = world["registry"].get("acme", "smollm2", plan.version)
    listed = [{"path": name, "size": len(body), "sha256": "0" * 64} for name, body in files.items()]
    manifest = package_manifest(record, files=listed, total_bytes=102)
    world["s3"].put_object(
        Bucket=ARTIFACTS_BUCKET, Key=prefix + MANIFEST_FILE, Body=manifest.model_dump_json()
    )


def test_the_plan_hands_the_job_its_version_through_the_environment(
    world: dict[str, Any],
) -> None:
    packaging = plan(world)
    [variable] = packaging.container_overrides["Environment"]
    assert variable["Name"] == "MAAS_PACKAGING_JOB"
    job = json.loads(variable["Value"])
    assert (job["version"], job["artifact_uri"]) == (1, f"s3://{ARTIFACTS_BUCKET}/acme/smollm2/1/")
    assert packaging.job_name == "package-acme-smollm2-1"


def test_registration_creates_the_group_and_one_package(world: dict[str, Any]) -> None:
    packaging = plan(world)
    upload_package(world, packaging)
    record = register_version(packaging, world["registry"], world["packages"], world["s3"])
    sagemaker = boto3.client("sagemaker")
    described = sagemaker.describe_model_package(ModelPackageName=record.model_package_arn)
    assert described["ModelPackageGroupName"] == model_package_group_name("acme", "smollm2")
    assert described["ModelApprovalStatus"] == "Approved"
    container = described["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == record.artifact_uri
    assert record.status is VersionStatus.REGISTERED


def test_a_retried_registration_finds_its_package(world: dict[str, Any]) -> None:
    packaging = plan(world)
    upload_package(world, packaging)
    manifest = package_manifest(world["registry"].get("acme", "smollm2", 1))
    first = world["packages"].register(
        manifest, approval_status=ApprovalStatus.APPROVED, description="v1"
    )
    again = world["packages"].register(
        manifest, approval_status=ApprovalStatus.APPROVED, description="v1"
    )
    assert first == again
    group = model_package_group_name("acme", "smollm2")
    listed = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=group)
    assert len(listed["ModelPackageSummaryList"]) == 1


def test_a_package_missing_a_listed_file_is_not_registered(world: dict[str, Any]) -> None:
    packaging = plan(world)
    upload_package(world, packaging, lose="model.safetensors")
    with pytest.raises(IntegrityError, match=r"model\.safetensors: the manifest lists 100 bytes"):
        register_version(packaging, world["registry"], world["packages"], world["s3"])


def test_a_package_without_a_manifest_is_not_registered(world: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError, match="wrote no manifest"):
        register_version(plan(world), world["registry"], world["packages"], world["s3"])


def test_a_failed_version_leaves_nothing_in_s3(world: dict[str, Any]) -> None:
    packaging = plan(world)
    upload_package(world, packaging)
    batch_cause = json.dumps(
        {"JobId": "j-1", "Status": "FAILED", "StatusReason": "OOM", "Container": {"ExitCode": 137}}
    )
    record, deleted = fail_version(
        packaging,
        StepFailure(Error="States.TaskFailed", Cause=batch_cause),
        world["registry"],
        world["s3"],
        correlation_id="run-1",
    )
    assert deleted == 3
    listed = world["s3"].list_objects_v2(Bucket=ARTIFACTS_BUCKET, Prefix="acme/")
    assert listed["KeyCount"] == 0
    assert (record.status, record.error, record.cause) == (
        VersionStatus.FAILED,
        "Maas.PackagingFailed",
        "States.TaskFailed: Batch job j-1 FAILED: OOM (exit code 137)",
    )


@pytest.mark.parametrize("prefix", ["", "acme/", "acme/smollm2/", "acme/smollm2/latest/"])
def test_only_a_version_prefix_is_ever_deleted(world: dict[str, Any], prefix: str) -> None:
    with pytest.raises(ValueError, match="not a version prefix"):
        delete_prefix(world["s3"], ARTIFACTS_BUCKET, prefix)


def test_a_failed_registration_keeps_the_package_and_can_be_retried(
    world: dict[str, Any],
) -> None:
    packaging = plan(world)
    upload_package(world, packaging)
    record = fail_registration(
        packaging,
        StepFailure(Error="Maas.Conflict", Cause="SageMaker said no"),
        world["registry"],
    )
    assert (record.status, record.error) == (VersionStatus.REGISTRATION_FAILED, "Maas.Conflict")
    assert record.approval_status is ApprovalStatus.APPROVED
    listed = world["s3"].list_objects_v2(Bucket=ARTIFACTS_BUCKET, Prefix="acme/smollm2/1/")
    assert listed["KeyCount"] == 3
    registered = register_version(packaging, world["registry"], world["packages"], world["s3"])
    assert registered.status is VersionStatus.REGISTERED
    assert (registered.error, registered.cause) == (None, None)


def test_a_registered_version_cannot_be_marked_registration_failed(
    world: dict[str, Any],
) -> None:
    packaging = plan(world)
    upload_package(world, packaging)
    register_version(packaging, world["registry"], world["packages"], world["s3"])
    with pytest.raises(Conflict, match="REGISTERED"):
        fail_registration(packaging, StepFailure(Error="Maas.Conflict"), world["registry"])


def other_tenants_package(world: dict[str, Any]) -> str:
    """What tenant acme-x packaged: its files in its own prefix."""
    uri = f"s3://{ARTIFACTS_BUCKET}/acme-x/weights/"
    world["s3"].put_object(Bucket=ARTIFACTS_BUCKET, Key="acme-x/weights/w.safetensors", Body=b"w")
    return uri


@pytest.mark.parametrize(
    "uri",
    [
        f"s3://{ARTIFACTS_BUCKET}/acme-x/weights/",
        f"s3://{ARTIFACTS_BUCKET}/acme-x/weights/w.gguf",
        f"s3://{ARTIFACTS_BUCKET}/acmeweights/",
        f"s3://{ARTIFACTS_BUCKET}/acme/../acme-x/weights/",
        f"s3://{ARTIFACTS_BUCKET}/",
        f"s3://{ARTIFACTS_BUCKET}",
    ],
)
def test_a_source_outside_the_tenants_prefix_opens_no_version(
    world: dict[str, Any], uri: str
) -> None:
    other_tenants_package(world)
    request = packaging_request(source={"kind": "s3", "uri": uri})
    with pytest.raises(ValidationError, match=r"^source\.uri: .*only the tenant's own files"):
        plan_packaging(
            PackagingRequest.model_validate(request),
            world["registry"],
            correlation_id="run-1",
            execution_arn=None,
            artifacts_bucket=ARTIFACTS_BUCKET,
        )
    assert world["registry"].tenant_versions("acme") == []
    kept = world["s3"].get_object(Bucket=ARTIFACTS_BUCKET, Key="acme-x/weights/w.safetensors")
    assert kept["Body"].read() == b"w"


@pytest.mark.parametrize(
    "uri", [f"s3://{ARTIFACTS_BUCKET}/acme/uploads/m/", "s3://acme-own-bucket/globex/m/"]
)
def test_the_tenants_own_prefix_and_other_buckets_may_be_packaged(
    world: dict[str, Any], uri: str
) -> None:
    check_source(S3Source(uri=uri), "acme", ARTIFACTS_BUCKET)


def test_another_tenants_token_secret_opens_no_version(world: dict[str, Any]) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maas/acme-x/hf-AbCdEf"
    request = packaging_request(
        source={"kind": "huggingface", "model_id": "acme/model", "token_secret_arn": arn}
    )
    with pytest.raises(ValidationError, match=r"^source\.token_secret_arn: .*maas/acme/"):
        plan_packaging(
            PackagingRequest.model_validate(request),
            world["registry"],
            correlation_id="run-1",
            execution_arn=None,
            artifacts_bucket=ARTIFACTS_BUCKET,
        )
    assert world["registry"].tenant_versions("acme") == []


def test_the_tenants_own_token_secret_is_accepted() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maas/acme/hf-AbCdEf"
    source = HuggingFaceSource(model_id="acme/model", token_secret_arn=arn)
    check_source(source, "acme", ARTIFACTS_BUCKET)
