"""Speculative decoding with a published draft model: chosen where it fits and pays, counted in
the memory, written as LMI's vLLM ``option.speculative_config``, its gain an estimate."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from maas.advisor import ServingRequest, advise, serving_properties
from maas.advisor.sizing import kv_bytes_per_sequence, weight_bytes
from maas.advisor.speculative import (
    ASSUMED_ACCEPTANCE_RATE,
    PUBLISHED_DRAFTS,
    best_length,
    estimated_speedup,
)
from tests.unit.advisor.support import config

#: Qwen/Qwen3-8B's config.json (https://huggingface.co/Qwen/Qwen3-8B), the fields sized.
QWEN3_8B: dict[str, Any] = {
    **config("qwen3-0.6b"),
    "hidden_size": 4096,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "intermediate_size": 12288,
    "tie_word_embeddings": False,
    "max_window_layers": 36,
}
#: Qwen/Qwen2.5-7B-Instruct's: its vocabulary is padded to 152,064.
QWEN25_7B: dict[str, Any] = {
    **config("qwen2.5-0.5b-instruct"),
    "hidden_size": 3584,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "intermediate_size": 18944,
    "vocab_size": 152064,
    "tie_word_embeddings": False,
    "max_window_layers": 28,
}
BUNDLED_DRAFTS = {
    "Qwen/Qwen3-0.6B": "qwen3-0.6b",
    "Qwen/Qwen2.5-0.5B-Instruct": "qwen2.5-0.5b-instruct",
    "meta-llama/Llama-3.2-1B-Instruct": "llama-3.2-1b-instruct",
}


@pytest.mark.parametrize("draft", PUBLISHED_DRAFTS, ids=lambda draft: draft.model_id)
def test_each_draft_in_the_table_is_its_published_configuration(draft: Any) -> None:
    published = config(BUNDLED_DRAFTS[draft.model_id])
    assert {key: published[key] for key in draft.config} == draft.config
    assert draft.card == f"https://huggingface.co/{draft.model_id}"
    assert draft.architecture.family == draft.family


def test_a_family_with_a_published_draft_speculates_at_a_low_batch() -> None:
    report = advise(QWEN3_8B, ServingRequest(context_tokens=4096, concurrent_requests=1))
    best = report.recommendation
    speculation = best.speculative_decoding
    assert speculation is not None
    assert speculation.draft_model == "Qwen/Qwen3-0.6B"
    assert speculation.draft_model_card == "https://huggingface.co/Qwen/Qwen3-0.6B"
    # The draft's weights and KV cache are counted on each GPU beside the model's.
    draft = PUBLISHED_DRAFTS[0].architecture
    tp = best.tensor_parallel_degree
    assert speculation.draft_weight_bytes_per_gpu == round(weight_bytes(draft) / tp)
    assert speculation.draft_kv_bytes_per_sequence_per_gpu == kv_bytes_per_sequence(
        draft, 4096, tensor_parallel=tp
    )
    target_kv = best.kv_bytes_per_sequence_per_gpu - speculation.draft_kv_bytes_per_sequence_per_gpu
    assert target_kv == report.kv_bytes_per_sequence // tp
    held = math.floor(best.kv_cache_bytes_per_gpu / best.kv_bytes_per_sequence_per_gpu)
    assert best.max_concurrent_sequences == held * best.workers
    # The gain is the published formula's at the assumed acceptance rate: an estimate.
    assert speculation.assumed_acceptance_rate == ASSUMED_ACCEPTANCE_RATE
    assert speculation.estimated_speedup > 1.2
    assert speculation.estimate_source.startswith("estimate, not a measurement: Leviathan")
    assert "(an estimate, not a measurement" in best.reasons["speculative_decoding"]
    assert speculation.estimated_decode_tokens_per_s == pytest.approx(
        best.decode_tokens_per_s * speculation.estimated_speedup, rel=0.01
    )
    # Written as LMI passes vLLM's engine argument through.
    written = dict(
        line.split("=", 1) for line in serving_properties(best).splitlines() if "=" in line
    )
    assert json.loads(written["option.speculative_config"]) == {
        "model": "Qwen/Qwen3-0.6B",
        "num_speculative_tokens": speculation.num_speculative_tokens,
    }
    assert written["option.rolling_batch"] == "vllm"


@pytest.mark.parametrize(
    ("model", "request_", "why"),
    [
        (
            QWEN3_8B,
            ServingRequest(context_tokens=4096, concurrent_requests=64),
            "sequences per worker is past the 8 where drafting pays",
        ),
        (
            QWEN3_8B,
            ServingRequest(context_tokens=4096, concurrent_requests=4),
            "would leave room for 2 of the 4 sequences",
        ),
        (
            QWEN3_8B,
            ServingRequest(context_tokens=4096, preference="latency"),
            "speculation is proposed for the vLLM engine only",
        ),
        (
            config("llama-3.1-8b-instruct"),
            ServingRequest(),
            "it is gated: the endpoint fetches the draft from the Hub",
        ),
        (QWEN25_7B, ServingRequest(), "vocabulary (151,936) is not this model's (152,064)"),
        (config("qwen3-0.6b"), ServingRequest(), "only 1.0 times smaller"),
        (config("gemma-2-9b"), ServingRequest(), "no published draft model for the gemma2"),
    ],
)
def test_no_draft_is_chosen_where_it_would_not_fit_pay_or_load(
    model: dict[str, Any], request_: ServingRequest, why: str
) -> None:
    best = advise(model, request_).recommendation
    assert best.speculative_decoding is None
    assert why in best.reasons["speculative_decoding"]
    assert "option.speculative_config" not in serving_properties(best)


def test_the_estimate_is_leviathan_et_al_theorem_3_8() -> None:
    # A perfect draft that costs nothing yields k + 1 tokens per step.
    assert estimated_speedup(0.999999, 4, 0.0) == pytest.approx(5, rel=1e-4)
    # A draft that is never accepted only costs time.
    assert estimated_speedup(0.0, 4, 0.1) == pytest.approx(1 / 1.4)
    # The cheaper the draft, the longer the best speculation.
    assert best_length(0.02)[0] > best_length(0.2)[0]
