"""Which instance, tensor-parallel degree, engine, quantization and batch serve a model best.

Every GPU instance type in the catalog is tried with every tensor-parallel degree its GPUs
allow and every quantization its GPUs run. A candidate's memory per GPU is sized the way vLLM
sizes it; its speed is the decode roofline (each step reads the weights and the KV cache of
the batch from HBM once), plus a floor for the all-reduces of tensor parallelism. Candidates
that hold the requested concurrency at the requested context are ranked by cost per million
tokens at that bound, or by per-sequence decode latency.

Only the checkpoint's own format is ever recommended: LMI's vLLM loads AWQ or GPTQ weights
only from a checkpoint already quantized that way, so a ``serving.properties`` asking it to
quantize bf16 weights would keep the endpoint from starting. Formats that a quantization step
would produce are sized too ("proposals"), and the cheapest of them is reported beside the
recommendation, with the step it needs, when it beats every format the checkpoint holds.

A checkpoint the quantization step made (compressed-tensors) is its own format: it is sized
from its stored layout and served with no ``option.quantize``.

Where the family has a published draft model and the batch is low, the recommendation adds
draft-model speculative decoding, with the draft's weights and KV cache counted in its memory
and its gain stated as an estimate (:mod:`maas.advisor.speculative`).

AWS's own accelerators are sized and priced beside the GPUs: Inferentia2 (inf2) and Trainium
(trn1) instances, over their NeuronCores, served by the LMI NeuronX container. The best of them
is reported as the ``neuron_alternative``, with the compilation it needs and its estimated
time (:mod:`maas.advisor.neuron`); the workflows do not compile for Neuron (locally nothing
can: :func:`maas.advisor.compilation.check_neuron_compilation` validates and says so), so it
is never the recommendation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from maas.advisor.neuron import NeuronCompilation, neuron_compilation
from maas.advisor.request import Quantization
from maas.advisor.sizing import (
    RUNTIME_WORKSPACE_BYTES,
    WeightFormat,
    activation_bytes_per_token,
    kv_bytes_per_sequence,
    kv_heads_per_rank,
    parameter_count,
    routed_fraction_read,
    weight_bytes,
    weight_bytes_split,
)
from maas.advisor.speculative import (
    ASSUMED_ACCEPTANCE_RATE,
    MAX_SPECULATIVE_BATCH,
    MIN_ESTIMATED_SPEEDUP,
    DraftModel,
    SpeculativeDecoding,
    best_length,
    published_draft,
)
from maas.exceptions import NoInstanceFits, ValidationError
from maas.instances import InstanceType, get_instance_type, instance_catalog, price_date

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from maas.advisor.architecture import CheckpointQuantization, ModelArchitecture
    from maas.advisor.request import ServingRequest

Engine = Literal["vllm", "lmi-dist", "trtllm", "neuronx"]

#: vLLM's default ``gpu_memory_utilization``: the share of each GPU the engine may use.
GPU_MEMORY_UTILIZATION = 0.90
#: Tokens one engine step prefills with chunked prefill (vLLM's ``max_num_batched_tokens``).
PREFILL_CHUNK_TOKENS = 8192
#: Memory kept for CUDA graphs and communication buffers per GPU (an allowance, not measured).
CUDA_GRAPH_BYTES = 2**30
#: vLLM's default ``max_num_seqs``: the rolling batch is capped here.
MAX_ROLLING_BATCH = 256
#: Latency floor of one small all-reduce, per interconnect (assumed, not measured here).
ALLREDUCE_SECONDS: dict[str, float] = {"nvlink": 10e-6, "pcie": 25e-6, "neuronlink": 25e-6}
#: All-reduces per layer per decode step under tensor parallelism (after attention, after MLP).
ALLREDUCES_PER_LAYER = 2
#: Shortest decode step per layer whatever the bandwidth (assumed, not measured here): a
#: layer runs about a dozen kernels per step and even a CUDA-graph replay costs microseconds
#: each. It keeps a tiny model from "needing" a faster GPU than the cheapest that holds it.
LAYER_STEP_FLOOR_SECONDS = 20e-6
#: Tensor-parallel degrees tried, where an instance has that many GPUs.
TENSOR_PARALLEL_DEGREES = (1, 2, 4, 8)
#: Decode steps this much slower than the fastest still count as fastest (then cost decides).
LATENCY_TOLERANCE = 0.10
#: How many runners-up a report lists.
RUNNERS_UP = 3
#: Families LMI's TensorRT-LLM back end builds engines for.
TRTLLM_FAMILIES = frozenset({"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2"})
#: GPUs where TensorRT-LLM is chosen for latency (Hopper).
TRTLLM_ACCELERATORS = frozenset({"NVIDIA H100", "NVIDIA H200"})

#: NeuronCores per device. An Inferentia2 or a Trainium (trn1) chip holds two NeuronCore-v2
#: and 32 GiB of HBM at 820 GB/s, so each core has 16 GiB and half the bandwidth
#: (https://awsdocs-neuron.readthedocs-hosted.com/en/latest/general/arch/neuron-hardware/
#: inferentia2.html and .../trainium.html). Tensor parallelism splits a model over cores.
NEURON_CORES_PER_DEVICE: dict[str, int] = {"AWS Inferentia2": 2, "AWS Trainium": 2}
#: What the per-core view of an instance calls its accelerator.
NEURON_CORE = "NeuronCore-v2"
#: Tensor-parallel degrees over NeuronCores, where an instance has that many: powers of two,
#: and 12 and 24, all of an inf2.24xlarge's and an inf2.48xlarge's cores (NxD Inference's
#: ``tp_degree`` splits the heads over them, so it must divide them; a check refuses the rest).
NEURON_TENSOR_PARALLEL_DEGREES = (1, 2, 4, 8, 12, 16, 24, 32)
#: Families NxD Inference, LMI NeuronX's back end, has model code for (its "Production Ready
#: Models": https://awsdocs-neuron.readthedocs-hosted.com/en/latest/libraries/nxd-inference/
#: developer_guides/model-reference.html); others get no Neuron alternative.
NEURON_FAMILIES = frozenset({"llama", "qwen2", "qwen3"})
#: Memory per NeuronCore kept for the compiled graphs and collective buffers (an allowance,
#: not measured), in place of the GPUs' CUDA-graph allowance.
NEURON_RUNTIME_BYTES = 2**30
#: Share of the host's memory the weights may take on a Neuron instance: NxD Inference reads
#: the whole checkpoint into host memory to shard it over the cores (an assumption, not
#: measured here; it is what rules out an 8B model in bf16 on an inf2.xlarge's 16 GiB).
NEURON_HOST_MEMORY_SHARE = 0.8
#: What serving on Neuron takes first: the model compiled for its TP degree, batch and length.
NEURON_COMPILATION_STEP = (
    "the model compiled for Neuron at this tensor-parallel degree, batch and sequence length "
    "(NxD Inference or optimum-neuron, on an inf2 or trn1 instance) and packaged with it; LMI "
    "NeuronX can also compile when the endpoint starts, at the cost of a long start-up; locally "
    "this platform validates the configuration (maas.advisor.check_neuron_compilation) and "
    "stops there: compiling needs Neuron hardware"
)

#: What a checkpoint must go through before it can be served in each proposed format, naming
#: the step that makes it: the ``quantize_model`` workflow (``maas versions quantize``, ``POST
#: /v1/models/{model}/versions/{version}/quantizations``, :mod:`maas.quantization`) makes a new
#: version whose serving properties match its checkpoint. A proposal itself is never written as
#: serving properties (see :func:`maas.advisor.lmi.serving_properties`).
QUANTIZATION_STEPS: dict[Quantization, str] = {
    "fp8": (
        "an FP8 checkpoint: quantize this one as a new version with `maas versions quantize "
        "<model> <version> --scheme FP8_DYNAMIC` (the quantize_model workflow, which measures "
        "the new version's size and perplexity change) and serve that version"
    ),
    "awq": (
        "an AWQ int4 checkpoint (group size 128): quantize this one as a new version; `maas "
        "versions quantize <model> <version> --scheme W4A16 --group-size 128` (the "
        "quantize_model workflow) makes an int4 version of about this size by round-to-nearest "
        "and measures its perplexity change; AWQ itself calibrates on a GPU (llm-compressor or "
        "AutoAWQ), or package a published -AWQ repository as a new version"
    ),
    "gptq": (
        "a GPTQ int4 checkpoint: quantize this one as a new version; `maas versions quantize "
        "<model> <version> --scheme W4A16 --group-size 128` (the quantize_model workflow) makes "
        "an int4 version of about this size by round-to-nearest and measures its perplexity "
        "change; GPTQ itself calibrates on a GPU (llm-compressor or GPTQModel)"
    ),
}

#: The weight format each quantization stores. A compressed-tensors checkpoint's depends on
#: its scheme (:func:`maas.advisor.sizing.checkpoint_format`).
QUANTIZATION_FORMATS: dict[Quantization, WeightFormat] = {
    "none": "bf16",
    "fp8": "fp8",
    "awq": "int4",
    "gptq": "int4",
}
#: At equal cost, the weights closest to the checkpoint's own come first.
QUANTIZATION_ORDER: tuple[Quantization, ...] = ("none", "compressed-tensors", "fp8", "awq", "gptq")

_GB = 1e9


class Recommendation(BaseModel):
    """One way to serve the model, with its sizes, its bound and the reason for each choice."""

    model_config = ConfigDict(frozen=True)

    instance_type: str
    accelerator: str
    gpus: int = Field(description="GPUs on the instance (NeuronCores on inf2 and trn1).")
    tensor_parallel_degree: int
    workers: int = Field(description="Model copies on the instance: GPUs / TP.")
    engine: Engine
    quantization: Quantization
    max_rolling_batch_size: int = Field(description="Per worker.")
    max_model_len: int
    max_concurrent_sequences: int = Field(
        description="Sequences of max_model_len tokens the instance's KV cache holds."
    )
    weight_bytes_per_gpu: int
    kv_cache_bytes_per_gpu: int
    kv_bytes_per_sequence_per_gpu: int
    decode_step_ms: float = Field(
        description="Lower bound of one decode step at the requested concurrency: the time "
        "per output token of each sequence."
    )
    decode_tokens_per_s: float = Field(
        description="Upper bound of output tokens per second at the requested concurrency."
    )
    price_per_hour_usd: float
    price_is_estimate: bool = False
    cost_per_million_tokens_usd: float
    reasons: dict[str, str] = Field(
        description="Why: keys instance_type, tensor_parallel_degree, engine, quantization, "
        "max_rolling_batch_size, and speculative_decoding for the recommendation."
    )
    requires: str | None = Field(
        default=None,
        description="The step the checkpoint must go through before these settings can serve "
        "it (a quantization, a Neuron compilation), or null when they serve the checkpoint as "
        "stored. Settings that require a step are a proposal and never become serving "
        "properties.",
    )
    neuron_compilation: NeuronCompilation | None = Field(
        default=None,
        description="On inf2 and trn1: the compilation the settings need (its graphs and an "
        "estimated time, an allowance rather than a measurement) and the LMI NeuronX "
        "serving.properties of the compiled model.",
    )
    speculative_decoding: SpeculativeDecoding | None = Field(
        default=None,
        description="Draft-model speculative decoding, when the family has a published draft "
        "that fits beside the model and the batch is low enough to gain from it. "
        "kv_cache_bytes_per_gpu, kv_bytes_per_sequence_per_gpu and max_concurrent_sequences "
        "then account for the draft's weights and KV cache (weight_bytes_per_gpu is the "
        "model's own). Its speed-up is an estimate, never a measurement.",
    )


class Rejection(BaseModel):
    """A candidate that cannot serve the request, and the most it can hold."""

    model_config = ConfigDict(frozen=True)

    instance_type: str
    tensor_parallel_degree: int
    quantization: Quantization
    max_concurrent_sequences: int
    reason: str


class Ranking(BaseModel):
    """The best candidate, the runners-up, and what was turned down."""

    model_config = ConfigDict(frozen=True)

    recommendation: Recommendation
    runners_up: list[Recommendation]
    rejected: list[Rejection] = Field(
        description="The rejected candidates that came closest (held the most sequences)."
    )
    candidates_considered: int
    candidates_fitting: int
    quantized_alternative: Recommendation | None = Field(
        default=None,
        description="The best candidate in a format the checkpoint would first have to be "
        "quantized to, when it ranks above the recommendation; its requires names the step.",
    )
    neuron_alternative: Recommendation | None = Field(
        default=None,
        description="The best Inferentia2 or Trainium candidate, priced beside the GPUs; its "
        "requires names the compilation step it needs.",
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    instance: InstanceType
    tensor_parallel: int
    quantization: Quantization
    weight_bytes_per_gpu: float
    kv_cache_bytes_per_gpu: float
    kv_bytes_per_sequence: int
    sequences_per_worker: int
    rejection: str | None = None
    batch_per_worker: int = 0
    step_seconds: float = math.inf
    tokens_per_second: float = 0.0
    cost_per_million: float = math.inf

    @property
    def workers(self) -> int:
        return self.instance.accelerator_count // self.tensor_parallel

    @property
    def capacity(self) -> int:
        return self.sequences_per_worker * self.workers

    @property
    def price(self) -> float:
        return self.instance.price_per_hour_usd or math.inf

    def describe(self) -> str:
        tp = f"TP {self.tensor_parallel}"
        quantized = "" if self.quantization == "none" else f", {self.quantization}"
        return f"{self.instance.instance_type} ({tp}{quantized})"


def neuron_instances() -> list[InstanceType]:
    """The catalog's Inferentia2 and Trainium types, each seen as its NeuronCores: a core's
    share of its device's memory and bandwidth is what one tensor-parallel rank gets."""
    views = []
    for row in instance_catalog().values():
        cores = NEURON_CORES_PER_DEVICE.get(row.accelerator or "")
        if (
            cores is None
            or not row.accelerator_memory_bandwidth_gbps
            or not row.accelerator_memory_mib
            or not row.price_per_hour_usd
        ):
            continue
        views.append(
            replace(
                row,
                accelerator=f"{row.accelerator} {NEURON_CORE}",
                accelerator_count=row.accelerator_count * cores,
                accelerator_memory_gib=row.accelerator_memory_gib // cores,
                accelerator_memory_mib=row.accelerator_memory_mib // cores,
                accelerator_memory_bandwidth_gbps=row.accelerator_memory_bandwidth_gbps / cores,
            )
        )
    return views


def _is_neuron(instance: InstanceType) -> bool:
    return (instance.accelerator or "").endswith(NEURON_CORE)


def gpu_instances() -> list[InstanceType]:
    """The catalog's GPU types the advisor can size: those with bandwidth and a price."""
    return [
        row
        for row in instance_catalog().values()
        if row.accelerator is not None
        and row.accelerator.startswith("NVIDIA")
        and row.accelerator_memory_bandwidth_gbps
        and row.accelerator_memory_mib
        and row.price_per_hour_usd
    ]


def recommend(
    arch: ModelArchitecture,
    request: ServingRequest,
    weights: Mapping[Quantization, tuple[int, int]],
    proposals: Mapping[Quantization, tuple[int, int]] | None = None,
) -> Ranking:
    """Rank every candidate for ``request``.

    ``weights`` maps each quantization the checkpoint can be served in as stored (its own:
    ``none`` for a 16-bit checkpoint, the method of a quantized one) to its weight bytes
    outside and inside the routed experts. ``proposals`` maps the formats a quantization step
    would produce to theirs: they are never recommended, only reported as the
    ``quantized_alternative`` when one ranks first, and named when nothing else fits.

    Raises
    ------
    NoInstanceFits
        When no candidate in scope holds the requested concurrency; the message says what
        would: another instance type, a quantized version, or nothing in the catalog.
    """
    proposed = {q: w for q, w in (proposals or {}).items() if q not in weights}
    allowed, proposable = _allowed_quantizations(request, weights, proposed)
    every = {**weights, **proposed}
    scope = _instance_scope(request)
    plans = [
        _evaluate(
            arch,
            request,
            instance=instance,
            tensor_parallel=tensor_parallel,
            quantization=quantization,
            weights=every[quantization],
        )
        for instance in gpu_instances()
        for tensor_parallel in TENSOR_PARALLEL_DEGREES
        if tensor_parallel <= instance.accelerator_count
        for quantization in every
    ]
    in_scope = [
        plan
        for plan in plans
        if plan.instance.instance_type in scope and plan.quantization in allowed
    ]
    fitting = [plan for plan in in_scope if plan.rejection is None]
    if not fitting:
        raise NoInstanceFits(
            _no_fit_message(
                request,
                plans=plans,
                in_scope=in_scope,
                scope=scope,
                allowed=allowed,
                weights=every,
                proposed=set(proposed),
            )
        )
    ranked = _rank(fitting, request)
    best = ranked[0]
    # Runners-up on other instance types: a smaller variant of the same choice says little.
    runners_up: list[tuple[int, _Plan]] = []
    seen = {best.instance.instance_type}
    for rank, plan in enumerate(ranked[1:], start=2):
        if len(runners_up) == RUNNERS_UP:
            break
        if plan.instance.instance_type not in seen:
            seen.add(plan.instance.instance_type)
            runners_up.append((rank, plan))
    rejected = sorted(
        (plan for plan in in_scope if plan.rejection is not None and plan.capacity > 0),
        key=lambda plan: (-plan.capacity, plan.price),
    )
    # The alternative is what would rank first if the checkpoint were quantized first.
    contenders = fitting + [
        plan
        for plan in plans
        if plan.rejection is None
        and plan.quantization in proposable
        and plan.instance.instance_type in scope
    ]
    overall = _rank(contenders, request)[0]
    better = overall if overall.quantization in proposed else None
    context = _RankingContext(arch, request, len(fitting), every, frozenset(proposed), better)
    alternative = (
        _recommendation(better, 1, replace(context, fitting=len(contenders)))
        if better is not None
        else None
    )
    speculation = _speculate(arch, request, best)
    return Ranking(
        neuron_alternative=_neuron_alternative(arch, request, weights),
        recommendation=_recommendation(best, 1, context, speculation),
        runners_up=[_recommendation(plan, rank, context) for rank, plan in runners_up],
        rejected=[
            Rejection(
                instance_type=plan.instance.instance_type,
                tensor_parallel_degree=plan.tensor_parallel,
                quantization=plan.quantization,
                max_concurrent_sequences=plan.capacity,
                reason=plan.rejection or "",
            )
            for plan in rejected[:RUNNERS_UP]
        ],
        candidates_considered=len(in_scope),
        candidates_fitting=len(fitting),
        quantized_alternative=alternative,
    )


@dataclass(frozen=True, slots=True)
class _Speculation:
    """A plan resized with a draft beside the model, the draft's settings, or why not."""

    plan: _Plan | None
    settings: SpeculativeDecoding | None
    reason: str


def _draft_for(
    arch: ModelArchitecture, request: ServingRequest, plan: _Plan
) -> tuple[DraftModel | None, str]:
    """The published draft that could serve beside ``plan``, or None and why not."""
    draft, why = published_draft(arch)
    if _engine(arch, plan, request) != "vllm":
        return None, "none: speculation is proposed for the vLLM engine only"
    if draft is None:
        return None, f"none: {why}"
    if plan.batch_per_worker > MAX_SPECULATIVE_BATCH:
        return None, (
            f"none: {plan.batch_per_worker} sequences per worker is past the "
            f"{MAX_SPECULATIVE_BATCH} where drafting pays (each step is bound by compute "
            "there, not by memory bandwidth)"
        )
    small, tp = draft.architecture, plan.tensor_parallel
    if small.num_attention_heads % tp or (small.num_kv_heads % tp and tp % small.num_kv_heads):
        return None, f"none: {draft.model_id}'s heads do not split over TP {tp}"
    return draft, why


def _speculate(arch: ModelArchitecture, request: ServingRequest, plan: _Plan) -> _Speculation:
    """Whether draft-model speculation serves ``plan`` better, with the draft counted in its
    memory (see :mod:`maas.advisor.speculative`)."""
    draft, why = _draft_for(arch, request, plan)
    if draft is None:
        return _Speculation(None, None, why)
    small, tp = draft.architecture, plan.tensor_parallel
    draft_weights = weight_bytes(small) / tp
    draft_kv = kv_bytes_per_sequence(small, request.context_tokens, tensor_parallel=tp)
    kv_cache = plan.kv_cache_bytes_per_gpu - draft_weights
    per_sequence = plan.kv_bytes_per_sequence + draft_kv
    sequences = max(0, math.floor(kv_cache / per_sequence))
    if sequences * plan.workers < request.concurrent_requests:
        return _Speculation(
            None,
            None,
            f"none: {draft.model_id} ({draft_weights / _GB:.1f} GB per GPU and its KV cache) "
            f"would leave room for {sequences * plan.workers} of the "
            f"{request.concurrent_requests} sequences",
        )
    batch = plan.batch_per_worker
    bandwidth = (plan.instance.accelerator_memory_bandwidth_gbps or 0) * _GB
    draft_step = max(
        (draft_weights + batch * draft_kv) / bandwidth, small.num_layers * LAYER_STEP_FLOOR_SECONDS
    )
    if tp > 1:
        latency = ALLREDUCE_SECONDS.get(plan.instance.accelerator_interconnect or "pcie", 25e-6)
        draft_step += ALLREDUCES_PER_LAYER * small.num_layers * latency
    cost_ratio = draft_step / plan.step_seconds
    length, gain = best_length(cost_ratio)
    if gain < MIN_ESTIMATED_SPEEDUP:
        return _Speculation(
            None,
            None,
            f"none: {draft.model_id} would gain an estimated x{gain:.2f} only (its step costs "
            f"{cost_ratio:.2f} of the model's)",
        )
    settings = SpeculativeDecoding(
        draft_model=draft.model_id,
        draft_model_card=draft.card,
        num_speculative_tokens=length,
        draft_weight_bytes_per_gpu=round(draft_weights),
        draft_kv_bytes_per_sequence_per_gpu=draft_kv,
        assumed_acceptance_rate=ASSUMED_ACCEPTANCE_RATE,
        estimated_speedup=round(gain, 2),
        estimated_decode_tokens_per_s=round(plan.tokens_per_second * gain, 1),
    )
    resized = replace(
        plan,
        kv_cache_bytes_per_gpu=kv_cache,
        kv_bytes_per_sequence=per_sequence,
        sequences_per_worker=sequences,
    )
    reason = (
        f"{draft.model_id} drafts {length} tokens per step ({draft.card}): an estimated "
        f"x{gain:.2f} decode speed-up at {batch} sequence(s) per worker (an estimate, not a "
        f"measurement: Leviathan et al. 2023, acceptance rate {ASSUMED_ACCEPTANCE_RATE} "
        f"assumed, its step {cost_ratio:.2f} of the model's); it takes "
        f"{draft_weights / _GB:.2f} GB per GPU and {draft_kv / 2**20:.0f} MiB of KV cache per "
        f"sequence, counted above; the endpoint fetches it from the Hub at start-up"
    )
    return _Speculation(resized, settings, reason)


def _neuron_alternative(
    arch: ModelArchitecture,
    request: ServingRequest,
    weights: Mapping[Quantization, tuple[int, int]],
) -> Recommendation | None:
    """The best way to serve the checkpoint on Inferentia2 or Trainium, if one holds the load.

    Only a 16-bit checkpoint of a family NxD Inference supports is sized: the AWQ, GPTQ and
    FP8 checkpoints LMI's GPU engines load are not what NxD Inference loads.
    """
    if "none" not in weights or arch.family not in NEURON_FAMILIES:
        return None
    plans = [
        _evaluate(
            arch,
            request,
            instance=instance,
            tensor_parallel=tensor_parallel,
            quantization="none",
            weights=weights["none"],
        )
        for instance in neuron_instances()
        for tensor_parallel in NEURON_TENSOR_PARALLEL_DEGREES
        if tensor_parallel <= instance.accelerator_count
    ]
    fitting = [plan for plan in plans if plan.rejection is None]
    if not fitting:
        return None
    context = _RankingContext(arch, request, len(fitting), weights, frozenset())
    return _recommendation(_rank(fitting, request)[0], 1, context)


def evaluate_neuron(
    arch: ModelArchitecture, request: ServingRequest, core_view: InstanceType, tensor_parallel: int
) -> str | None:
    """Why the 16-bit checkpoint cannot serve ``request`` on ``core_view`` (an instance seen
    as its NeuronCores, from :func:`neuron_instances`) at ``tensor_parallel``, or None."""
    plan = _evaluate(
        arch,
        request,
        instance=core_view,
        tensor_parallel=tensor_parallel,
        quantization="none",
        weights=weight_bytes_split(arch, "bf16"),
    )
    return plan.rejection


def _allowed_quantizations(
    request: ServingRequest,
    weights: Mapping[Quantization, tuple[int, int]],
    proposed: Mapping[Quantization, tuple[int, int]],
) -> tuple[set[Quantization], set[Quantization]]:
    """The formats the recommendation may serve, and those a proposal may name."""
    if request.quantizations is None:
        return set(weights), set(proposed)
    asked = set(request.quantizations)
    allowed = asked & set(weights)
    if not allowed:
        step = (
            "; another format needs a quantization step first: `maas versions quantize` (the "
            "quantize_model workflow) makes it as a new version"
            if asked & set(proposed)
            else ""
        )
        raise ValidationError(
            f"quantizations: the checkpoint can be served as {', '.join(weights)} only, "
            f"not {', '.join(sorted(asked))}{step}"
        )
    return allowed, asked & set(proposed)


def _instance_scope(request: ServingRequest) -> set[str]:
    gpu_types = {row.instance_type for row in gpu_instances()}
    if request.instance_types is None:
        return gpu_types
    for name in request.instance_types:
        get_instance_type(name, field="instance_types")
        if name not in gpu_types:
            raise ValidationError(
                f"instance_types: {name} is not a GPU instance type the advisor sizes; "
                f"families it sizes: {', '.join(sorted({t.split('.')[1] for t in gpu_types}))} "
                "(inf2 and trn1 are priced as the neuron_alternative: they need a Neuron "
                "compilation step, which this platform does not have yet)"
            )
    return set(request.instance_types)


def _incompatibility(
    arch: ModelArchitecture,
    instance: InstanceType,
    tensor_parallel: int,
    quantization: Quantization,
) -> str | None:
    heads, kv_heads = arch.num_attention_heads, arch.num_kv_heads
    if heads % tensor_parallel:
        return f"TP {tensor_parallel} does not divide the {heads} attention heads"
    if arch.latent_attention is None and kv_heads % tensor_parallel and tensor_parallel % kv_heads:
        return f"TP {tensor_parallel} neither divides nor is a multiple of the {kv_heads} KV heads"
    if quantization == "fp8" and not instance.accelerator_supports_fp8:
        return f"{instance.accelerator} has no FP8 support"
    checkpoint = arch.checkpoint_quantization
    grouped = quantization in ("awq", "gptq") or (
        quantization == "compressed-tensors"
        and checkpoint is not None
        and checkpoint.group_size > 0
    )
    if grouped:
        group = 128 if checkpoint is None else checkpoint.group_size
        widths = [arch.num_attention_heads * arch.head_dim, arch.intermediate_size]
        if arch.experts is not None:
            widths.append(arch.experts.expert_intermediate_size)
        # A row-parallel layer's input is split across ranks; each split must hold whole groups.
        if any((width // tensor_parallel) % group for width in widths):
            return (
                f"TP {tensor_parallel} splits a layer's input into parts that are not whole "
                f"{group}-groups"
            )
    return None


def _evaluate(
    arch: ModelArchitecture,
    request: ServingRequest,
    *,
    instance: InstanceType,
    tensor_parallel: int,
    quantization: Quantization,
    weights: tuple[int, int],
) -> _Plan:
    dense, routed = weights
    weight_per_gpu = (dense + routed) / tensor_parallel
    memory = (instance.accelerator_memory_mib or 0) * 2**20
    overhead = (
        PREFILL_CHUNK_TOKENS * activation_bytes_per_token(arch, tensor_parallel=tensor_parallel)
        + RUNTIME_WORKSPACE_BYTES
        + (NEURON_RUNTIME_BYTES if _is_neuron(instance) else CUDA_GRAPH_BYTES)
    )
    kv_cache = memory * GPU_MEMORY_UTILIZATION - weight_per_gpu - overhead
    per_sequence = kv_bytes_per_sequence(
        arch, request.context_tokens, tensor_parallel=tensor_parallel
    )
    sequences = max(0, math.floor(kv_cache / per_sequence))
    plan = _Plan(
        instance=instance,
        tensor_parallel=tensor_parallel,
        quantization=quantization,
        weight_bytes_per_gpu=weight_per_gpu,
        kv_cache_bytes_per_gpu=max(kv_cache, 0.0),
        kv_bytes_per_sequence=per_sequence,
        sequences_per_worker=sequences,
    )
    reason = _incompatibility(arch, instance, tensor_parallel, quantization)
    if reason is not None:
        # It cannot run at all: it holds nothing, whatever its memory would allow.
        return replace(plan, sequences_per_worker=0, rejection=reason)
    host = instance.memory_gib * 2**30
    if _is_neuron(instance) and dense + routed > host * NEURON_HOST_MEMORY_SHARE:
        reason = (
            f"the host's {instance.memory_gib} GiB cannot hold the {(dense + routed) / _GB:.1f} "
            "GB of weights while they are sharded onto the NeuronCores"
        )
    elif kv_cache <= 0:
        reason = (
            f"the weights ({weight_per_gpu / _GB:.1f} GB per GPU) and the runtime overhead "
            f"({overhead / _GB:.1f} GB) exceed the {memory * GPU_MEMORY_UTILIZATION / _GB:.1f} GB "
            "usable on each GPU"
        )
    elif sequences == 0:
        reason = f"no room for one sequence of {request.context_tokens} tokens"
    elif plan.capacity < request.concurrent_requests:
        reason = (
            f"holds {plan.capacity} sequences of {request.context_tokens} tokens, "
            f"fewer than the {request.concurrent_requests} requested"
        )
    if reason is not None:
        return replace(plan, rejection=reason)
    batch = math.ceil(request.concurrent_requests / plan.workers)
    read = (dense + routed * routed_fraction_read(arch, batch)) / tensor_parallel
    bandwidth = (instance.accelerator_memory_bandwidth_gbps or 0) * _GB
    step = max(
        (read + batch * per_sequence) / bandwidth, arch.num_layers * LAYER_STEP_FLOOR_SECONDS
    )
    if tensor_parallel > 1:
        latency = ALLREDUCE_SECONDS.get(instance.accelerator_interconnect or "pcie", 25e-6)
        step += ALLREDUCES_PER_LAYER * arch.num_layers * latency
    tokens_per_second = request.concurrent_requests / step
    return replace(
        plan,
        batch_per_worker=batch,
        step_seconds=step,
        tokens_per_second=tokens_per_second,
        cost_per_million=plan.price / (tokens_per_second * 3600) * 1e6,
    )


def _rank(fitting: list[_Plan], request: ServingRequest) -> list[_Plan]:
    if request.preference != "cost" and any(plan.quantization == "none" for plan in fitting):
        # Full precision whenever it fits, unless the caller asked for the lowest cost.
        fitting = [plan for plan in fitting if plan.quantization == "none"]
    if request.preference == "latency":
        # Steps within a few percent of the fastest are as good as equal: among them, the
        # cheapest per token wins, then the rest follow by step time.
        fastest = min(plan.step_seconds for plan in fitting)
        limit = fastest * (1 + LATENCY_TOLERANCE)
        return sorted(
            fitting,
            key=lambda p: (
                p.step_seconds > limit,
                p.cost_per_million if p.step_seconds <= limit else p.step_seconds,
                p.price,
            ),
        )
    return sorted(
        fitting,
        key=lambda p: (
            p.cost_per_million,
            p.step_seconds,
            p.price,
            p.tensor_parallel,
            # At equal cost, the weights closest to the checkpoint's own.
            QUANTIZATION_ORDER.index(p.quantization),
        ),
    )


def _cheapest(plans: Iterable[_Plan]) -> _Plan | None:
    return min(
        plans,
        key=lambda p: (p.price, p.instance.accelerator_count, p.cost_per_million),
        default=None,
    )


def _no_fit_message(
    request: ServingRequest,
    *,
    plans: list[_Plan],
    in_scope: list[_Plan],
    scope: set[str],
    allowed: set[Quantization],
    weights: Mapping[Quantization, tuple[int, int]],
    proposed: set[Quantization],
) -> str:
    load = f"{request.concurrent_requests} sequence(s) of {request.context_tokens} tokens"
    closest = max(in_scope, key=lambda p: (p.capacity, -p.price), default=None)
    why = f" ({closest.describe()}: {closest.rejection})" if closest and closest.capacity else ""
    elsewhere = _cheapest(
        p
        for p in plans
        if p.rejection is None
        and p.quantization in allowed
        and p.instance.instance_type not in scope
    )
    if request.instance_types is not None and elsewhere is not None:
        asked = ", ".join(request.instance_types)
        return (
            f"none of {asked} can serve {load}{why}; the cheapest instance that can is "
            f"{elsewhere.describe()}"
        )
    quantized = _cheapest(p for p in plans if p.rejection is None and p.quantization not in allowed)
    if quantized is not None:
        allowed_text = (
            "without quantization" if allowed == {"none"} else f"as {'/'.join(sorted(allowed))}"
        )
        step = (
            f", but that needs {QUANTIZATION_STEPS[quantized.quantization]}"
            if quantized.quantization in proposed
            else ""
        )
        return (
            f"no instance serves {load} {allowed_text}{why}; with {quantized.quantization} it "
            f"fits on {quantized.describe()}{step}"
        )
    largest = max(plans, key=lambda p: (p.capacity, -p.price), default=None)
    if largest is not None and largest.capacity > 0:
        return (
            f"no instance in the catalog holds {load}; the most is {largest.capacity} on "
            f"{largest.describe()}"
        )
    biggest = max(
        gpu_instances(), key=lambda i: (i.accelerator_memory_mib or 0) * i.accelerator_count
    )
    total = (biggest.accelerator_memory_mib or 0) * 2**20 * biggest.accelerator_count
    smallest_weights = min(sum(pair) for pair in weights.values())
    return (
        f"nothing in the catalog can hold it: its weights take {smallest_weights / _GB:.0f} GB "
        f"even in the smallest format, and the largest instance, {biggest.instance_type}, has "
        f"{total * GPU_MEMORY_UTILIZATION / _GB:.0f} GB usable"
    )


@dataclass(frozen=True, slots=True)
class _RankingContext:
    arch: ModelArchitecture
    request: ServingRequest
    fitting: int
    weights: Mapping[Quantization, tuple[int, int]]
    proposed: frozenset[Quantization]
    alternative: _Plan | None = None


def _engine(arch: ModelArchitecture, plan: _Plan, request: ServingRequest) -> Engine:
    if _is_neuron(plan.instance):
        return "neuronx"
    if (
        request.preference == "latency"
        and plan.instance.accelerator in TRTLLM_ACCELERATORS
        and arch.family in TRTLLM_FAMILIES
    ):
        return "trtllm"
    return "vllm"


def _recommendation(
    plan: _Plan, rank: int, context: _RankingContext, speculation: _Speculation | None = None
) -> Recommendation:
    arch, request = context.arch, context.request
    engine = _engine(arch, plan, request)
    if speculation is not None and speculation.plan is not None:
        plan = speculation.plan
    rolling = max(min(plan.sequences_per_worker, MAX_ROLLING_BATCH), plan.batch_per_worker)
    return Recommendation(
        instance_type=plan.instance.instance_type,
        accelerator=plan.instance.accelerator or "",
        gpus=plan.instance.accelerator_count,
        tensor_parallel_degree=plan.tensor_parallel,
        workers=plan.workers,
        engine=engine,
        quantization=plan.quantization,
        max_rolling_batch_size=rolling,
        max_model_len=request.context_tokens,
        max_concurrent_sequences=plan.capacity,
        weight_bytes_per_gpu=round(plan.weight_bytes_per_gpu),
        kv_cache_bytes_per_gpu=round(plan.kv_cache_bytes_per_gpu),
        kv_bytes_per_sequence_per_gpu=plan.kv_bytes_per_sequence,
        decode_step_ms=round(plan.step_seconds * 1000, 4),
        decode_tokens_per_s=round(plan.tokens_per_second, 1),
        price_per_hour_usd=plan.price,
        price_is_estimate=plan.instance.price_is_estimate,
        cost_per_million_tokens_usd=round(plan.cost_per_million, 4),
        reasons={
            "instance_type": _instance_reason(plan, rank, context),
            "tensor_parallel_degree": _tensor_parallel_reason(arch, plan),
            "engine": _engine_reason(engine, plan),
            "quantization": _quantization_reason(plan, context),
            "max_rolling_batch_size": _batch_reason(plan, rolling, request),
            **({"speculative_decoding": speculation.reason} if speculation else {}),
        },
        requires=_requires(plan, context),
        neuron_compilation=neuron_compilation(
            instance_type=plan.instance.instance_type,
            tensor_parallel=plan.tensor_parallel,
            batch=rolling,
            sequence_length=request.context_tokens,
            parameters=parameter_count(arch),
        )
        if _is_neuron(plan.instance)
        else None,
        speculative_decoding=speculation.settings if speculation else None,
    )


def _requires(plan: _Plan, context: _RankingContext) -> str | None:
    if _is_neuron(plan.instance):
        return NEURON_COMPILATION_STEP
    if plan.quantization in context.proposed:
        return QUANTIZATION_STEPS[plan.quantization]
    return None


def _instance_reason(plan: _Plan, rank: int, context: _RankingContext) -> str:
    instance, request = plan.instance, context.request
    gpu = (
        f"{instance.accelerator_count} x {instance.accelerator} "
        f"({(instance.accelerator_memory_mib or 0) / 1024:.1f} GiB, "
        f"{instance.accelerator_memory_bandwidth_gbps:.0f} GB/s each)"
    )
    estimate = ", an estimate" if instance.price_is_estimate else ""
    price = f"{plan.price:.3f} USD/h (us-east-1 on-demand, {price_date()}{estimate})"
    measure = (
        f"{plan.cost_per_million:.3f} USD per million output tokens at the bandwidth bound"
        if request.preference == "cost"
        else f"a decode step of {plan.step_seconds * 1000:.2f} ms per token at the bound"
    )
    order = "the lowest cost" if request.preference == "cost" else "the lowest latency"
    return (
        f"{instance.instance_type}: {measure}; rank {rank} by {order} of the "
        f"{context.fitting} configurations that hold {request.concurrent_requests} "
        f"sequence(s) of {request.context_tokens} tokens; {gpu} at {price}"
    )


def _tensor_parallel_reason(arch: ModelArchitecture, plan: _Plan) -> str:
    tp, gpus = plan.tensor_parallel, plan.instance.accelerator_count
    device = NEURON_CORE if _is_neuron(plan.instance) else "GPU"
    weights = f"{plan.weight_bytes_per_gpu / _GB:.1f} GB of weights per {device}"
    if arch.latent_attention is not None:
        kv = "each rank holds the whole latent KV cache (MLA does not split it by heads)"
    else:
        per_rank = kv_heads_per_rank(arch, tp)
        replicated = " (replicated, as TP exceeds them)" if tp > arch.num_kv_heads else ""
        kv = f"each rank holds {per_rank} of the {arch.num_kv_heads} KV heads{replicated}"
    workers = (
        f"; LMI runs {plan.workers} model workers, one per {tp} {device}(s)"
        if plan.workers > 1
        else ""
    )
    why = (
        f"one {device} holds the weights and the KV cache"
        if tp == 1
        else f"the model is split over {tp} {device}s"
    )
    return f"TP {tp} of {gpus} {device}(s): {why}: {weights}, {kv}{workers}"


def _engine_reason(engine: Engine, plan: _Plan) -> str:
    if engine == "neuronx":
        return (
            "LMI NeuronX (the djl-neuronx image) with NxD Inference: the model runs as graphs "
            f"compiled for {plan.instance.accelerator}s, split over {plan.tensor_parallel} of "
            "them, with a KV cache sized for the compiled batch and sequence length"
        )
    if engine == "trtllm":
        return (
            "TensorRT-LLM (option.rolling_batch=trtllm): the lowest per-token latency on "
            f"{plan.instance.accelerator} (Hopper); LMI compiles the engine when the endpoint "
            "starts, or ahead of time"
        )
    return (
        "LMI with vLLM (option.rolling_batch=vllm): continuous batching, paged KV cache and "
        "CUDA graphs, for every family and GPU here; lmi-dist is LMI's equivalent back end on "
        "older images"
    )


def _quantization_reason(plan: _Plan, context: _RankingContext) -> str:
    arch, request = context.arch, context.request
    bytes_total = sum(context.weights[plan.quantization]) / _GB
    if _is_neuron(plan.instance):
        return (
            f"none (bf16, {bytes_total:.1f} GB): NxD Inference serves the checkpoint's 16-bit "
            "weights as stored"
        )
    checkpoint = arch.checkpoint_quantization
    if checkpoint is not None:
        return (
            _compressed_tensors_reason(checkpoint, bytes_total)
            if checkpoint.method == "compressed-tensors"
            else f"{plan.quantization}: the checkpoint is already quantized "
            f"({checkpoint.method}, {bytes_total:.1f} GB of weights)"
        )
    if plan.quantization == "none":
        better = context.alternative
        if better is not None:
            return (
                f"none (bf16, {bytes_total:.1f} GB): the checkpoint as stored; an "
                f"{better.quantization.upper()} version would serve on {better.describe()} at "
                f"{better.cost_per_million:.3f} USD per million tokens (quantized_alternative), "
                f"but it needs {QUANTIZATION_STEPS[better.quantization]}"
            )
        if request.preference == "cost":
            return (
                f"none (bf16, {bytes_total:.1f} GB): the checkpoint as stored; no quantized "
                "version would be cheaper per token here"
            )
        return (
            f"none (bf16, {bytes_total:.1f} GB): it fits at full precision, which is kept "
            "unless the preference is cost"
        )
    reduction = (
        1 - bytes_total / (sum(context.weights["none"]) / _GB) if "none" in context.weights else 0.0
    )
    if plan.quantization == "fp8":
        detail = (
            f"FP8 weights ({bytes_total:.1f} GB, {reduction:.0%} less to read per step) on "
            f"{plan.instance.accelerator}, which runs FP8 natively"
        )
    else:
        detail = (
            f"AWQ int4, group size 128 ({bytes_total:.1f} GB, {reduction:.0%} less; embeddings "
            "and lm_head stay 16-bit)"
        )
    why = "the cheapest per token" if request.preference == "cost" else "the only way it fits"
    step = QUANTIZATION_STEPS[plan.quantization]
    return (
        f"{plan.quantization}: {detail}; {why}; expect a small loss of quality; a proposal, not "
        f"serving properties: it needs {step}"
    )


def _compressed_tensors_reason(checkpoint: CheckpointQuantization, bytes_total: float) -> str:
    weights = f"{checkpoint.weight_type}{checkpoint.bits} weights" + (
        f", groups of {checkpoint.group_size}" if checkpoint.group_size > 0 else ""
    )
    return (
        f"compressed-tensors {checkpoint.scheme}: the checkpoint is already quantized "
        f"({weights}; {bytes_total:.1f} GB of weights, sized from its own layout); vLLM "
        "reads the scheme from config.json, so no option.quantize is written; the KV cache "
        "stays at the serving dtype (bf16)"
    )


def _batch_reason(plan: _Plan, rolling: int, request: ServingRequest) -> str:
    capped = (
        f", capped at vLLM's default max_num_seqs of {MAX_ROLLING_BATCH}"
        if plan.sequences_per_worker > MAX_ROLLING_BATCH
        else ""
    )
    device = NEURON_CORE if _is_neuron(plan.instance) else "GPU"
    return (
        f"{rolling}: the KV cache ({plan.kv_cache_bytes_per_gpu / _GB:.1f} GB per {device}) holds "
        f"{plan.sequences_per_worker} sequences of {request.context_tokens} tokens per worker"
        f"{capped}; the request needs {plan.batch_per_worker} per worker"
    )


__all__ = [
    "ALLREDUCE_SECONDS",
    "CUDA_GRAPH_BYTES",
    "GPU_MEMORY_UTILIZATION",
    "LATENCY_TOLERANCE",
    "MAX_ROLLING_BATCH",
    "NEURON_COMPILATION_STEP",
    "NEURON_CORES_PER_DEVICE",
    "PREFILL_CHUNK_TOKENS",
    "QUANTIZATION_FORMATS",
    "QUANTIZATION_ORDER",
    "QUANTIZATION_STEPS",
    "Engine",
    "Ranking",
    "Recommendation",
    "Rejection",
    "evaluate_neuron",
    "gpu_instances",
    "neuron_instances",
    "recommend",
]
