"""What a caller asks the advisor to size for."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Preference = Literal["cost", "latency"]
Quantization = Literal["none", "fp8", "awq", "gptq"]

#: Quantizations the advisor considers for an unquantized checkpoint (GPTQ only ever comes
#: from a checkpoint that is already quantized with it).
CANDIDATE_QUANTIZATIONS: tuple[Quantization, ...] = ("none", "fp8", "awq")


class ServingRequest(BaseModel):
    """The load a model must serve.

    Examples
    --------
    >>> ServingRequest(context_tokens=4096, concurrent_requests=8).prompt_tokens
    512
    >>> ServingRequest(context_tokens=256, prompt_tokens=512)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ServingRequest
    ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    context_tokens: int = Field(
        default=4096,
        gt=0,
        description="Longest sequence to serve, prompt plus output (the engine's max_model_len).",
    )
    concurrent_requests: int = Field(
        default=1, gt=0, description="Sequences decoded at once (the rolling batch to hold)."
    )
    prompt_tokens: int = Field(
        default=512, gt=0, description="Typical prompt length, for the prefill memory peak."
    )
    preference: Preference = Field(
        default="cost",
        description="Rank by cost per million tokens, or by per-sequence decode latency.",
    )
    instance_types: tuple[str, ...] | None = Field(
        default=None, description="Consider only these instance types (default: every GPU type)."
    )
    quantizations: tuple[Quantization, ...] | None = Field(
        default=None,
        description='Allowed quantizations (default: all; ("none",) forbids quantizing).',
    )

    @model_validator(mode="after")
    def _prompt_within_context(self) -> Self:
        if self.prompt_tokens > self.context_tokens:
            raise ValueError(
                f"prompt_tokens ({self.prompt_tokens}) exceeds context_tokens "
                f"({self.context_tokens})"
            )
        return self


__all__ = ["CANDIDATE_QUANTIZATIONS", "Preference", "Quantization", "ServingRequest"]
