"""``serving.properties`` for the LMI container, from a recommendation."""

from __future__ import annotations

import pytest

from maas.advisor import ServingRequest, advise, serving_properties
from maas.exceptions import ValidationError
from tests.unit.advisor.support import config


def test_an_unquantized_recommendation_renders_the_vllm_back_end() -> None:
    report = advise(
        config("llama-3.1-8b-instruct"),
        ServingRequest(context_tokens=8192, concurrent_requests=8, quantizations=("none",)),
    )
    best = report.recommendation
    assert serving_properties(best) == (
        "engine=Python\n"
        "option.rolling_batch=vllm\n"
        f"option.tensor_parallel_degree={best.tensor_parallel_degree}\n"
        f"option.max_rolling_batch_size={best.max_rolling_batch_size}\n"
        "option.max_model_len=8192\n"
        "option.dtype=bf16\n"
    )


def test_a_quantized_tensorrt_llm_recommendation_pins_its_revision() -> None:
    report = advise(
        config("llama-3.1-8b-instruct"),
        ServingRequest(concurrent_requests=8, preference="latency"),
    )
    best = report.recommendation.model_copy(update={"quantization": "fp8"})
    text = serving_properties(best, revision="0e9e39f249a16976918f6564b8830bc894c89659")
    assert "option.rolling_batch=trtllm\n" in text
    assert "option.quantize=fp8\n" in text
    assert text.endswith("option.revision=0e9e39f249a16976918f6564b8830bc894c89659\n")


def test_a_model_id_is_written_when_given() -> None:
    report = advise(config("smollm2-135m-instruct"), ServingRequest())
    text = serving_properties(report.recommendation, model_id="HuggingFaceTB/SmolLM2-135M-Instruct")
    assert text.splitlines()[:2] == [
        "engine=Python",
        "option.model_id=HuggingFaceTB/SmolLM2-135M-Instruct",
    ]


def test_a_proposal_that_needs_a_quantization_step_is_never_written() -> None:
    # LMI's vLLM loads AWQ only from an AWQ checkpoint; this one is bf16.
    proposal = advise(config("llama-3.1-8b-instruct"), ServingRequest()).quantized_alternative
    assert proposal is not None
    with pytest.raises(
        ValidationError,
        match=r"^serving properties: vllm on ml.g5.xlarge \(awq\) needs an AWQ int4",
    ):
        serving_properties(proposal)


def test_a_checkpoint_quantized_with_awq_is_written_with_option_quantize() -> None:
    awq = {
        **config("llama-3.1-8b-instruct"),
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128},
    }
    text = serving_properties(advise(awq, ServingRequest()).recommendation)
    assert "option.quantize=awq\n" in text


def test_a_bf16_checkpoint_is_written_without_option_quantize() -> None:
    text = serving_properties(
        advise(config("llama-3.1-8b-instruct"), ServingRequest()).recommendation
    )
    assert "option.quantize" not in text
