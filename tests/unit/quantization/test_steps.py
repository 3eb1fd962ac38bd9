"""The quantize_model workflow's plan: a REGISTERED, unquantized version of the tenant's opens
the model's next version, made from its package, with its lineage; anything else is refused
before a version is opened, another tenant's version exactly as a missing one."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.exceptions import Conflict, NotFound, ValidationError
from maas.quantization import plan_quantization
from maas.registry import ModelRegistry
from schemas import PackagingRequest
from schemas.packaging import ApprovalStatus, S3Source, VersionStatus
from schemas.quantization import QuantizationRequest, QuantizationSettings
from tests.factories import ARTIFACTS_BUCKET, package_manifest, packaging_request


@pytest.fixture
def registry(aws: None) -> ModelRegistry:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments("models"))
    return ModelRegistry("models", dynamodb)


def registered(registry: ModelRegistry, **serving: Any) -> int:
    """Version 1 of acme's smollm2, REGISTERED as package_model leaves it."""
    request = PackagingRequest.model_validate(packaging_request(serving=serving))
    opened = registry.open_version(
        request,
        model_name="smollm2",
        correlation_id="package-1",
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    registry.mark_registered(
        package_manifest(opened),
        model_package_arn="arn:package/1",
        approval_status=ApprovalStatus.APPROVED,
    )
    return opened.version


def quantization(tenant_id: str = "acme", version: int = 1, **fields: Any) -> QuantizationRequest:
    return QuantizationRequest.model_validate(
        {"tenant_id": tenant_id, "model_name": "smollm2", "version": version, **fields}
    )


def plan(registry: ModelRegistry, request: QuantizationRequest, run: str = "quantize-1") -> Any:
    return plan_quantization(
        request,
        registry,
        correlation_id=run,
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )


def test_the_next_version_is_made_from_the_parents_package_with_its_lineage(
    registry: ModelRegistry,
) -> None:
    parent = registry.get("acme", "smollm2", registered(registry, context_tokens=8192))
    opened = plan(registry, quantization(settings={"scheme": "W4A16", "group_size": 128}))
    record = registry.get("acme", "smollm2", opened.version)
    assert (opened.version, record.status) == (2, VersionStatus.PACKAGING)
    assert record.source == S3Source(uri=parent.artifact_uri)
    assert record.serving == parent.serving
    assert record.lineage is not None
    assert record.lineage.parent_version == 1
    assert record.lineage.settings == QuantizationSettings(scheme="W4A16", group_size=128)
    assert record.lineage.measurements is None
    # The job is told what to make, and the job's name says which version it makes.
    assert opened.job.lineage == record.lineage
    assert opened.job_name == "package-acme-smollm2-2"


def test_the_new_version_may_be_sized_for_other_serving_preferences(
    registry: ModelRegistry,
) -> None:
    registered(registry)
    opened = plan(registry, quantization(serving={"context_tokens": 2048}))
    assert opened.job.serving.context_tokens == 2048


def test_a_retried_plan_opens_no_second_version(registry: ModelRegistry) -> None:
    registered(registry)
    first, again = plan(registry, quantization()), plan(registry, quantization())
    assert first.version == again.version == 2
    assert len(registry.list_versions("acme", "smollm2")) == 2


def test_another_tenants_version_is_not_found_as_a_missing_one(registry: ModelRegistry) -> None:
    registered(registry)
    with pytest.raises(NotFound) as stolen:
        plan(registry, quantization(tenant_id="globex"))
    with pytest.raises(NotFound) as missing:
        plan(registry, quantization(tenant_id="globex", version=7))
    assert stolen.value.message == missing.value.message.replace("7", "1")
    assert registry.list_versions("globex", "smollm2") == []


def test_a_version_still_packaging_is_a_conflict(registry: ModelRegistry) -> None:
    registry.open_version(
        PackagingRequest.model_validate(packaging_request()),
        model_name="smollm2",
        correlation_id="package-1",
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    with pytest.raises(Conflict, match="is PACKAGING; only a REGISTERED version"):
        plan(registry, quantization())
    assert len(registry.list_versions("acme", "smollm2")) == 1


def test_a_quantized_version_is_not_quantized_again(registry: ModelRegistry) -> None:
    registered(registry)
    opened = plan(registry, quantization())
    record = registry.get("acme", "smollm2", opened.version)
    registry.mark_registered(
        package_manifest(record, lineage=record.lineage),
        model_package_arn="arn:package/2",
        approval_status=ApprovalStatus.APPROVED,
    )
    with pytest.raises(ValidationError, match="already a W8A16 quantization of version 1"):
        plan(registry, quantization(version=2), run="quantize-2")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"scheme": "W8A16", "group_size": 64}, "group_size applies to W4A16 only"),
        ({"scheme": "W4A16", "group_size": 100}, "Input should be 32, 64 or 128"),
        ({"scheme": "INT3"}, "Input should be 'W8A16', 'W4A16' or 'FP8_DYNAMIC'"),
    ],
)
def test_settings_that_do_not_apply_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        quantization(settings=settings)
