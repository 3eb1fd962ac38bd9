"""Each supported family is read from its own config layout and counts its published size."""

from __future__ import annotations

import pytest

from maas.advisor.architecture import ModelArchitecture
from maas.advisor.sizing import active_parameter_count, parameter_count
from maas.exceptions import UnsupportedArchitecture, ValidationError
from tests.unit.advisor.support import architecture, config

#: Parameter counts the model cards (or the Hub's safetensors summary) publish.
PUBLISHED = {
    "glm-4-9b-chat": 9.4e9,
    "glm-4-9b-0414": 9.4e9,
    "gemma-2-9b": 9.24e9,
    "gemma-3-1b-it": 1.0e9,
    "mistral-7b-v0.3": 7.248e9,
    "deepseek-v2-lite": 15.7e9,
    "deepseek-v3": 671e9,
    "smollm2-135m-instruct": 134.5e6,
    "qwen3-0.6b": 0.596e9,
    "qwen2.5-0.5b-instruct": 0.494e9,
    "llama-3.2-1b-instruct": 1.236e9,
    "llama-3.1-8b-instruct": 8.03e9,
}

FAMILIES = {
    "glm-4-9b-chat": "chatglm",
    "glm-4-9b-0414": "glm4",
    "gemma-2-9b": "gemma2",
    "gemma-3-1b-it": "gemma3",
    "mistral-7b-v0.3": "mistral",
    "deepseek-v2-lite": "deepseek_v2",
    "deepseek-v3": "deepseek_v3",
    "smollm2-135m-instruct": "llama",
    "qwen3-0.6b": "qwen3",
    "qwen2.5-0.5b-instruct": "qwen2",
    "llama-3.2-1b-instruct": "llama",
    "llama-3.1-8b-instruct": "llama",
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_count_matches_the_published_count_within_1_percent(name: str) -> None:
    assert parameter_count(architecture(name)) == pytest.approx(PUBLISHED[name], rel=0.01)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_family_comes_from_model_type(name: str) -> None:
    assert architecture(name).family == FAMILIES[name]


def test_the_family_falls_back_to_architectures_when_model_type_is_custom() -> None:
    custom = {**config("mistral-7b-v0.3"), "model_type": "my-mistral"}
    assert ModelArchitecture.from_config(custom).family == "mistral"


def test_the_original_glm4_config_reads_its_own_names() -> None:
    glm = architecture("glm-4-9b-chat")
    assert (glm.num_layers, glm.num_kv_heads, glm.head_dim, glm.intermediate_size) == (
        40,
        2,
        128,
        13696,
    )
    assert glm.vocab_size == 151552
    assert glm.qkv_bias
    assert not glm.o_bias
    assert glm.max_position_embeddings == 131072


def test_the_hugging_face_port_of_glm4_counts_the_same_as_the_original() -> None:
    # THUDM/glm-4-9b-chat-hf: the same weights under GlmForCausalLM's names.
    port = {
        "architectures": ["GlmForCausalLM"],
        "model_type": "glm",
        "attention_bias": True,
        "head_dim": 128,
        "hidden_size": 4096,
        "intermediate_size": 13696,
        "max_position_embeddings": 131072,
        "num_attention_heads": 32,
        "num_hidden_layers": 40,
        "num_key_value_heads": 2,
        "partial_rotary_factor": 0.5,
        "tie_word_embeddings": False,
        "vocab_size": 151552,
    }
    original = architecture("glm-4-9b-chat")
    assert parameter_count(ModelArchitecture.from_config(port)) == parameter_count(original)


def test_glm4_0414_adds_two_norms_per_layer() -> None:
    newer, original = architecture("glm-4-9b-0414"), architecture("glm-4-9b-chat")
    assert parameter_count(newer) - parameter_count(original) == 2 * 40 * 4096


def test_qwen2_has_qkv_biases_and_qwen3_has_qk_norms_instead() -> None:
    qwen2, qwen3 = architecture("qwen2.5-0.5b-instruct"), architecture("qwen3-0.6b")
    assert (qwen2.qkv_bias, qwen2.qk_norm) == (True, False)
    assert (qwen3.qkv_bias, qwen3.qk_norm) == (False, True)
    # Qwen3-0.6B's card: 0.44B parameters besides the (tied) embedding.
    embedding = qwen3.vocab_size * qwen3.hidden_size
    assert parameter_count(qwen3) - embedding == pytest.approx(0.44e9, rel=0.01)


def test_tied_embeddings_are_counted_once() -> None:
    tied = architecture("llama-3.2-1b-instruct")
    untied = ModelArchitecture.from_config(
        {**config("llama-3.2-1b-instruct"), "tie_word_embeddings": False}
    )
    assert parameter_count(untied) - parameter_count(tied) == 128256 * 2048


def test_gemma_ties_embeddings_by_default_and_keeps_its_explicit_head_dim() -> None:
    gemma = architecture("gemma-2-9b")
    assert gemma.tie_word_embeddings
    assert gemma.head_dim == 256  # not hidden_size / heads = 224


def test_a_multimodal_gemma3_is_sized_from_its_text_config() -> None:
    multimodal = {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "model_type": "gemma3",
        "text_config": {
            "head_dim": 128,
            "hidden_size": 5376,
            "intermediate_size": 21504,
            "model_type": "gemma3_text",
            "num_attention_heads": 32,
            "num_hidden_layers": 62,
            "num_key_value_heads": 16,
            "query_pre_attn_scalar": 168,
            "sliding_window": 1024,
        },
        "vision_config": {"model_type": "siglip_vision_model"},
    }
    gemma = ModelArchitecture.from_config(multimodal)
    assert gemma.family == "gemma3"
    assert gemma.vocab_size == 262208  # Gemma3TextConfig's default, left out of text_config
    assert gemma.sliding_window_layers == 62 - 62 // 6
    # Gemma 3 27B: 27.4B with its 0.4B vision tower, which config.json alone does not size.
    assert parameter_count(gemma) == pytest.approx(27.0e9, rel=0.01)
    assert any("vision tower" in note for note in gemma.notes)


def test_deepseek_counts_routed_and_shared_experts_and_dense_first_layers() -> None:
    lite = architecture("deepseek-v2-lite")
    assert lite.experts is not None
    assert (lite.experts.routed_experts, lite.experts.shared_experts) == (64, 2)
    assert [lite.experts.is_moe_layer(index) for index in range(3)] == [False, True, True]
    v3 = architecture("deepseek-v3")
    # DeepSeek-V3: 671B in all, 37B active per token (the paper's figures).
    assert active_parameter_count(v3) == pytest.approx(37e9, rel=0.02)
    assert any("multi-token-prediction" in note for note in v3.notes)


def test_an_unsupported_architecture_names_itself_and_the_supported_ones() -> None:
    mixtral = {"model_type": "mixtral", "architectures": ["MixtralForCausalLM"]}
    with pytest.raises(UnsupportedArchitecture) as raised:
        ModelArchitecture.from_config(mixtral)
    message = raised.value.message
    assert message.startswith(
        "config: model_type 'mixtral' (architectures MixtralForCausalLM) is not supported; "
        "supported: Llama (llama), Mistral (mistral), Qwen2 (qwen2), Qwen3 (qwen3), GLM-4"
    )
    assert "DeepSeek-V2/V3" in message
    assert isinstance(raised.value, ValidationError)
    assert raised.value.error_name == "Maas.UnsupportedArchitecture"


def test_a_config_without_model_type_or_architectures_is_unsupported() -> None:
    with pytest.raises(UnsupportedArchitecture, match=r"^config: no model_type is not supported"):
        ModelArchitecture.from_config({"hidden_size": 8})


def test_a_missing_size_is_named() -> None:
    broken = {key: value for key, value in config("mistral-7b-v0.3").items() if key != "vocab_size"}
    with pytest.raises(ValidationError, match=r"^config: vocab_size is missing$"):
        ModelArchitecture.from_config(broken)


def test_a_size_that_is_not_a_positive_integer_is_refused() -> None:
    broken = {**config("mistral-7b-v0.3"), "num_hidden_layers": "32"}
    with pytest.raises(ValidationError, match="num_hidden_layers must be an integer from 1 to"):
        ModelArchitecture.from_config(broken)


@pytest.mark.parametrize(
    ("name", "fixture", "value"),
    [
        ("num_hidden_layers", "mistral-7b-v0.3", 1_000_000_000),
        ("hidden_size", "mistral-7b-v0.3", 2**40),
        ("vocab_size", "gemma-3-1b-it", 10**12),
        ("num_layers", "glm-4-9b-chat", 10**6),
        ("n_routed_experts", "deepseek-v3", 10**7),
        ("first_k_dense_replace", "deepseek-v3", "3"),
    ],
)
def test_a_size_past_every_real_checkpoint_is_refused_by_name(
    name: str, fixture: str, value: object
) -> None:
    # The API sizes configs that callers send: a billion layers would be a billion windows.
    broken = {**config(fixture), name: value}
    with pytest.raises(ValidationError, match=f"config: {name} must be an integer from"):
        ModelArchitecture.from_config(broken)


def test_a_derived_size_of_zero_is_refused_not_passed_on() -> None:
    broken = {**config("mistral-7b-v0.3"), "hidden_size": 8, "num_attention_heads": 32}
    broken.pop("head_dim", None)
    with pytest.raises(ValidationError, match="head_dim is missing"):
        ModelArchitecture.from_config(broken)


def test_an_unknown_checkpoint_quantization_is_refused() -> None:
    bnb = {**config("mistral-7b-v0.3"), "quantization_config": {"quant_method": "bitsandbytes"}}
    with pytest.raises(ValidationError, match="quant_method 'bitsandbytes' is not one"):
        ModelArchitecture.from_config(bnb)
