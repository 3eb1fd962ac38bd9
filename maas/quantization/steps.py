"""The ``quantize_model`` workflow's own step: open the quantized version of a parent.

Registering the version and failing it cleanly are the packaging workflow's steps
(:mod:`maas.registry.packaging_steps`): a quantized version is a package like any other, whose
source is its parent's package and whose record carries its lineage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.exceptions import Conflict, ValidationError
from maas.registry.packaging_steps import plan_packaging
from schemas.packaging import ApprovalStatus, PackagingRequest, S3Source, VersionStatus
from schemas.quantization import VersionLineage

if TYPE_CHECKING:
    from maas.registry.packaging_steps import PackagingPlan
    from maas.registry.versions import ModelRegistry
    from schemas.packaging import ModelVersionRecord
    from schemas.quantization import QuantizationRequest


#: What quantizes (:mod:`maas.quantization.quantize`), as the lineage names it.
LIBRARY = "compressed-tensors"


def check_parent(request: QuantizationRequest, registry: ModelRegistry) -> ModelVersionRecord:
    """The parent version the request names, if it can be quantized.

    Raises
    ------
    NotFound
        No such version for this tenant (another tenant's is the same as a missing one).
    Conflict
        The parent is not REGISTERED (still packaging, or failed).
    ValidationError
        The parent was itself made by a quantization: quantizing twice compounds the loss.
    """
    parent = registry.get(request.tenant_id, request.model_name, request.version)
    if parent.status is not VersionStatus.REGISTERED:
        raise Conflict(
            f"version: version {parent.version} of {parent.model_name!r} is "
            f"{parent.status.value}; only a {VersionStatus.REGISTERED.value} version can be "
            "quantized"
        )
    if parent.lineage is not None:
        raise ValidationError(
            f"version: version {parent.version} of {parent.model_name!r} is already a "
            f"{parent.lineage.settings.scheme} quantization of version "
            f"{parent.lineage.parent_version}; quantize that one instead"
        )
    return parent


def plan_quantization(
    request: QuantizationRequest,
    registry: ModelRegistry,
    *,
    correlation_id: str,
    execution_arn: str | None,
    artifacts_bucket: str,
) -> PackagingPlan:
    """Check the parent (:func:`check_parent`) and open the model's next version, made from
    the parent's package."""
    parent = check_parent(request, registry)
    settings = request.settings
    packaging = PackagingRequest(
        tenant_id=request.tenant_id,
        model_name=request.model_name,
        source=S3Source(uri=parent.artifact_uri),
        serving=request.serving or parent.serving,
        approval_status=ApprovalStatus(request.approval_status),
        description=request.description
        or f"{request.model_name} version {parent.version} quantized ({settings.scheme})",
    )
    # The job records the library's version with its measurements.
    lineage = VersionLineage(parent_version=parent.version, library=LIBRARY, settings=settings)
    return plan_packaging(
        packaging,
        registry,
        correlation_id=correlation_id,
        execution_arn=execution_arn,
        artifacts_bucket=artifacts_bucket,
        lineage=lineage,
    )


__all__ = ["LIBRARY", "check_parent", "plan_quantization"]
