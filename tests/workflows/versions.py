"""Registered model versions on the local runtime, without running the packaging workflow.

A version is opened and registered in the model registry as ``package_model`` would leave
it, with the serving-size advisor's real report for a ``config.json`` and a placeholder
artifact under its prefix, so a workflow that deploys it finds it whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maas.advisor import ServingRequest, advise
from maas.registry import ModelRegistry
from schemas import PackagingRequest
from schemas.packaging import ApprovalStatus
from tests.factories import package_manifest, packaging_request
from tests.fixtures.models import TINY_LLAMA_CONFIG

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime
    from schemas import ModelVersionRecord

#: A 70B Llama: too big for one 24 GiB GPU even at 4 bits.
LLAMA_70B_CONFIG: dict[str, Any] = {
    **TINY_LLAMA_CONFIG,
    "hidden_size": 8192,
    "intermediate_size": 28672,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
}


def register_version(
    runtime: LocalRuntime,
    model_name: str,
    *,
    config: dict[str, Any] = TINY_LLAMA_CONFIG,
    approval_status: ApprovalStatus = ApprovalStatus.APPROVED,
    tenant_id: str = "acme",
) -> ModelVersionRecord:
    """Register the next version of ``tenant_id``'s ``model_name``, sized for ``config``."""
    registry = ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    request = PackagingRequest.model_validate(
        packaging_request(model_name=model_name, tenant_id=tenant_id)
    )
    count = len(registry.list_versions(request.tenant_id, model_name))
    opened = registry.open_version(
        request,
        model_name=model_name,
        correlation_id=f"register-{model_name}-{count + 1}",
        execution_arn=None,
        artifacts_bucket=runtime.resources.buckets["ArtifactsBucket"],
    )
    report = advise(config, ServingRequest())
    bucket, _, prefix = opened.artifact_uri.removeprefix("s3://").partition("/")
    runtime.client("s3").put_object(
        Bucket=bucket, Key=f"{prefix}serving.properties", Body=b"engine=Python\n"
    )
    return registry.mark_registered(
        package_manifest(
            opened,
            instance_type=report.recommendation.instance_type,
            advisor_report=report.model_dump(mode="json"),
        ),
        model_package_arn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/"
        f"{tenant_id}-{model_name}/{opened.version}",
        approval_status=approval_status,
    )


def register_served_version(
    runtime: LocalRuntime, model_name: str, model_dir: Path, *, tenant_id: str = "acme"
) -> ModelVersionRecord:
    """Register the next version of ``tenant_id``'s ``model_name`` with the files of
    ``model_dir`` (a real model the local inference server loads) under its artifact prefix."""
    version = register_version(runtime, model_name, tenant_id=tenant_id)
    bucket, _, prefix = version.artifact_uri.removeprefix("s3://").partition("/")
    s3 = runtime.client("s3")
    for path in sorted(model_dir.iterdir()):
        s3.put_object(Bucket=bucket, Key=f"{prefix}{path.name}", Body=path.read_bytes())
    return version
