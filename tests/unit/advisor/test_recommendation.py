"""The recommendation: what fits, how it ranks, why, and what is said when nothing fits."""

from __future__ import annotations

import json

import pytest

from maas.advisor import ServingRequest, advise
from maas.advisor.recommend import MAX_ROLLING_BATCH
from maas.exceptions import NoInstanceFits, ValidationError
from tests.unit.advisor.support import config

LLAMA_8B = config("llama-3.1-8b-instruct")
REASON_KEYS = {
    "instance_type",
    "tensor_parallel_degree",
    "engine",
    "quantization",
    "max_rolling_batch_size",
}


def request(**fields: object) -> ServingRequest:
    return ServingRequest.model_validate(
        {"context_tokens": 4096, "concurrent_requests": 8, **fields}
    )


def test_the_report_has_the_sizes_and_the_recommendation_as_json() -> None:
    report = advise(LLAMA_8B, request(prompt_tokens=512), model="meta-llama/Llama-3.1-8B-Instruct")
    document = json.loads(json.dumps(report.model_dump(mode="json")))
    assert document["weight_bytes"] == 16_060_522_496
    assert document["kv_bytes_per_token"] == 131_072
    # 8 prompts of 512 tokens: KV + activations + logits + the cuBLAS workspace.
    assert document["prefill_peak_over_weights_bytes"] == (
        8 * 512 * (131_072 + 118_784) + 8 * 128_256 * 2 + 33 * 2**20
    )
    assert document["recommendation"]["instance_type"].startswith("ml.")
    assert document["model"] == "meta-llama/Llama-3.1-8B-Instruct"


def test_by_cost_the_cheapest_per_token_wins_and_the_runners_up_follow_in_order() -> None:
    report = advise(LLAMA_8B, request())
    ranked = [report.recommendation, *report.runners_up]
    costs = [option.cost_per_million_tokens_usd for option in ranked]
    assert costs == sorted(costs)
    assert len(report.runners_up) == 3
    assert len({option.instance_type for option in ranked}) == 4


def test_the_cost_is_the_price_over_the_bandwidth_bound() -> None:
    best = advise(LLAMA_8B, request()).recommendation
    tokens_per_hour = best.decode_tokens_per_s * 3600
    assert best.cost_per_million_tokens_usd == pytest.approx(
        best.price_per_hour_usd / tokens_per_hour * 1e6, rel=1e-3
    )
    # One decode step reads the weights and the 8 sequences' KV cache once (an H100: 3.35 TB/s).
    step = (best.weight_bytes_per_gpu + 8 * best.kv_bytes_per_sequence_per_gpu) / 3350e9
    assert best.instance_type == "ml.p5.4xlarge"
    assert best.decode_step_ms == pytest.approx(step * 1000, rel=1e-3)


def test_every_choice_carries_its_reason() -> None:
    best = advise(LLAMA_8B, request()).recommendation
    # The recommendation also says why it does or does not speculate with a draft model.
    assert set(best.reasons) == {*REASON_KEYS, "speculative_decoding"}
    assert best.reasons["instance_type"].startswith(f"{best.instance_type}: ")
    assert "USD/h (us-east-1 on-demand, " in best.reasons["instance_type"]
    assert "KV heads" in best.reasons["tensor_parallel_degree"]
    assert "option.rolling_batch=vllm" in best.reasons["engine"]
    assert best.reasons["max_rolling_batch_size"].startswith(f"{best.max_rolling_batch_size}: ")


def test_a_bf16_checkpoint_is_recommended_as_stored_whatever_quantizing_would_save() -> None:
    # LMI's vLLM loads AWQ only from an AWQ checkpoint: bf16 weights are served as bf16.
    report = advise(LLAMA_8B, request(preference="cost"))
    options = [report.recommendation, *report.runners_up]
    assert {option.quantization for option in options} == {"none"}
    assert all(option.requires is None for option in options)


def test_a_cheaper_quantization_is_a_proposal_that_names_its_step() -> None:
    report = advise(LLAMA_8B, request(preference="cost"))
    proposal = report.quantized_alternative
    assert proposal is not None
    assert (proposal.quantization, proposal.instance_type) == ("awq", "ml.g5.xlarge")
    assert proposal.cost_per_million_tokens_usd < report.recommendation.cost_per_million_tokens_usd
    assert proposal.requires is not None
    assert proposal.requires.startswith("an AWQ int4 checkpoint (group size 128): quantize")
    # The step that makes it: the quantize_model workflow's command.
    assert "`maas versions quantize <model> <version> --scheme W4A16 --group-size 128`" in (
        proposal.requires
    )
    assert "embeddings and lm_head stay 16-bit" in proposal.reasons["quantization"]
    assert "a proposal, not serving properties" in proposal.reasons["quantization"]
    # The recommendation says what quantizing would save, and what it takes.
    reason = report.recommendation.reasons["quantization"]
    assert reason.startswith("none (bf16, 16.1 GB): the checkpoint as stored; an AWQ version")
    assert "maas versions quantize" in reason


def test_no_proposal_when_quantizing_would_not_rank_first() -> None:
    assert advise(LLAMA_8B, request(preference="latency")).quantized_alternative is None
    assert advise(LLAMA_8B, request(quantizations=("none",))).quantized_alternative is None


def test_full_precision_is_kept_when_it_fits_unless_cost_is_the_preference() -> None:
    report = advise(LLAMA_8B, request(preference="latency"))
    assert {o.quantization for o in [report.recommendation, *report.runners_up]} == {"none"}
    assert "kept unless the preference is cost" in report.recommendation.reasons["quantization"]


def test_latency_on_hopper_picks_tensorrt_llm() -> None:
    best = advise(LLAMA_8B, request(preference="latency")).recommendation
    assert best.accelerator in ("NVIDIA H100", "NVIDIA H200")
    assert best.engine == "trtllm"
    assert best.tensor_parallel_degree > 1


def test_latency_for_a_family_tensorrt_llm_does_not_build_stays_on_vllm() -> None:
    best = advise(config("deepseek-v2-lite"), request(preference="latency")).recommendation
    assert best.engine == "vllm"


def test_only_the_allowed_quantizations_are_considered() -> None:
    best = advise(LLAMA_8B, request(quantizations=("none",))).recommendation
    assert best.quantization == "none"


def test_fp8_is_only_proposed_on_gpus_that_run_it() -> None:
    proposal = advise(LLAMA_8B, request(quantizations=("none", "fp8"))).quantized_alternative
    assert proposal is not None
    assert proposal.quantization == "fp8"
    assert proposal.accelerator in ("NVIDIA L4", "NVIDIA L40S", "NVIDIA H100", "NVIDIA H200")


def test_a_bf16_checkpoint_cannot_be_asked_to_serve_quantized() -> None:
    with pytest.raises(ValidationError) as raised:
        advise(LLAMA_8B, request(quantizations=("fp8",)))
    assert raised.value.message == (
        "quantizations: the checkpoint can be served as none only, not fp8; another format "
        "needs a quantization step first: `maas versions quantize` (the quantize_model "
        "workflow) makes it as a new version"
    )


def test_the_instance_filter_limits_the_candidates() -> None:
    report = advise(LLAMA_8B, request(instance_types=("ml.g6e.xlarge", "ml.g6e.12xlarge")))
    options = [report.recommendation, *report.runners_up]
    assert {o.instance_type for o in options} <= {"ml.g6e.xlarge", "ml.g6e.12xlarge"}


def test_a_tiny_model_goes_on_the_cheapest_gpu_that_holds_it() -> None:
    # At the bandwidth bound alone an H100 would "win"; the per-layer step floor says no.
    best = advise(config("smollm2-135m-instruct"), request()).recommendation
    assert (best.instance_type, best.quantization) == ("ml.g5.xlarge", "none")


def test_tensor_parallelism_must_divide_the_attention_heads() -> None:
    # SmolLM2 has 9 heads: on four GPUs only TP 1 works, as four model workers.
    best = advise(
        config("smollm2-135m-instruct"), request(instance_types=("ml.g5.12xlarge",))
    ).recommendation
    assert (best.tensor_parallel_degree, best.workers) == (1, 4)
    assert "LMI runs 4 model workers" in best.reasons["tensor_parallel_degree"]


def test_the_rolling_batch_is_what_the_kv_cache_holds_capped_at_vllms_default() -> None:
    # An L40S's 48 GB hold about 430 of SmolLM2's 4096-token sequences.
    best = advise(
        config("smollm2-135m-instruct"), request(instance_types=("ml.g6e.xlarge",))
    ).recommendation
    assert best.max_rolling_batch_size == MAX_ROLLING_BATCH
    assert "capped at vLLM's default max_num_seqs of 256" in best.reasons["max_rolling_batch_size"]


def test_an_fp8_checkpoint_is_served_as_fp8_on_h200s() -> None:
    best = advise(config("deepseek-v3"), request(concurrent_requests=1)).recommendation
    assert (best.quantization, best.accelerator, best.tensor_parallel_degree) == (
        "fp8",
        "NVIDIA H200",
        8,
    )
    assert best.price_is_estimate


def test_a_smaller_instance_filter_names_the_cheapest_that_would_serve() -> None:
    with pytest.raises(NoInstanceFits) as raised:
        advise(LLAMA_8B, request(instance_types=("ml.g5.xlarge",), quantizations=("none",)))
    assert raised.value.message == (
        "none of ml.g5.xlarge can serve 8 sequence(s) of 4096 tokens (ml.g5.xlarge (TP 1): "
        "holds 6 sequences of 4096 tokens, fewer than the 8 requested); the cheapest instance "
        "that can is ml.g6e.xlarge (TP 1)"
    )
    assert raised.value.error_name == "Maas.NoInstanceFits"
    assert isinstance(raised.value, ValidationError)


def test_a_model_too_big_unquantized_is_told_the_cheapest_quantization_that_fits() -> None:
    v3_bf16 = {k: v for k, v in config("deepseek-v3").items() if k != "quantization_config"}
    with pytest.raises(NoInstanceFits) as raised:
        advise(v3_bf16, request(concurrent_requests=1, quantizations=("none",)))
    assert raised.value.message == (
        "no instance serves 1 sequence(s) of 4096 tokens without quantization; with awq it "
        "fits on ml.p4de.24xlarge (TP 8, awq), but that needs an AWQ int4 checkpoint (group "
        "size 128): quantize this one as a new version; `maas versions quantize <model> "
        "<version> --scheme W4A16 --group-size 128` (the quantize_model workflow) makes an int4 "
        "version of about this size by round-to-nearest and measures its perplexity change; AWQ "
        "itself calibrates on a GPU (llm-compressor or AutoAWQ), or package a published -AWQ "
        "repository as a new version"
    )


def test_a_request_beyond_every_instance_says_the_most_one_holds() -> None:
    with pytest.raises(NoInstanceFits) as raised:
        advise(LLAMA_8B, request(context_tokens=131072, concurrent_requests=4096))
    assert raised.value.message.startswith(
        "no instance in the catalog holds 4096 sequence(s) of 131072 tokens; the most is "
    )


def test_a_model_nothing_holds_says_so() -> None:
    giant = {
        **LLAMA_8B,
        "hidden_size": 32768,
        "intermediate_size": 131072,
        "num_hidden_layers": 200,
        "num_attention_heads": 256,
    }
    with pytest.raises(NoInstanceFits) as raised:
        advise(giant, request(concurrent_requests=1))
    assert raised.value.message.startswith("nothing in the catalog can hold it: its weights take ")
    assert "the largest instance, ml.p5e.48xlarge, has 1085 GB usable" in raised.value.message


def test_a_context_beyond_the_model_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=r"^context_tokens: 16384 exceeds the model's context"
    ):
        advise(config("gemma-2-9b"), request(context_tokens=16384))


def test_an_unknown_or_non_gpu_instance_type_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match=r"^instance_types: unknown instance type"):
        advise(LLAMA_8B, request(instance_types=("ml.g99.xlarge",)))
    with pytest.raises(ValidationError, match=r"^instance_types: ml.inf2.xlarge is not a GPU"):
        advise(LLAMA_8B, request(instance_types=("ml.inf2.xlarge",)))


def test_a_quantized_checkpoint_cannot_be_asked_to_serve_unquantized() -> None:
    with pytest.raises(
        ValidationError, match=r"^quantizations: the checkpoint can be served as fp8"
    ):
        advise(config("deepseek-v3"), request(quantizations=("none",)))


def test_notes_explain_windows_latent_attention_and_experts() -> None:
    gemma = advise(config("gemma-2-9b"), request(context_tokens=8192))
    assert any("21 of 42 layers attend over a sliding window" in n for n in gemma.notes)
    lite = advise(config("deepseek-v2-lite"), request())
    assert any(n.startswith("latent attention (MLA)") for n in lite.notes)
    assert any(n.startswith("mixture of experts") for n in lite.notes)


def test_a_gptq_checkpoint_is_served_as_gptq_without_being_asked() -> None:
    gptq = {
        **config("qwen2.5-0.5b-instruct"),
        "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128},
    }
    report = advise(gptq, request())
    assert report.recommendation.quantization == "gptq"
    # TP 4 would split the 4864-wide MLP input into 1216 columns: not whole groups of 128.
    assert report.recommendation.tensor_parallel_degree in (1, 2)


def test_a_candidate_that_cannot_run_is_not_the_near_miss_named() -> None:
    # FP8 on an A10G cannot run at all, so the message names the bf16 candidate's shortfall.
    with pytest.raises(NoInstanceFits) as raised:
        advise(LLAMA_8B, request(instance_types=("ml.g5.xlarge",), quantizations=("none", "fp8")))
    assert "(ml.g5.xlarge (TP 1): holds 6 sequences" in raised.value.message
