"""Quantizing a registered version into a new one: the request.

A :class:`QuantizationRequest` starts the ``quantize_model`` workflow on a REGISTERED
version of the tenant's. The workflow opens the model's next version with its
:class:`~schemas.lineage.VersionLineage` (parent version, technique, settings); the
packaging job quantizes the parent's package (weight-only, with compressed-tensors),
measures the size and the perplexity of both on a bundled text, and the registered version
carries the measurements.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from schemas.common import REQUEST_CONFIG, ModelName, TenantId
from schemas.lineage import (
    GroupSize,
    QuantizationMeasurements,
    QuantizationSchemeName,
    QuantizationSettings,
    VersionLineage,
)
from schemas.packaging import ServingPreferences


class QuantizationOptions(BaseModel):
    """A quantization request's body: the settings and the new version's registration."""

    model_config = REQUEST_CONFIG

    settings: QuantizationSettings = Field(default_factory=QuantizationSettings)
    serving: ServingPreferences | None = Field(
        default=None,
        description="What the new version is sized for; by default the parent's preferences.",
    )
    approval_status: Literal["Approved", "PendingManualApproval"] = "PendingManualApproval"
    description: str | None = Field(default=None, max_length=1024)


class QuantizationRequest(QuantizationOptions):
    """Quantize a registered version of the tenant's into the model's next version."""

    tenant_id: TenantId
    model_name: ModelName
    version: int = Field(ge=1, description="The parent: a REGISTERED version of the model.")


__all__ = [
    "GroupSize",
    "QuantizationMeasurements",
    "QuantizationOptions",
    "QuantizationRequest",
    "QuantizationSchemeName",
    "QuantizationSettings",
    "VersionLineage",
]
