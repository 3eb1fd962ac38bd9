"""The Neuron compilation step without Neuron hardware: the configuration is validated, and a
valid one is answered with what compiling it takes and that it needs Neuron hardware."""

from __future__ import annotations

from typing import Any

import pytest

from maas.advisor import check_neuron_compilation
from maas.exceptions import ValidationError
from tests.unit.advisor.support import config
from tests.unit.packaging.test_serving_plan import compressed_tensors_config

LLAMA_1B = config("llama-3.2-1b-instruct")
LLAMA_8B = config("llama-3.1-8b-instruct")


def check(model: dict[str, Any], **settings: Any) -> Any:
    defaults: dict[str, Any] = {
        "instance_type": "ml.inf2.xlarge",
        "tensor_parallel_degree": 2,
        "batch_size": 4,
        "sequence_length": 4096,
    }
    return check_neuron_compilation(model, **{**defaults, **settings})


def test_a_valid_configuration_says_it_needs_neuron_hardware() -> None:
    plan = check(LLAMA_1B)
    assert plan.runs_here is False
    assert plan.message.startswith("compiling it needs Neuron hardware")
    assert "inf2 or trn1" in plan.message
    assert (plan.tensor_parallel_degree, plan.batch_size, plan.sequence_length) == (2, 4, 4096)
    assert plan.graphs == 2 * len(plan.buckets) == 12
    assert plan.estimate_basis.startswith("an allowance, not a measurement")
    assert plan.serving_properties.splitlines()[:4] == [
        "engine=Python",
        "option.entryPoint=djl_python.transformers_neuronx",
        "option.rolling_batch=auto",
        "option.tensor_parallel_degree=2",
    ]


def test_an_8b_model_compiles_for_a_trn1_32xlarge_and_takes_longer() -> None:
    small = check(LLAMA_1B)
    large = check(LLAMA_8B, instance_type="ml.trn1.32xlarge", tensor_parallel_degree=8)
    assert large.estimated_compile_seconds > small.estimated_compile_seconds


@pytest.mark.parametrize(
    ("model", "settings", "problem"),
    [
        (config("gemma-2-9b"), {}, "the gemma2 family has no NxD Inference model code"),
        (
            {**LLAMA_1B, "quantization_config": compressed_tensors_config("W8A16")},
            {},
            "the checkpoint is quantized (W8A16)",
        ),
        (LLAMA_1B, {"instance_type": "ml.g5.xlarge"}, "ml.g5.xlarge is not an Inferentia2"),
        (LLAMA_1B, {"tensor_parallel_degree": 3}, "tensor_parallel_degree 3 is not one of"),
        (LLAMA_1B, {"tensor_parallel_degree": 8}, "exceeds the 2 NeuronCores of ml.inf2.xlarge"),
        (LLAMA_1B, {"sequence_length": 262144}, "sequence_length 262144 exceeds the model's"),
        (
            LLAMA_8B,
            {"instance_type": "ml.trn1.2xlarge", "tensor_parallel_degree": 1},
            "on ml.trn1.2xlarge at TP 1: the weights",
        ),
        (
            LLAMA_8B,
            {"instance_type": "ml.inf2.xlarge"},
            "the host's 16 GiB cannot hold the 16.1 GB of weights",
        ),
        (
            LLAMA_1B,
            {"instance_type": "ml.inf2.48xlarge", "tensor_parallel_degree": 24},
            "TP 24 does not divide the 32 attention heads",
        ),
    ],
)
def test_a_configuration_that_cannot_compile_is_refused_with_its_reason(
    model: dict[str, Any], settings: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=r"^neuron compilation: ") as refused:
        check(model, **settings)
    assert problem in refused.value.message


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as refused:
        check(config("gemma-2-9b"), instance_type="ml.p5.4xlarge", tensor_parallel_degree=3)
    assert refused.value.message.count("; ") == 2
