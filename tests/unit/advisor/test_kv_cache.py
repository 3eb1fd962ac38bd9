"""KV cache per token: grouped-query attention, sliding windows, latent attention, TP ranks."""

from __future__ import annotations

import pytest

from maas.advisor.architecture import ModelArchitecture
from maas.advisor.sizing import (
    kv_bytes_per_sequence,
    kv_bytes_per_token,
    kv_bytes_per_token_at,
)
from tests.unit.advisor.support import architecture, config


def test_grouped_query_attention_caches_only_the_kv_heads() -> None:
    llama = architecture("llama-3.1-8b-instruct")
    # 32 layers x 8 KV heads x 128 x (K and V) x 2 bytes, a quarter of the 32 query heads'.
    assert kv_bytes_per_token(llama) == 32 * 8 * 128 * 2 * 2 == 131072


def test_glm4_caches_two_kv_groups() -> None:
    assert kv_bytes_per_token(architecture("glm-4-9b-chat")) == 40 * 2 * 128 * 2 * 2


def test_a_layer_with_a_sliding_window_holds_at_most_the_window() -> None:
    gemma = architecture("gemma-2-9b")  # every other layer slides over 4096 tokens
    per_layer = 8 * 256 * 2 * 2
    assert gemma.sliding_window_layers == 21
    assert kv_bytes_per_token(gemma) == 42 * per_layer
    assert kv_bytes_per_token_at(gemma, 4096) == 42 * per_layer
    assert kv_bytes_per_sequence(gemma, 8192) == per_layer * (21 * 8192 + 21 * 4096)
    assert kv_bytes_per_token_at(gemma, 8192) == 31.5 * per_layer


def test_gemma3_slides_on_five_layers_of_six() -> None:
    gemma = architecture("gemma-3-1b-it")  # 26 layers, window 512, layers 5, 11, 17, 23 global
    assert [index for index, w in enumerate(gemma.layer_windows) if w is None] == [5, 11, 17, 23]
    per_layer = 1 * 256 * 2 * 2
    context = 32768
    expected = per_layer * (4 * context + 22 * 512) / context
    assert kv_bytes_per_token_at(gemma, context) == pytest.approx(expected)
    assert kv_bytes_per_token(gemma) == 26 * per_layer


def test_mistral_with_a_sliding_window_slides_on_every_layer() -> None:
    mistral = ModelArchitecture.from_config({**config("mistral-7b-v0.3"), "sliding_window": 4096})
    assert kv_bytes_per_token_at(mistral, 8192) == kv_bytes_per_token(mistral) / 2


def test_qwen2_declares_a_window_but_does_not_use_it_by_default() -> None:
    qwen = architecture("qwen2.5-0.5b-instruct")  # sliding_window 32768, use_sliding_window false
    assert qwen.sliding_window_layers == 0


def test_qwen2_with_sliding_windows_slides_from_max_window_layers_up() -> None:
    qwen = ModelArchitecture.from_config(
        {**config("qwen2.5-0.5b-instruct"), "use_sliding_window": True, "sliding_window": 4096}
    )
    assert [w is not None for w in qwen.layer_windows] == [i >= 21 for i in range(24)]


def test_an_explicit_layer_types_list_decides_which_layers_slide() -> None:
    gemma = ModelArchitecture.from_config(
        {
            **config("gemma-2-9b"),
            "layer_types": ["full_attention"] * 40 + ["sliding_attention"] * 2,
        }
    )
    assert gemma.sliding_window_layers == 2


def test_latent_attention_caches_the_latent_and_the_rotary_key() -> None:
    # DeepSeek MLA: (kv_lora_rank + qk_rope_head_dim) per layer per token.
    assert kv_bytes_per_token(architecture("deepseek-v2-lite")) == 27 * (512 + 64) * 2 == 31104
    assert kv_bytes_per_token(architecture("deepseek-v3")) == 61 * (512 + 64) * 2 == 70272


def test_tensor_parallel_ranks_split_kv_heads_and_replicate_them_past_their_number() -> None:
    llama = architecture("llama-3.1-8b-instruct")  # 8 KV heads
    assert kv_bytes_per_token(llama, tensor_parallel=4) == kv_bytes_per_token(llama) // 4
    glm = architecture("glm-4-9b-chat")  # 2 KV heads: TP 8 keeps one head on every rank
    assert kv_bytes_per_token(glm, tensor_parallel=8) == kv_bytes_per_token(glm) // 2


def test_the_latent_cache_is_whole_on_every_rank() -> None:
    lite = architecture("deepseek-v2-lite")
    assert kv_bytes_per_token(lite, tensor_parallel=8) == kv_bytes_per_token(lite)
