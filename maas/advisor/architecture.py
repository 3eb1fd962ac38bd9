"""A decoder-only model's shape, read from its Hugging Face ``config.json``.

Every family names its sizes its own way (``num_layers`` and ``kv_channels`` in the original
GLM-4 config, ``text_config`` in the multimodal Gemma 3 one, ``kv_lora_rank`` for DeepSeek's
latent attention). :meth:`ModelArchitecture.from_config` reads them into one shape that the
sizing functions need not know the family of.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from maas.exceptions import UnsupportedArchitecture, ValidationError

Family = Literal[
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "chatglm",
    "glm",
    "glm4",
    "gemma",
    "gemma2",
    "gemma3",
    "deepseek_v2",
    "deepseek_v3",
]

#: ``model_type`` values and the family each belongs to.
MODEL_TYPES: dict[str, Family] = {
    "llama": "llama",
    "mistral": "mistral",
    "qwen2": "qwen2",
    "qwen3": "qwen3",
    "chatglm": "chatglm",
    "glm": "glm",
    "glm4": "glm4",
    "gemma": "gemma",
    "gemma2": "gemma2",
    "gemma3": "gemma3",
    "gemma3_text": "gemma3",
    "deepseek_v2": "deepseek_v2",
    "deepseek_v3": "deepseek_v3",
}

#: ``architectures`` entries, for configs whose ``model_type`` is missing or custom.
ARCHITECTURES: dict[str, Family] = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "mistral",
    "Qwen2ForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3",
    "ChatGLMModel": "chatglm",
    "ChatGLMForConditionalGeneration": "chatglm",
    "GlmForCausalLM": "glm",
    "Glm4ForCausalLM": "glm4",
    "GemmaForCausalLM": "gemma",
    "Gemma2ForCausalLM": "gemma2",
    "Gemma3ForCausalLM": "gemma3",
    "Gemma3ForConditionalGeneration": "gemma3",
    "DeepseekV2ForCausalLM": "deepseek_v2",
    "DeepseekV3ForCausalLM": "deepseek_v3",
}

#: How the families read to a person, for error messages.
SUPPORTED = (
    "Llama (llama), Mistral (mistral), Qwen2 (qwen2), Qwen3 (qwen3), "
    "GLM-4 (chatglm, glm, glm4), Gemma 1/2/3 (gemma, gemma2, gemma3, gemma3_text), "
    "DeepSeek-V2/V3 (deepseek_v2, deepseek_v3)"
)

#: Quantization methods of pre-quantized checkpoints the advisor can size. compressed-tensors
#: is what the ``quantize_model`` workflow writes (:mod:`maas.quantization`) and what
#: llm-compressor publishes; vLLM reads its scheme from ``config.json``
#: (https://docs.vllm.ai/en/latest/features/quantization/).
CHECKPOINT_QUANTIZATIONS = ("awq", "gptq", "fp8", "compressed-tensors")

#: compressed-tensors' storage formats whose weights are stored at their quantized width:
#: ``pack-quantized`` packs int4/int8 into int32, ``int-quantized`` and ``naive-quantized``
#: store int8, ``float-quantized`` stores FP8 (compressed_tensors.config.CompressionFormat).
#: ``dense`` keeps 16-bit weights and is refused rather than sized as something it is not.
COMPRESSED_TENSORS_FORMATS = frozenset(
    {"pack-quantized", "int-quantized", "naive-quantized", "float-quantized"}
)

#: The most each size of a ``config.json`` may be: well above every published checkpoint
#: (Llama 3.1 405B: 126 layers, hidden 16384, MLP 53248, 128 heads; DeepSeek-V3: 256 routed
#: experts; Gemma 3: a 262k vocabulary; Llama 4 Scout: 10M positions), and small enough that
#: sizing one (a window per layer, parameter counts per layer) takes milliseconds. A config
#: past them is refused rather than sized: the API sizes configs that callers send.
CONFIG_LIMITS: dict[str, int] = {
    **dict.fromkeys(
        ("num_hidden_layers", "num_layers", "max_window_layers", "sliding_window_pattern"), 1024
    ),
    **dict.fromkeys(("first_k_dense_replace", "moe_layer_freq"), 1024),
    "hidden_size": 65_536,
    **dict.fromkeys(("num_attention_heads", "num_key_value_heads", "multi_query_group_num"), 1024),
    **dict.fromkeys(
        ("head_dim", "kv_channels", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"), 4096
    ),
    **dict.fromkeys(("q_lora_rank", "kv_lora_rank"), 65_536),
    **dict.fromkeys(("intermediate_size", "ffn_hidden_size", "moe_intermediate_size"), 262_144),
    **dict.fromkeys(("vocab_size", "padded_vocab_size"), 1_048_576),
    **dict.fromkeys(("max_position_embeddings", "seq_length", "sliding_window"), 67_108_864),
    **dict.fromkeys(("n_routed_experts", "n_shared_experts"), 4096),
    "num_experts_per_tok": 1024,
    # quantization_config: AWQ's names (w_bit, q_group_size) beside GPTQ's.
    **dict.fromkeys(("bits", "w_bit", "num_bits"), 16),
    **dict.fromkeys(("group_size", "q_group_size", "weight_block_size"), 65_536),
}

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class LatentAttention(BaseModel):
    """DeepSeek's multi-head latent attention (MLA): keys and values through a low-rank latent."""

    model_config = _FROZEN

    q_lora_rank: int | None = Field(description="Rank of the query's low-rank path; None: direct.")
    kv_lora_rank: int = Field(gt=0, description="Width of the cached key-value latent.")
    qk_nope_head_dim: int = Field(gt=0)
    qk_rope_head_dim: int = Field(gt=0, description="Rotary part of each key, cached as is.")
    v_head_dim: int = Field(gt=0)


class MixtureOfExperts(BaseModel):
    """DeepSeek-style mixture of experts: routed experts, shared experts, dense first layers."""

    model_config = _FROZEN

    routed_experts: int = Field(gt=0)
    shared_experts: int = Field(ge=0)
    experts_per_token: int = Field(gt=0)
    expert_intermediate_size: int = Field(gt=0)
    first_dense_layers: int = Field(ge=0, description="``first_k_dense_replace``.")
    layer_frequency: int = Field(default=1, gt=0, description="``moe_layer_freq``.")
    router_bias: bool = Field(
        default=False, description="DeepSeek-V3's ``e_score_correction_bias`` per MoE layer."
    )

    def is_moe_layer(self, index: int) -> bool:
        """Whether decoder layer ``index`` (from 0) has experts rather than a dense MLP."""
        return index >= self.first_dense_layers and index % self.layer_frequency == 0


class CheckpointQuantization(BaseModel):
    """The ``quantization_config`` of a checkpoint that is already quantized."""

    model_config = _FROZEN

    method: Literal["awq", "gptq", "fp8", "compressed-tensors"]
    bits: int = 4
    group_size: int = Field(
        default=128,
        description="Inputs per scale; -1: one scale per output channel (for "
        "compressed-tensors, its channel strategy; 0: one scale per tensor).",
    )
    weight_block_size: tuple[int, int] | None = None
    weight_type: Literal["int", "float"] = Field(
        default="int", description="compressed-tensors: integer or floating-point weights."
    )
    symmetric: bool = Field(
        default=True, description="compressed-tensors: False stores a zero point per scale."
    )
    dynamic_activations: bool = Field(
        default=False,
        description="compressed-tensors: activations are quantized too, per token at run "
        "time (the FP8_DYNAMIC scheme); weight-only otherwise.",
    )

    @property
    def scheme(self) -> str:
        """How the quantization reads to a person: ``W4A16``, ``FP8_DYNAMIC``, ``awq``...

        Examples
        --------
        >>> CheckpointQuantization(method="compressed-tensors", bits=8, group_size=-1).scheme
        'W8A16'
        """
        if self.method != "compressed-tensors":
            return self.method
        if self.weight_type == "float":
            return "FP8_DYNAMIC" if self.dynamic_activations else f"FP{self.bits}"
        return f"W{self.bits}A{self.bits if self.dynamic_activations else 16}"


class ModelArchitecture(BaseModel):
    """The sizes of a decoder-only transformer that memory and bandwidth depend on.

    Examples
    --------
    >>> arch = ModelArchitecture.from_config({
    ...     "model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30,
    ...     "num_attention_heads": 9, "num_key_value_heads": 3, "intermediate_size": 1536,
    ...     "vocab_size": 49152, "tie_word_embeddings": True,
    ... })
    >>> arch.family, arch.head_dim, arch.num_kv_heads
    ('llama', 64, 3)
    """

    model_config = _FROZEN

    family: Family
    model_type: str
    architectures: tuple[str, ...] = ()
    hidden_size: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate_size: int = Field(gt=0, description="Width of the dense MLP.")
    vocab_size: int = Field(gt=0)
    tie_word_embeddings: bool
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    mlp_matrices: int = Field(default=3, description="3 for a gated MLP (gate, up, down).")
    norms_per_layer: int = Field(default=2, description="Gemma 2/3 and GLM-4-0414 have four.")
    norm_bias: bool = Field(default=False, description="LayerNorm rather than RMSNorm.")
    qk_norm: bool = Field(
        default=False, description="Per-head RMSNorm of q and k (Qwen3, Gemma 3)."
    )
    final_norm: bool = True
    layer_windows: tuple[int | None, ...] = Field(
        description="Per layer: its sliding window in tokens, or None for full attention."
    )
    max_position_embeddings: int | None = None
    latent_attention: LatentAttention | None = None
    experts: MixtureOfExperts | None = None
    checkpoint_quantization: CheckpointQuantization | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ModelArchitecture:
        """Read a Hugging Face ``config.json`` (as a mapping).

        Raises
        ------
        UnsupportedArchitecture
            When neither ``model_type`` nor ``architectures`` names a supported family.
        ValidationError
            When a size the family needs is missing or not a positive integer.
        """
        if not isinstance(config, Mapping):
            raise ValidationError("config: expected a JSON object")
        family = detect_family(config)
        try:
            return _READERS[family](family, config)
        except pydantic.ValidationError as exc:
            # What the readers do not check field by field (a latent rank below the model's
            # own bounds, say) is still the caller's config, not a fault of the advisor.
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
            )
            raise ValidationError(f"config: {problems}") from None

    @property
    def sliding_window_layers(self) -> int:
        """How many layers attend over a sliding window rather than the whole context."""
        return sum(window is not None for window in self.layer_windows)


def detect_family(config: Mapping[str, Any]) -> Family:
    """The family from ``model_type``, else from ``architectures``.

    Examples
    --------
    >>> detect_family({"model_type": "chatglm", "architectures": ["ChatGLMModel"]})
    'chatglm'
    >>> try:
    ...     detect_family({"model_type": "mixtral"})
    ... except UnsupportedArchitecture as error:
    ...     print(error.message[:56])
    config: model_type 'mixtral' is not supported; supported
    """
    model_type = config.get("model_type")
    if isinstance(model_type, str) and model_type in MODEL_TYPES:
        return MODEL_TYPES[model_type]
    architectures = config.get("architectures") or []
    for name in architectures if isinstance(architectures, list) else []:
        if isinstance(name, str) and name in ARCHITECTURES:
            return ARCHITECTURES[name]
    described = f"model_type {model_type!r}" if model_type else "no model_type"
    if architectures:
        described += f" (architectures {', '.join(map(str, architectures))})"
    raise UnsupportedArchitecture(f"config: {described} is not supported; supported: {SUPPORTED}")


def _int(
    config: Mapping[str, Any], *names: str, default: int | None = None, minimum: int = 1
) -> int:
    """The first of ``names`` that ``config`` sets, within ``minimum`` and its limit.

    A missing size takes ``default``, which is checked as well: a derived default (``head_dim``
    from ``hidden_size // num_attention_heads``) can be 0.
    """
    for name in names:
        value = config.get(name)
        if value is None:
            continue
        return _bounded(name, value, minimum)
    if default is None:
        raise ValidationError(f"config: {names[0]} is missing")
    if default < minimum:
        raise ValidationError(
            f"config: {names[0]} is missing, and what it defaults to ({default}) is not "
            f"at least {minimum}"
        )
    return default


def _bounded(name: str, value: object, minimum: int) -> int:
    limit = CONFIG_LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= limit:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else f"{shown[:40]}..."
        raise ValidationError(
            f"config: {name} must be an integer from {minimum} to {limit}, not {shown}"
        )
    return value


def _optional_int(config: Mapping[str, Any], name: str) -> int | None:
    return _int(config, name) if config.get(name) is not None else None


def _flag(config: Mapping[str, Any], name: str, default: bool) -> bool:
    value = config.get(name)
    return default if value is None else bool(value)


def _architectures(config: Mapping[str, Any]) -> tuple[str, ...]:
    names = config.get("architectures") or []
    return tuple(str(name) for name in names) if isinstance(names, list) else ()


def _windows(
    config: Mapping[str, Any], layers: int, sliding: list[bool], window: int | None
) -> tuple[int | None, ...]:
    """Per-layer windows; an explicit ``layer_types`` list (newer configs) wins."""
    layer_types = config.get("layer_types")
    if isinstance(layer_types, list) and len(layer_types) == layers:
        sliding = [kind == "sliding_attention" for kind in layer_types]
    if window is None:
        return (None,) * layers
    return tuple(window if is_sliding else None for is_sliding in sliding)


def _quantization(config: Mapping[str, Any]) -> CheckpointQuantization | None:
    settings = config.get("quantization_config")
    if not isinstance(settings, Mapping):
        return None
    method = str(settings.get("quant_method", "")).lower()
    if method not in CHECKPOINT_QUANTIZATIONS:
        raise ValidationError(
            f"config: quantization_config.quant_method {method!r} is not one the advisor "
            f"sizes; supported: {', '.join(CHECKPOINT_QUANTIZATIONS)} (or an unquantized "
            "checkpoint)"
        )
    if method == "compressed-tensors":
        return _compressed_tensors(settings)
    if method == "fp8":
        block = settings.get("weight_block_size")
        return CheckpointQuantization(
            method="fp8",
            bits=8,
            weight_block_size=(
                _bounded("weight_block_size", block[0], 1),
                _bounded("weight_block_size", block[1], 1),
            )
            if isinstance(block, list) and len(block) == 2
            else None,
        )
    return CheckpointQuantization(
        method="awq" if method == "awq" else "gptq",
        bits=_int(settings, "bits", "w_bit", default=4),
        # GPTQ writes -1 for one group per output channel.
        group_size=_int(settings, "group_size", "q_group_size", default=128, minimum=-1),
    )


def _compressed_tensors(settings: Mapping[str, Any]) -> CheckpointQuantization:
    """A compressed-tensors ``quantization_config``: its groups' weight schemes.

    Where groups differ, the widest weights are taken, so the size is an upper bound. Layers
    in ``ignore`` (``lm_head`` as the quantize_model workflow and llm-compressor leave it) are
    sized at 16 bits like every tensor that is not a decoder linear layer.
    """
    storage = str(settings.get("format", ""))
    if storage not in COMPRESSED_TENSORS_FORMATS:
        raise ValidationError(
            f"config: quantization_config.format {storage!r} is not a compressed-tensors "
            f"format the advisor sizes; supported: {', '.join(sorted(COMPRESSED_TENSORS_FORMATS))}"
        )
    groups = settings.get("config_groups")
    schemes = [
        group
        for group in (groups.values() if isinstance(groups, Mapping) else ())
        if isinstance(group, Mapping) and isinstance(group.get("weights"), Mapping)
    ]
    if not schemes:
        raise ValidationError(
            "config: quantization_config.config_groups names no weights scheme to size"
        )
    widest = max(schemes, key=lambda group: _int(group["weights"], "num_bits", default=16))
    weights: Mapping[str, Any] = widest["weights"]
    strategy = str(weights.get("strategy", "tensor"))
    group_size = {"channel": -1, "tensor": 0}.get(strategy)
    if group_size is None:
        group_size = _int(weights, "group_size", default=128)
    return CheckpointQuantization(
        method="compressed-tensors",
        bits=_int(weights, "num_bits", default=16),
        group_size=group_size,
        weight_type="float" if weights.get("type") == "float" else "int",
        symmetric=weights.get("symmetric", True) is not False,
        dynamic_activations=isinstance(widest.get("input_activations"), Mapping),
    )


def _standard(family: Family, config: Mapping[str, Any]) -> ModelArchitecture:
    """Llama, Mistral, Qwen2/3, the Hugging Face GLM ports and Gemma 1/2/3."""
    notes: list[str] = []
    architectures = _architectures(config)
    if family == "gemma3" and isinstance(config.get("text_config"), Mapping):
        # The multimodal checkpoint: the language model's sizes are under text_config and
        # leave out what equals Gemma3TextConfig's defaults.
        notes.append(
            "multimodal Gemma 3: only the language model is sized from config.json; the vision "
            "tower is counted only when safetensors headers are given"
        )
        config = {**_GEMMA3_TEXT_DEFAULTS, **config["text_config"]}
    hidden = _int(config, "hidden_size")
    layers = _int(config, "num_hidden_layers")
    heads = _int(config, "num_attention_heads")
    kv_heads = _int(config, "num_key_value_heads", default=heads)
    head_dim = _int(config, "head_dim", default=hidden // heads)
    attention_bias = _flag(config, "attention_bias", False)
    window = _optional_int(config, "sliding_window")
    sliding = [True] * layers
    if family in ("qwen2", "qwen3"):
        # Qwen2/3 slide only from max_window_layers up, and only with use_sliding_window.
        first = _int(config, "max_window_layers", default=layers)
        window = window if _flag(config, "use_sliding_window", False) else None
        sliding = [index >= first for index in range(layers)]
    elif family == "gemma2":
        sliding = [index % 2 == 0 for index in range(layers)]
    elif family == "gemma3":
        pattern = _int(config, "sliding_window_pattern", default=6)
        sliding = [(index + 1) % pattern != 0 for index in range(layers)]
    elif family not in ("mistral",):
        window = None if "layer_types" not in config else window
    gemma = family in ("gemma", "gemma2", "gemma3")
    return ModelArchitecture(
        family=family,
        model_type=str(config.get("model_type", family)),
        architectures=architectures,
        hidden_size=hidden,
        num_layers=layers,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=_int(config, "intermediate_size"),
        vocab_size=_int(config, "vocab_size"),
        tie_word_embeddings=_flag(config, "tie_word_embeddings", gemma),
        qkv_bias=family == "qwen2" or attention_bias,
        # Llama's attention_bias covers o_proj too; Qwen's and GLM's cover q, k and v only.
        o_bias=family == "llama" and attention_bias,
        mlp_bias=_flag(config, "mlp_bias", False),
        norms_per_layer=4 if family in ("gemma2", "gemma3", "glm4") else 2,
        qk_norm=family in ("qwen3", "gemma3"),
        layer_windows=_windows(config, layers, sliding, window),
        max_position_embeddings=_optional_int(config, "max_position_embeddings"),
        checkpoint_quantization=_quantization(config),
        notes=tuple(notes),
    )


def _chatglm(family: Family, config: Mapping[str, Any]) -> ModelArchitecture:
    """The original GLM-4 (and ChatGLM3) config of the ``trust_remote_code`` model."""
    heads = _int(config, "num_attention_heads")
    kv_heads = (
        _int(config, "multi_query_group_num")
        if _flag(config, "multi_query_attention", False)
        else heads
    )
    layers = _int(config, "num_layers", "num_hidden_layers")
    linear_bias = _flag(config, "add_bias_linear", False)
    return ModelArchitecture(
        family=family,
        model_type=str(config.get("model_type", family)),
        architectures=_architectures(config),
        hidden_size=_int(config, "hidden_size"),
        num_layers=layers,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=_int(config, "kv_channels"),
        # dense_h_to_4h is one fused matrix of 2 x ffn_hidden_size (gate and up): same count.
        intermediate_size=_int(config, "ffn_hidden_size"),
        vocab_size=_int(config, "padded_vocab_size", "vocab_size"),
        tie_word_embeddings=_flag(config, "tie_word_embeddings", False),
        qkv_bias=_flag(config, "add_qkv_bias", False) or linear_bias,
        o_bias=linear_bias,
        mlp_bias=linear_bias,
        norm_bias=not _flag(config, "rmsnorm", True),
        final_norm=_flag(config, "post_layer_norm", True),
        layer_windows=(None,) * layers,
        max_position_embeddings=_optional_int(config, "seq_length"),
        checkpoint_quantization=_quantization(config),
    )


def _deepseek(family: Family, config: Mapping[str, Any]) -> ModelArchitecture:
    """DeepSeek-V2/V3: latent attention and routed plus shared experts."""
    layers = _int(config, "num_hidden_layers")
    heads = _int(config, "num_attention_heads")
    latent = LatentAttention(
        q_lora_rank=_optional_int(config, "q_lora_rank"),
        kv_lora_rank=_int(config, "kv_lora_rank"),
        qk_nope_head_dim=_int(config, "qk_nope_head_dim"),
        qk_rope_head_dim=_int(config, "qk_rope_head_dim"),
        v_head_dim=_int(config, "v_head_dim"),
    )
    experts = None
    if config.get("n_routed_experts"):
        experts = MixtureOfExperts(
            routed_experts=_int(config, "n_routed_experts"),
            shared_experts=_int(config, "n_shared_experts", default=0, minimum=0),
            experts_per_token=_int(config, "num_experts_per_tok"),
            expert_intermediate_size=_int(config, "moe_intermediate_size"),
            first_dense_layers=_int(config, "first_k_dense_replace", default=0, minimum=0),
            layer_frequency=_int(config, "moe_layer_freq", default=1),
            router_bias=config.get("topk_method") == "noaux_tc",
        )
    notes = []
    if config.get("num_nextn_predict_layers"):
        notes.append(
            "the multi-token-prediction layer(s) (num_nextn_predict_layers) are not counted: "
            "serving loads them only for speculative decoding"
        )
    return ModelArchitecture(
        family=family,
        model_type=str(config.get("model_type", family)),
        architectures=_architectures(config),
        hidden_size=_int(config, "hidden_size"),
        num_layers=layers,
        num_attention_heads=heads,
        num_kv_heads=_int(config, "num_key_value_heads", default=heads),
        head_dim=latent.qk_nope_head_dim + latent.qk_rope_head_dim,
        intermediate_size=_int(config, "intermediate_size"),
        vocab_size=_int(config, "vocab_size"),
        tie_word_embeddings=_flag(config, "tie_word_embeddings", False),
        o_bias=False,
        layer_windows=(None,) * layers,
        max_position_embeddings=_optional_int(config, "max_position_embeddings"),
        latent_attention=latent,
        experts=experts,
        checkpoint_quantization=_quantization(config),
        notes=tuple(notes),
    )


# Gemma3TextConfig's defaults, which the multimodal checkpoints' text_config leaves out.
_GEMMA3_TEXT_DEFAULTS: dict[str, Any] = {
    "model_type": "gemma3_text",
    "vocab_size": 262208,
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "sliding_window": 4096,
    "sliding_window_pattern": 6,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": True,
}

_READERS = {
    "llama": _standard,
    "mistral": _standard,
    "qwen2": _standard,
    "qwen3": _standard,
    "glm": _standard,
    "glm4": _standard,
    "gemma": _standard,
    "gemma2": _standard,
    "gemma3": _standard,
    "chatglm": _chatglm,
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
}

__all__ = [
    "ARCHITECTURES",
    "CONFIG_LIMITS",
    "MODEL_TYPES",
    "SUPPORTED",
    "CheckpointQuantization",
    "Family",
    "LatentAttention",
    "MixtureOfExperts",
    "ModelArchitecture",
    "detect_family",
]
