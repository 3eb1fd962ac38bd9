"""Where a version came from when it was made from another: its :class:`VersionLineage`.

The ``quantize_model`` workflow (:mod:`schemas.quantization`) opens a version whose lineage
names the parent version, the technique and its settings; the packaging job quantizes the
parent's package, measures the size and the perplexity of both on a bundled text, and the
registered version carries the :class:`QuantizationMeasurements`.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from schemas.common import DOCUMENT_CONFIG, REQUEST_CONFIG

#: The schemes, as compressed-tensors (and vLLM, which loads them) name them: int8 or int4
#: weights with 16-bit activations, or FP8 weights with activations quantized per token.
QuantizationSchemeName = Literal["W8A16", "W4A16", "FP8_DYNAMIC"]

#: Group sizes of int4 weights that vLLM's kernels serve (one scale per group of inputs).
GroupSize = Literal[32, 64, 128]


class QuantizationSettings(BaseModel):
    """How to quantize: the scheme, and for int4 the group size.

    Examples
    --------
    >>> QuantizationSettings(scheme="W4A16").group_size
    64
    >>> QuantizationSettings(scheme="W8A16").group_size is None
    True
    """

    model_config = REQUEST_CONFIG

    scheme: QuantizationSchemeName = Field(
        default="W8A16",
        description="W8A16: int8 weights, one scale per output channel; W4A16: int4 weights, "
        "one scale per group of group_size inputs; FP8_DYNAMIC: FP8 weights per channel, "
        "activations quantized per token when served (GPUs with FP8: L4, L40S, H100).",
    )
    group_size: GroupSize | None = Field(
        default=None,
        description="W4A16 only: inputs per scale (default 64); the model's hidden and "
        "intermediate sizes must be multiples of it.",
    )

    @model_validator(mode="after")
    def _group_size_for_int4_only(self) -> Self:
        if self.scheme == "W4A16" and self.group_size is None:
            self.group_size = 64
        elif self.scheme != "W4A16" and self.group_size is not None:
            raise ValueError(f"group_size applies to W4A16 only, not to {self.scheme}")
        return self


class QuantizationMeasurements(BaseModel):
    """Size and quality of the parent and the quantized version, measured in one job."""

    model_config = DOCUMENT_CONFIG

    parent_weight_bytes: int = Field(ge=0, description="The parent's weight files, in bytes.")
    weight_bytes: int = Field(ge=0, description="The quantized weight files, in bytes.")
    size_ratio: float = Field(gt=0, description="weight_bytes / parent_weight_bytes.")
    text: str = Field(description="The bundled text the perplexities are measured on.")
    tokens: int = Field(gt=0, description="Tokens of the text scored.")
    parent_perplexity: float = Field(gt=0)
    perplexity: float = Field(gt=0)
    perplexity_change: float = Field(description="perplexity / parent_perplexity - 1.")
    seconds: float = Field(ge=0, description="Quantizing and measuring, wall clock.")


class VersionLineage(BaseModel):
    """Where a version came from when it was made from another version of the model."""

    model_config = DOCUMENT_CONFIG

    parent_version: int = Field(ge=1)
    technique: Literal["quantization"] = "quantization"
    library: str = Field(description="What quantized it, with its version.")
    settings: QuantizationSettings
    measurements: QuantizationMeasurements | None = Field(
        default=None, description="Set when the job has measured the quantized version."
    )


__all__ = [
    "GroupSize",
    "QuantizationMeasurements",
    "QuantizationSchemeName",
    "QuantizationSettings",
    "VersionLineage",
]
