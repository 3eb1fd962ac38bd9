"""The advisor's answer: the model's sizes, the recommendation and why, as one document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from maas.advisor.architecture import ModelArchitecture
from maas.advisor.recommend import (
    ALLREDUCE_SECONDS,
    CUDA_GRAPH_BYTES,
    GPU_MEMORY_UTILIZATION,
    MAX_ROLLING_BATCH,
    PREFILL_CHUNK_TOKENS,
    QUANTIZATION_FORMATS,
    Recommendation,
    Rejection,
    recommend,
)
from maas.advisor.request import CANDIDATE_QUANTIZATIONS, Quantization, ServingRequest
from maas.advisor.safetensors import CheckpointSize, TensorInfo, checkpoint_size
from maas.advisor.sizing import (
    BF16_BYTES,
    RUNTIME_WORKSPACE_BYTES,
    WEIGHT_FORMATS,
    WeightFormat,
    activation_bytes_per_token,
    active_parameter_count,
    checkpoint_format,
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    logits_bytes,
    parameter_count,
    prefill_peak_over_weights,
    routed_fraction_read,
    weight_bytes_split,
)
from maas.exceptions import ValidationError
from maas.instances import price_date, price_region

if TYPE_CHECKING:
    from collections.abc import Mapping


class Assumptions(BaseModel):
    """The engine settings and allowances the recommendation was sized with."""

    model_config = ConfigDict(frozen=True)

    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION
    prefill_chunk_tokens: int = PREFILL_CHUNK_TOKENS
    cuda_graph_bytes: int = CUDA_GRAPH_BYTES
    runtime_workspace_bytes: int = RUNTIME_WORKSPACE_BYTES
    max_rolling_batch_size_cap: int = MAX_ROLLING_BATCH
    allreduce_seconds: dict[str, float] = Field(default_factory=lambda: dict(ALLREDUCE_SECONDS))
    kv_cache_dtype: str = "bf16"
    price_region: str = Field(default_factory=price_region)
    price_date: str = Field(default_factory=price_date)


class AdvisorReport(BaseModel):
    """What serving the model takes, and the best way to serve it. Sizes are bytes."""

    model_config = ConfigDict(frozen=True)

    model: str | None = Field(description="The model's name or Hub id, when given.")
    family: str
    request: ServingRequest
    architecture: ModelArchitecture
    parameters: int
    active_parameters: int = Field(description="Per token; less than parameters for MoE.")
    parameters_source: Literal["config", "safetensors"]
    checkpoint_bytes: int | None = Field(
        description="Bytes of the checkpoint's tensors as stored, from its safetensors headers."
    )
    weight_bytes: int = Field(description="All weights in bf16.")
    weight_bytes_by_format: dict[str, int] = Field(
        description="bf16, fp8, int8 and int4 (AWQ/GPTQ, group size 128)."
    )
    kv_bytes_per_token: int = Field(
        description="bf16 KV cache per token over all layers, sliding windows not applied."
    )
    kv_bytes_per_token_at_context: float = Field(
        description="Effective per-token figure of a sequence of request.context_tokens."
    )
    kv_bytes_per_sequence: int = Field(description="One sequence of request.context_tokens.")
    activation_bytes_per_token: int
    logits_bytes_per_sequence: int
    runtime_workspace_bytes: int
    prefill_peak_over_weights_bytes: int = Field(
        description="Peak above the weights while a fresh eager process prefills "
        "request.concurrent_requests prompts of request.prompt_tokens at once."
    )
    recommendation: Recommendation = Field(
        description="Serves the checkpoint as stored: in its own format, never one it would "
        "first have to be quantized to."
    )
    runners_up: list[Recommendation]
    rejected: list[Rejection]
    candidates_considered: int
    candidates_fitting: int
    quantized_alternative: Recommendation | None = Field(
        default=None,
        description="For a 16-bit checkpoint: the best way to serve a quantized version of it, "
        "when that ranks above the recommendation. A proposal: its requires names the "
        "quantization step it needs, and it is never written as serving properties.",
    )
    neuron_alternative: Recommendation | None = Field(
        default=None,
        description="The best way to serve the checkpoint on Inferentia2 or Trainium (inf2, "
        "trn1: NeuronCores of 16 GiB, tensor parallelism over them, the LMI NeuronX "
        "container), priced beside the GPUs; its requires names the compilation step it needs.",
    )
    assumptions: Assumptions
    notes: list[str]


def advise(
    config: Mapping[str, Any],
    request: ServingRequest,
    *,
    safetensors_headers: Mapping[str, TensorInfo] | None = None,
    model: str | None = None,
) -> AdvisorReport:
    """Size a model from its ``config.json`` (and safetensors headers, when at hand) and
    recommend how to serve ``request``.

    Raises
    ------
    UnsupportedArchitecture
        When the config's family is not one the advisor sizes.
    NoInstanceFits
        When no instance in scope can serve the request; the message says what would.
    ValidationError
        When the config lacks a size, or the request does not suit the model.

    Examples
    --------
    >>> config = {
    ...     "model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30,
    ...     "num_attention_heads": 9, "num_key_value_heads": 3, "intermediate_size": 1536,
    ...     "vocab_size": 49152, "tie_word_embeddings": True, "max_position_embeddings": 8192,
    ... }
    >>> report = advise(config, ServingRequest(context_tokens=4096, concurrent_requests=8))
    >>> report.weight_bytes, report.kv_bytes_per_token
    (269030016, 23040)
    >>> report.recommendation.engine, report.recommendation.tensor_parallel_degree
    ('vllm', 1)
    """
    arch = ModelArchitecture.from_config(config)
    limit = arch.max_position_embeddings
    if limit is not None and request.context_tokens > limit:
        raise ValidationError(
            f"context_tokens: {request.context_tokens} exceeds the model's context of {limit} "
            "tokens"
        )
    size = (
        checkpoint_size(safetensors_headers, tie_word_embeddings=arch.tie_word_embeddings)
        if safetensors_headers
        else None
    )
    from_headers = size is not None and not size.quantized
    parameters = size.parameters if size is not None and from_headers else parameter_count(arch)
    # Tensors the config does not describe (a vision tower, say) stay at 16 bit in every format.
    extra = (parameters - parameter_count(arch)) * BF16_BYTES
    by_format = _weights_by_format(arch, extra)
    ranking = recommend(
        arch,
        request,
        _servable_weights(arch, by_format, size),
        _proposed_weights(arch, by_format),
    )
    context = request.context_tokens
    batch = request.concurrent_requests
    return AdvisorReport(
        model=model,
        family=arch.family,
        request=request,
        architecture=arch,
        parameters=parameters,
        active_parameters=active_parameter_count(arch) + extra // BF16_BYTES,
        parameters_source="safetensors" if from_headers else "config",
        checkpoint_bytes=size.bytes if size is not None else None,
        weight_bytes=sum(by_format["bf16"]),
        weight_bytes_by_format={fmt: sum(pair) for fmt, pair in by_format.items()},
        kv_bytes_per_token=kv_bytes_per_token(arch),
        kv_bytes_per_token_at_context=kv_bytes_per_sequence(arch, context) / context,
        kv_bytes_per_sequence=kv_bytes_per_sequence(arch, context),
        activation_bytes_per_token=activation_bytes_per_token(arch),
        logits_bytes_per_sequence=logits_bytes(arch, 1),
        runtime_workspace_bytes=RUNTIME_WORKSPACE_BYTES,
        prefill_peak_over_weights_bytes=prefill_peak_over_weights(
            arch, batch, request.prompt_tokens
        ),
        recommendation=ranking.recommendation,
        runners_up=ranking.runners_up,
        rejected=ranking.rejected,
        candidates_considered=ranking.candidates_considered,
        candidates_fitting=ranking.candidates_fitting,
        quantized_alternative=ranking.quantized_alternative,
        neuron_alternative=ranking.neuron_alternative,
        assumptions=Assumptions(),
        notes=_notes(arch, request, size is not None and size.quantized),
    )


def advise_on_instance(report: AdvisorReport, instance_type: str) -> Recommendation:
    """How to serve the model of ``report``, for the load it was sized for, on one instance type.

    The architecture, checkpoint size and serving request come from the report, so a model
    registered long ago is checked against today's catalog without its ``config.json``.

    Raises
    ------
    NoInstanceFits
        When ``instance_type`` cannot serve the load; the message says what would.
    ValidationError
        When ``instance_type`` is not a GPU instance type the advisor sizes.
    """
    arch = report.architecture
    # A checkpoint sized from quantized headers keeps its stored bytes; see advise().
    quantized_size = (
        CheckpointSize(
            parameters=report.parameters,
            bytes=report.checkpoint_bytes,
            bytes_by_dtype={},
            quantized=True,
        )
        if report.parameters_source == "config" and report.checkpoint_bytes is not None
        else None
    )
    extra = (report.parameters - parameter_count(arch)) * BF16_BYTES
    by_format = _weights_by_format(arch, extra)
    weights = _servable_weights(arch, by_format, quantized_size)
    request = report.request.model_copy(update={"instance_types": (instance_type,)})
    # The deployed package holds the checkpoint as stored: only its own format can fit.
    return recommend(arch, request, weights, _proposed_weights(arch, by_format)).recommendation


def _weights_by_format(arch: ModelArchitecture, extra: int) -> dict[WeightFormat, tuple[int, int]]:
    """Weight bytes outside and inside the routed experts, per format; ``extra`` bytes of
    tensors the config does not describe join the former."""
    sizes: dict[WeightFormat, tuple[int, int]] = {}
    for fmt in WEIGHT_FORMATS:
        dense, routed = weight_bytes_split(arch, fmt)
        sizes[fmt] = (dense + extra, routed)
    return sizes


def _servable_weights(
    arch: ModelArchitecture,
    by_format: Mapping[WeightFormat, tuple[int, int]],
    size: CheckpointSize | None,
) -> dict[Quantization, tuple[int, int]]:
    """Weight bytes (outside, inside the routed experts) of the checkpoint as stored: the only
    format LMI can load it in (it loads AWQ/GPTQ only from a checkpoint quantized so)."""
    quantized = arch.checkpoint_quantization
    if quantized is None:
        return {"none": by_format[QUANTIZATION_FORMATS["none"]]}
    method: Quantization = quantized.method
    # The checkpoint's own layout (a compressed-tensors W4A16 is int4 with its groups).
    dense, routed = by_format[checkpoint_format(arch)]
    if size is not None and size.quantized:
        # The headers give the stored bytes exactly; split them as the architecture does.
        share = routed / (dense + routed)
        routed = round(size.bytes * share)
        dense = size.bytes - routed
    return {method: (dense, routed)}


def _proposed_weights(
    arch: ModelArchitecture, by_format: Mapping[WeightFormat, tuple[int, int]]
) -> dict[Quantization, tuple[int, int]]:
    """Weight bytes of the quantized versions a 16-bit checkpoint could be turned into."""
    if arch.checkpoint_quantization is not None:
        # Re-quantizing a quantized checkpoint is not proposed: it would compound the loss.
        return {}
    return {
        quantization: by_format[QUANTIZATION_FORMATS[quantization]]
        for quantization in CANDIDATE_QUANTIZATIONS
        if quantization != "none"
    }


def _notes(arch: ModelArchitecture, request: ServingRequest, quantized_headers: bool) -> list[str]:
    notes = list(arch.notes)
    context = request.context_tokens
    if arch.latent_attention is not None:
        latent = arch.latent_attention
        heads = arch.num_attention_heads
        expanded = (
            arch.num_layers
            * heads
            * (latent.qk_nope_head_dim + latent.qk_rope_head_dim + latent.v_head_dim)
            * BF16_BYTES
        )
        notes.append(
            f"latent attention (MLA): the KV cache holds kv_lora_rank + qk_rope_head_dim = "
            f"{latent.kv_lora_rank + latent.qk_rope_head_dim} values per layer per token, as "
            f"vLLM stores it; Hugging Face's eager implementation caches the expanded keys and "
            f"values instead: {expanded:,} bytes per token"
        )
    if arch.sliding_window_layers:
        windows = sorted({w for w in arch.layer_windows if w is not None})
        full = kv_bytes_per_token(arch)
        effective = kv_bytes_per_sequence(arch, context) / context
        notes.append(
            f"{arch.sliding_window_layers} of {arch.num_layers} layers attend over a sliding "
            f"window of {', '.join(map(str, windows))} tokens: at {context} tokens the KV cache "
            f"costs {effective:,.0f} bytes per token instead of {full:,}"
        )
    if arch.experts is not None:
        batch = request.concurrent_requests
        notes.append(
            f"mixture of experts: {parameter_count(arch):,} parameters, "
            f"{active_parameter_count(arch):,} active per token; a decode step over {batch} "
            f"sequence(s) reads an expected {routed_fraction_read(arch, batch):.0%} of the routed "
            "experts"
        )
    if quantized_headers:
        notes.append(
            "the safetensors headers hold quantized tensors: the checkpoint's bytes come from "
            "them, the parameter count from config.json"
        )
    return notes


__all__ = ["AdvisorReport", "Assumptions", "advise", "advise_on_instance"]
