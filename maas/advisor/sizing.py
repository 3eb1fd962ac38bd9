"""Bytes of weights, KV cache, activations and logits, from a :class:`ModelArchitecture`.

The coefficients and where they come from (docs/advisor.md has the full account):

- weights: every tensor the model holds, at the format's bytes per element; quantized formats
  quantize the decoder's linear layers only (embeddings, ``lm_head``, norms, biases and MoE
  routers stay at 16 bit, as AWQ, GPTQ and vLLM's FP8 leave them).
- a compressed-tensors checkpoint (what the quantization step writes) as it stores its linear
  layers: the weights at their width, a 16-bit scale per channel, group or tensor, a zero
  point per scale when asymmetric (:func:`checkpoint_format`).
- KV cache: ``2 x kv_heads x head_dim x 2 bytes`` per layer per token, at the serving dtype
  (bf16) whatever the weights' format; a sliding-window layer
  holds at most ``window`` tokens; DeepSeek's latent attention caches
  ``kv_lora_rank + qk_rope_head_dim`` values per layer per token.
- activations of an eager bf16 prefill with SDPA: ``(3 x intermediate + 4 x hidden) x 2`` bytes
  per token (the MLP's gate, up and act(gate) plus four hidden-size tensors), which matched
  the H200 measurements in tests/unit/advisor to 0.1%.
- a fixed runtime workspace of 33 MiB: cuBLAS and cuBLASLt allocate it through PyTorch's
  caching allocator at the first matrix multiply, so a fresh serving process needs it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from maas.advisor.architecture import CheckpointQuantization, ModelArchitecture

WeightFormat = Literal["bf16", "fp8", "int8", "int4"]

#: The formats :func:`weight_bytes` sizes, widest first.
WEIGHT_FORMATS: tuple[WeightFormat, ...] = ("bf16", "fp8", "int8", "int4")

#: Bytes per element of bf16 (and fp16): weights, KV cache, activations and logits.
BF16_BYTES = 2

#: cuBLAS + cuBLASLt workspace, allocated at the first matmul (measured: 34,603,008 bytes).
RUNTIME_WORKSPACE_BYTES = 33 * 2**20

#: Hidden-size tensors alive at the activation peak: residual, normed input, attention
#: output and the MLP output being written.
HIDDEN_TENSORS_AT_PEAK = 4

#: AWQ's (and GPTQ's usual) group size: one fp16 scale and one 4-bit zero per group.
INT4_GROUP_SIZE = 128

#: Bytes of one scale: fp32 for FP8 and int8 (per tensor, per block or per channel).
SCALE_BYTES = 4

ParameterKind = Literal["embedding", "lm_head", "linear", "norm", "bias", "router"]


@dataclass(frozen=True, slots=True)
class ParameterGroup:
    """``count`` tensors of one ``shape``; a linear layer's shape is ``(out, in)``."""

    name: str
    kind: ParameterKind
    shape: tuple[int, ...]
    count: int
    routed_expert: bool = False

    @property
    def parameters(self) -> int:
        """Elements in all ``count`` tensors."""
        return math.prod(self.shape) * self.count


@lru_cache(maxsize=128)
def parameter_groups(arch: ModelArchitecture) -> tuple[ParameterGroup, ...]:
    """Every tensor of the model, grouped by shape and role (tied embeddings once).

    Examples
    --------
    >>> from maas.advisor.architecture import ModelArchitecture
    >>> arch = ModelArchitecture.from_config({
    ...     "model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30,
    ...     "num_attention_heads": 9, "num_key_value_heads": 3, "intermediate_size": 1536,
    ...     "vocab_size": 49152, "tie_word_embeddings": True,
    ... })
    >>> sum(group.parameters for group in parameter_groups(arch))  # SmolLM2-135M
    134515008
    """
    hidden, layers, vocab = arch.hidden_size, arch.num_layers, arch.vocab_size
    groups = [ParameterGroup("embed_tokens", "embedding", (vocab, hidden), 1)]
    if not arch.tie_word_embeddings:
        groups.append(ParameterGroup("lm_head", "lm_head", (vocab, hidden), 1))
    norms = layers * arch.norms_per_layer + (1 if arch.final_norm else 0)
    groups.append(ParameterGroup("norms", "norm", (hidden,), norms))
    if arch.norm_bias:
        groups.append(ParameterGroup("norm biases", "bias", (hidden,), norms))
    groups += _attention_groups(arch)
    groups += _mlp_groups(arch)
    return tuple(group for group in groups if group.count > 0)


def _attention_groups(arch: ModelArchitecture) -> list[ParameterGroup]:
    hidden, layers, heads = arch.hidden_size, arch.num_layers, arch.num_attention_heads
    latent = arch.latent_attention
    if latent is not None:
        query = heads * (latent.qk_nope_head_dim + latent.qk_rope_head_dim)
        if latent.q_lora_rank is None:
            groups = [ParameterGroup("q_proj", "linear", (query, hidden), layers)]
        else:
            rank = latent.q_lora_rank
            groups = [
                ParameterGroup("q_a_proj", "linear", (rank, hidden), layers),
                ParameterGroup("q_a_layernorm", "norm", (rank,), layers),
                ParameterGroup("q_b_proj", "linear", (query, rank), layers),
            ]
        cached = latent.kv_lora_rank + latent.qk_rope_head_dim
        expanded = heads * (latent.qk_nope_head_dim + latent.v_head_dim)
        return [
            *groups,
            ParameterGroup("kv_a_proj_with_mqa", "linear", (cached, hidden), layers),
            ParameterGroup("kv_a_layernorm", "norm", (latent.kv_lora_rank,), layers),
            ParameterGroup("kv_b_proj", "linear", (expanded, latent.kv_lora_rank), layers),
            ParameterGroup("o_proj", "linear", (hidden, heads * latent.v_head_dim), layers),
        ]
    query = heads * arch.head_dim
    key_value = arch.num_kv_heads * arch.head_dim
    groups = [
        ParameterGroup("q_proj", "linear", (query, hidden), layers),
        ParameterGroup("k_proj", "linear", (key_value, hidden), layers),
        ParameterGroup("v_proj", "linear", (key_value, hidden), layers),
        ParameterGroup("o_proj", "linear", (hidden, query), layers),
    ]
    if arch.qkv_bias:
        groups += [
            ParameterGroup("q bias", "bias", (query,), layers),
            ParameterGroup("k and v biases", "bias", (key_value,), 2 * layers),
        ]
    if arch.o_bias:
        groups.append(ParameterGroup("o bias", "bias", (hidden,), layers))
    if arch.qk_norm:
        groups.append(ParameterGroup("q_norm and k_norm", "norm", (arch.head_dim,), 2 * layers))
    return groups


def _mlp_groups(arch: ModelArchitecture) -> list[ParameterGroup]:
    hidden, experts = arch.hidden_size, arch.experts
    moe_layers = 0 if experts is None else sum(map(experts.is_moe_layer, range(arch.num_layers)))
    groups = _gated_mlp("mlp", hidden, arch.intermediate_size, arch.num_layers - moe_layers)
    if arch.mlp_bias:
        dense = arch.num_layers - moe_layers
        groups += [
            ParameterGroup("mlp gate and up biases", "bias", (arch.intermediate_size,), 2 * dense),
            ParameterGroup("mlp down bias", "bias", (hidden,), dense),
        ]
    if experts is None or moe_layers == 0:
        return groups
    width = experts.expert_intermediate_size
    routed = _gated_mlp("routed experts", hidden, width, moe_layers * experts.routed_experts)
    groups += [
        ParameterGroup(group.name, group.kind, group.shape, group.count, routed_expert=True)
        for group in routed
    ]
    groups += _gated_mlp("shared experts", hidden, width * experts.shared_experts, moe_layers)
    groups.append(ParameterGroup("router", "router", (experts.routed_experts, hidden), moe_layers))
    if experts.router_bias:
        groups.append(
            ParameterGroup("router bias", "router", (experts.routed_experts,), moe_layers)
        )
    return groups


def _gated_mlp(name: str, hidden: int, width: int, count: int) -> list[ParameterGroup]:
    if width == 0 or count == 0:
        return []
    return [
        ParameterGroup(f"{name} gate and up", "linear", (width, hidden), 2 * count),
        ParameterGroup(f"{name} down", "linear", (hidden, width), count),
    ]


def parameter_count(arch: ModelArchitecture) -> int:
    """All parameters, tied embeddings counted once."""
    return sum(group.parameters for group in parameter_groups(arch))


def active_parameter_count(arch: ModelArchitecture) -> int:
    """Parameters one token passes through: all but the routed experts it is not sent to."""
    total = parameter_count(arch)
    if arch.experts is None:
        return total
    routed = sum(group.parameters for group in parameter_groups(arch) if group.routed_expert)
    share = arch.experts.experts_per_token / arch.experts.routed_experts
    return total - routed + round(routed * share)


def checkpoint_format(arch: ModelArchitecture) -> WeightFormat:
    """The format the checkpoint's linear layers are stored in (``bf16`` when unquantized).

    Examples
    --------
    >>> from maas.advisor.architecture import ModelArchitecture
    >>> arch = ModelArchitecture.from_config({
    ...     "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
    ...     "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
    ...     "vocab_size": 128256, "quantization_config": {
    ...         "quant_method": "compressed-tensors", "format": "pack-quantized",
    ...         "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
    ...             "num_bits": 4, "type": "int", "strategy": "group", "group_size": 128}}},
    ...         "ignore": ["lm_head"]}
    ... })
    >>> checkpoint_format(arch), round(weight_bytes(arch, checkpoint_format(arch)) / 2**30, 2)
    ('int4', 5.31)
    """
    quantized = arch.checkpoint_quantization
    if quantized is None:
        return "bf16"
    if quantized.method == "fp8" or quantized.weight_type == "float":
        return "fp8"
    if quantized.method == "compressed-tensors" and quantized.bits == 8:
        return "int8"
    return "int4"


def _compressed_tensors_bytes(quantized: CheckpointQuantization, out: int, into: int) -> float:
    """One linear layer as compressed-tensors stores it: the weights at their width (int4
    packed eight to an int32, int8 four to one, FP8 as bytes), a 16-bit scale per output
    channel, per group of inputs or per tensor, a zero point per scale when asymmetric, and
    the packed formats' ``weight_shape`` (two int64)."""
    if quantized.group_size > 0:
        scales = math.ceil(into / quantized.group_size) * out
    else:
        scales = out if quantized.group_size < 0 else 1
    zeros = 0.0 if quantized.symmetric else scales * quantized.bits / 8
    shape = 2 * 8 if quantized.weight_type == "int" else 0
    return out * into * quantized.bits / 8 + scales * BF16_BYTES + zeros + shape


def _linear_bytes(arch: ModelArchitecture, out: int, into: int, fmt: WeightFormat) -> float:
    elements = out * into
    quantized = arch.checkpoint_quantization
    if (
        quantized is not None
        and quantized.method == "compressed-tensors"
        and fmt == checkpoint_format(arch)
    ):
        return _compressed_tensors_bytes(quantized, out, into)
    if fmt == "bf16":
        return elements * BF16_BYTES
    if fmt == "fp8":
        block = quantized.weight_block_size if quantized and quantized.method == "fp8" else None
        scales = math.ceil(out / block[0]) * math.ceil(into / block[1]) if block else 1
        return elements + scales * SCALE_BYTES
    if fmt == "int8":
        return elements + out * SCALE_BYTES  # one scale per output channel
    bits, group_size, g_idx = 4, INT4_GROUP_SIZE, False
    if quantized is not None and quantized.method in ("awq", "gptq"):
        bits, group_size = quantized.bits, quantized.group_size
        g_idx = quantized.method == "gptq"  # GPTQ stores each input channel's group index
    groups = math.ceil(into / group_size) if group_size > 0 else 1
    # Per group and output channel: an fp16 scale and a zero point packed at ``bits``.
    return elements * bits / 8 + groups * out * (BF16_BYTES + bits / 8) + (4 * into if g_idx else 0)


def weight_bytes_split(arch: ModelArchitecture, fmt: WeightFormat = "bf16") -> tuple[int, int]:
    """Bytes of weights outside and inside the routed experts, in ``fmt``."""
    dense = routed = 0.0
    for group in parameter_groups(arch):
        if group.kind == "linear":
            size = _linear_bytes(arch, group.shape[0], group.shape[1], fmt) * group.count
        else:
            size = group.parameters * BF16_BYTES
        if group.routed_expert:
            routed += size
        else:
            dense += size
    return round(dense), round(routed)


def weight_bytes(arch: ModelArchitecture, fmt: WeightFormat = "bf16") -> int:
    """Bytes of all weights in ``fmt``; ``int4`` is AWQ/GPTQ with group size 128.

    Examples
    --------
    >>> from maas.advisor.architecture import ModelArchitecture
    >>> arch = ModelArchitecture.from_config({
    ...     "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
    ...     "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
    ...     "vocab_size": 128256,
    ... })
    >>> weight_bytes(arch)  # Llama-3.1-8B: 8,030,261,248 parameters x 2 bytes
    16060522496
    >>> round(weight_bytes(arch, "int4") / 2**30, 2)  # GiB; embeddings and lm_head stay 16-bit
    5.33
    """
    dense, routed = weight_bytes_split(arch, fmt)
    return dense + routed


def routed_fraction_read(arch: ModelArchitecture, tokens: int) -> float:
    """Expected share of routed experts a decode step over ``tokens`` sequences reads.

    Each token picks ``k`` of ``E`` experts; with the picks spread evenly, an expert is idle
    for all of them with probability ``(1 - k/E) ** tokens``.
    """
    if arch.experts is None:
        return 1.0
    share = arch.experts.experts_per_token / arch.experts.routed_experts
    return 1.0 - (1.0 - share) ** max(tokens, 1)


def decode_weight_bytes_read(arch: ModelArchitecture, fmt: WeightFormat, batch: int) -> float:
    """Weight bytes one decode step reads for ``batch`` sequences (all of a dense model)."""
    dense, routed = weight_bytes_split(arch, fmt)
    return dense + routed * routed_fraction_read(arch, batch)


def kv_heads_per_rank(arch: ModelArchitecture, tensor_parallel: int = 1) -> int:
    """KV heads each tensor-parallel rank stores; vLLM replicates them when TP exceeds them."""
    return max(1, arch.num_kv_heads // tensor_parallel)


def kv_bytes_per_token_per_layer(arch: ModelArchitecture, *, tensor_parallel: int = 1) -> int:
    """KV-cache bytes one token adds to one layer, on one tensor-parallel rank, in bf16.

    The latent cache of MLA is not split by heads: every rank holds all of it.
    """
    latent = arch.latent_attention
    if latent is not None:
        return (latent.kv_lora_rank + latent.qk_rope_head_dim) * BF16_BYTES
    return 2 * kv_heads_per_rank(arch, tensor_parallel) * arch.head_dim * BF16_BYTES


def kv_bytes_per_token(arch: ModelArchitecture, *, tensor_parallel: int = 1) -> int:
    """KV-cache bytes per token over all layers, ignoring sliding windows (the full-context
    figure: what each token costs while the context is within every window).

    Examples
    --------
    >>> from maas.advisor.architecture import ModelArchitecture
    >>> arch = ModelArchitecture.from_config({
    ...     "model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24,
    ...     "num_attention_heads": 14, "num_key_value_heads": 2, "intermediate_size": 4864,
    ...     "vocab_size": 151936, "tie_word_embeddings": True,
    ... })
    >>> kv_bytes_per_token(arch)  # 24 layers x 2 KV heads x 64 x 2 (K and V) x 2 bytes
    12288
    """
    per_layer = kv_bytes_per_token_per_layer(arch, tensor_parallel=tensor_parallel)
    return per_layer * arch.num_layers


def kv_bytes_per_sequence(arch: ModelArchitecture, tokens: int, *, tensor_parallel: int = 1) -> int:
    """KV-cache bytes of one sequence of ``tokens``; a sliding layer holds at most its window."""
    per_layer = kv_bytes_per_token_per_layer(arch, tensor_parallel=tensor_parallel)
    held = sum(tokens if window is None else min(tokens, window) for window in arch.layer_windows)
    return per_layer * held


def kv_bytes_per_token_at(arch: ModelArchitecture, context: int) -> float:
    """The effective KV bytes per token of a sequence of ``context`` tokens."""
    return kv_bytes_per_sequence(arch, context) / context


def mlp_width(arch: ModelArchitecture) -> int:
    """Intermediate width one token's MLP computes: the dense MLP, or the shared experts plus
    the routed experts a token goes to, whichever is wider."""
    experts = arch.experts
    if experts is None:
        return arch.intermediate_size
    routed = experts.expert_intermediate_size * (experts.shared_experts + experts.experts_per_token)
    return max(arch.intermediate_size if experts.first_dense_layers else 0, routed)


def activation_bytes_per_token(arch: ModelArchitecture, *, tensor_parallel: int = 1) -> int:
    """Peak activation bytes per prompt token of a bf16 prefill (no attention matrix: SDPA,
    FlashAttention and paged attention never materialise it).

    Examples
    --------
    >>> from maas.advisor.architecture import ModelArchitecture
    >>> arch = ModelArchitecture.from_config({
    ...     "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
    ...     "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
    ...     "vocab_size": 128256,
    ... })
    >>> activation_bytes_per_token(arch)  # measured on an H200: ~118,800
    118784
    """
    width = mlp_width(arch) // tensor_parallel
    return (3 * width + HIDDEN_TENSORS_AT_PEAK * arch.hidden_size) * BF16_BYTES


def logits_bytes(arch: ModelArchitecture, sequences: int) -> int:
    """The last token's logits of ``sequences`` sequences, in bf16."""
    return sequences * arch.vocab_size * BF16_BYTES


def prefill_peak_over_weights(arch: ModelArchitecture, batch: int, prompt_tokens: int) -> int:
    """Peak bytes above the weights while a fresh process prefills ``batch`` prompts at once.

    KV cache of the prompts + the activation peak + the last tokens' logits + the runtime
    workspace (eager PyTorch, bf16, SDPA attention).
    """
    return (
        batch * kv_bytes_per_sequence(arch, prompt_tokens)
        + batch * prompt_tokens * activation_bytes_per_token(arch)
        + logits_bytes(arch, batch)
        + RUNTIME_WORKSPACE_BYTES
    )


__all__ = [
    "BF16_BYTES",
    "HIDDEN_TENSORS_AT_PEAK",
    "INT4_GROUP_SIZE",
    "RUNTIME_WORKSPACE_BYTES",
    "WEIGHT_FORMATS",
    "ParameterGroup",
    "WeightFormat",
    "activation_bytes_per_token",
    "active_parameter_count",
    "checkpoint_format",
    "decode_weight_bytes_read",
    "kv_bytes_per_sequence",
    "kv_bytes_per_token",
    "kv_bytes_per_token_at",
    "kv_bytes_per_token_per_layer",
    "kv_heads_per_rank",
    "logits_bytes",
    "mlp_width",
    "parameter_count",
    "parameter_groups",
    "prefill_peak_over_weights",
    "routed_fraction_read",
    "weight_bytes",
    "weight_bytes_split",
]
