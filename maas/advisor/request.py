"""What a caller asks the advisor to size for."""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

Preference = Literal["cost", "latency"]
#: ``compressed-tensors`` is only ever a checkpoint's own format (a version the quantize_model
#: workflow made, or an llm-compressor checkpoint): vLLM reads its scheme from config.json.
Quantization = Literal["none", "fp8", "awq", "gptq", "compressed-tensors"]

#: Quantizations the advisor sizes for an unquantized checkpoint: ``none`` is how it is served;
#: the others only as a proposed quantized version (GPTQ only ever comes from a checkpoint that
#: is already quantized with it).
CANDIDATE_QUANTIZATIONS: tuple[Quantization, ...] = ("none", "fp8", "awq")

#: The longest context and the most concurrent sequences the advisor sizes for.
MAX_CONTEXT_TOKENS = 1_048_576
MAX_CONCURRENT_REQUESTS = 4096


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

    # The bounds are those of a packaging request's serving preferences: past them no
    # instance fits, and the API sizes what callers send.
    context_tokens: StrictInt = Field(
        default=4096,
        gt=0,
        le=MAX_CONTEXT_TOKENS,
        description="Longest sequence to serve, prompt plus output (the engine's max_model_len).",
    )
    concurrent_requests: StrictInt = Field(
        default=1,
        gt=0,
        le=MAX_CONCURRENT_REQUESTS,
        description="Sequences decoded at once (the rolling batch to hold).",
    )
    prompt_tokens: StrictInt = Field(
        default=512,
        gt=0,
        le=MAX_CONTEXT_TOKENS,
        description="Typical prompt length, for the prefill memory peak.",
    )
    preference: Preference = Field(
        default="cost",
        description="Rank by cost per million tokens, or by per-sequence decode latency.",
    )
    instance_types: tuple[Annotated[str, Field(max_length=64)], ...] | None = Field(
        default=None,
        max_length=64,
        description="Consider only these instance types (default: every GPU type).",
    )
    quantizations: tuple[Quantization, ...] | None = Field(
        default=None,
        max_length=len(get_args(Quantization)),
        description="Allowed quantizations (default: all). The recommendation serves the "
        "checkpoint in its own format (none for 16-bit weights), which must be among them; the "
        'others are only proposed as a quantized version (("none",) proposes none).',
    )

    @model_validator(mode="after")
    def _prompt_within_context(self) -> Self:
        if self.prompt_tokens > self.context_tokens:
            raise ValueError(
                f"prompt_tokens ({self.prompt_tokens}) exceeds context_tokens "
                f"({self.context_tokens})"
            )
        return self


__all__ = [
    "CANDIDATE_QUANTIZATIONS",
    "MAX_CONCURRENT_REQUESTS",
    "MAX_CONTEXT_TOKENS",
    "Preference",
    "Quantization",
    "ServingRequest",
]
