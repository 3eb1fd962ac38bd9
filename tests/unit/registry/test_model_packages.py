"""Model package groups: one per tenant's model, never shared by two tenants."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import boto3
import pytest

from maas.registry import ModelPackages, model_package_group_name
from schemas.common import SAGEMAKER_NAME_MAX_LENGTH, SAGEMAKER_NAME_PATTERN
from schemas.packaging import ApprovalStatus, ModelVersionRecord, VersionStatus
from tests.factories import ARTIFACTS_BUCKET, package_manifest


def opened_version(tenant: str, model: str, correlation_id: str) -> ModelVersionRecord:
    """The tenant's version 1 of ``model``, as the workflow opens it."""
    now = datetime.now(UTC).isoformat()
    return ModelVersionRecord.model_validate(
        {
            "tenant_id": tenant,
            "model_name": model,
            "version": 1,
            "status": VersionStatus.PACKAGING,
            "source": {"kind": "s3", "uri": f"s3://{ARTIFACTS_BUCKET}/{tenant}/up/{model}/"},
            "serving": {},
            "correlation_id": correlation_id,
            "artifact_uri": f"s3://{ARTIFACTS_BUCKET}/{tenant}/{model}/1/",
            "created_at": now,
            "updated_at": now,
        }
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [(("acme", "x-y"), ("acme-x", "y")), (("a", "b-c-d"), ("a-b-c", "d"))],
)
def test_two_tenants_never_share_a_group(first: tuple[str, str], second: tuple[str, str]) -> None:
    assert f"{first[0]}-{first[1]}" == f"{second[0]}-{second[1]}"
    assert model_package_group_name(*first) != model_package_group_name(*second)


@pytest.mark.parametrize(
    ("tenant", "model"),
    [("acme", "m"), ("t" * 32, "m" * 48), ("a", "x" * 48), ("t-" * 15 + "t", "m-" * 23 + "m")],
)
def test_a_group_name_is_valid_for_sagemaker(tenant: str, model: str) -> None:
    name = model_package_group_name(tenant, model)
    assert len(name) <= SAGEMAKER_NAME_MAX_LENGTH
    assert re.fullmatch(SAGEMAKER_NAME_PATTERN, name), name


def test_the_second_tenant_registers_in_its_own_group(aws: None) -> None:
    """acme-x's model ``y`` does not land among acme's versions of ``x-y``."""
    packages = ModelPackages(boto3.client("sagemaker"))
    first = packages.register(
        package_manifest(opened_version("acme", "x-y", "run-a")),
        approval_status=ApprovalStatus.APPROVED,
        description="acme's",
    )
    second = packages.register(
        package_manifest(opened_version("acme-x", "y", "run-b")),
        approval_status=ApprovalStatus.APPROVED,
        description="acme-x's",
    )
    sagemaker = boto3.client("sagemaker")
    for tenant, model, arn in (("acme", "x-y", first), ("acme-x", "y", second)):
        group = model_package_group_name(tenant, model)
        listed = sagemaker.list_model_packages(ModelPackageGroupName=group)
        assert [item["ModelPackageArn"] for item in listed["ModelPackageSummaryList"]] == [arn]
    kept = sagemaker.describe_model_package(ModelPackageName=first)
    assert kept["ModelPackageDescription"] == "acme's"
    assert kept["ModelApprovalStatus"] == "Approved"
