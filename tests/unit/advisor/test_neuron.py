"""Inferentia2 and Trainium: sized over their NeuronCores and priced beside the GPUs.

The figures are AWS's: an Inferentia2 chip holds two NeuronCore-v2 and 32 GiB of HBM at
820 GB/s (https://awsdocs-neuron.readthedocs-hosted.com/en/latest/general/arch/
neuron-hardware/inferentia2.html), a Trainium (trn1) chip the same (.../trainium.html);
inf2.xlarge and inf2.8xlarge have one chip, inf2.24xlarge six, inf2.48xlarge twelve
(https://aws.amazon.com/ec2/instance-types/inf2/); trn1.2xlarge one, trn1.32xlarge sixteen
(https://aws.amazon.com/ec2/instance-types/trn1/).
"""

from __future__ import annotations

import pytest

from maas.advisor import ServingRequest, advise, serving_properties
from maas.advisor.recommend import NEURON_COMPILATION_STEP, neuron_instances
from maas.exceptions import ValidationError
from maas.instances import get_instance_type
from maas.local.sagemaker import hosting_instance_types
from tests.unit.advisor.support import config

GIB = 2**30
#: NeuronCore-v2s per instance: two per chip.
CORES = {
    "ml.inf2.xlarge": 2,
    "ml.inf2.8xlarge": 2,
    "ml.inf2.24xlarge": 12,
    "ml.inf2.48xlarge": 24,
    "ml.trn1.2xlarge": 2,
    "ml.trn1.32xlarge": 32,
}
REQUEST = ServingRequest(context_tokens=4096, concurrent_requests=8)
LLAMA_70B = {
    **config("llama-3.1-8b-instruct"),
    "hidden_size": 8192,
    "intermediate_size": 28672,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
}


def test_every_inf2_and_trn1_type_is_seen_as_its_neuroncores_of_16_gib() -> None:
    views = {view.instance_type: view for view in neuron_instances()}
    assert {name: view.accelerator_count for name, view in views.items()} == CORES
    for name, view in views.items():
        chip = get_instance_type(name)
        assert (chip.accelerator_memory_gib, chip.accelerator_memory_bandwidth_gbps) == (32, 820)
        assert (view.accelerator_memory_mib or 0) * 2**20 == 16 * GIB
        assert view.accelerator_memory_bandwidth_gbps == 410
        assert (view.accelerator or "").endswith("NeuronCore-v2")
        assert view.price_per_hour_usd and view.price_is_estimate


def test_every_neuron_type_priced_is_a_sagemaker_hosting_type() -> None:
    assert set(CORES) <= hosting_instance_types()


def test_a_small_model_is_priced_on_inferentia2_beside_its_gpu_recommendation() -> None:
    report = advise(config("llama-3.2-1b-instruct"), REQUEST)
    neuron = report.neuron_alternative
    assert neuron is not None
    assert report.recommendation.accelerator.startswith("NVIDIA")
    assert (neuron.instance_type, neuron.engine, neuron.quantization) == (
        "ml.inf2.xlarge",
        "neuronx",
        "none",
    )
    # Priced the same way as a GPU: the instance-hour over the bandwidth-bound tokens.
    assert neuron.cost_per_million_tokens_usd == pytest.approx(
        neuron.price_per_hour_usd / (neuron.decode_tokens_per_s * 3600) * 1e6, rel=1e-3
    )
    assert neuron.cost_per_million_tokens_usd < report.recommendation.cost_per_million_tokens_usd
    assert "LMI NeuronX (the djl-neuronx image)" in neuron.reasons["engine"]
    assert "16.0 GiB, 410 GB/s each" in neuron.reasons["instance_type"]


def test_tensor_parallelism_splits_a_large_model_over_neuroncores() -> None:
    # 70B in bf16 is 141 GB: nine 16 GiB cores at the least, and TP must divide the 64 heads.
    neuron = advise(LLAMA_70B, REQUEST).neuron_alternative
    assert neuron is not None
    assert neuron.instance_type in ("ml.inf2.48xlarge", "ml.trn1.32xlarge")
    assert neuron.tensor_parallel_degree == 16
    assert neuron.gpus == CORES[neuron.instance_type]
    assert neuron.weight_bytes_per_gpu < 16 * GIB
    assert "split over 16 NeuronCore-v2s" in neuron.reasons["tensor_parallel_degree"]


def test_an_8b_model_is_not_put_on_an_inf2_xlarges_16_gib_host() -> None:
    neuron = advise(config("llama-3.1-8b-instruct"), REQUEST).neuron_alternative
    assert neuron is not None
    assert neuron.instance_type != "ml.inf2.xlarge"
    assert neuron.tensor_parallel_degree >= 2  # 16 GB of weights exceed one core's 16 GiB


def test_the_neuron_alternative_needs_compilation_and_is_never_written() -> None:
    neuron = advise(config("qwen2.5-0.5b-instruct"), REQUEST).neuron_alternative
    assert neuron is not None
    assert neuron.requires == NEURON_COMPILATION_STEP
    assert NEURON_COMPILATION_STEP.endswith(
        "validates the configuration (maas.advisor.check_neuron_compilation) and stops there: "
        "compiling needs Neuron hardware"
    )
    # What it would compile, and an estimated time that says it is an allowance.
    compilation = neuron.neuron_compilation
    assert compilation is not None
    assert compilation.tensor_parallel_degree == neuron.tensor_parallel_degree
    assert compilation.buckets == [128, 256, 512, 1024, 2048, 4096]
    assert compilation.graphs == 12
    assert 120 < compilation.estimated_compile_seconds < 600
    assert compilation.estimate_basis.startswith("an allowance, not a measurement")
    assert "option.n_positions=4096" in compilation.serving_properties
    assert not compilation.runs_here
    with pytest.raises(
        ValidationError,
        match=r"^serving properties: neuronx on ml.inf2.xlarge \(none\) needs the model",
    ):
        serving_properties(neuron)


def test_families_nxd_inference_does_not_serve_and_quantized_checkpoints_get_none() -> None:
    assert advise(config("gemma-2-9b"), REQUEST).neuron_alternative is None
    awq = {
        **config("llama-3.2-1b-instruct"),
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128},
    }
    assert advise(awq, REQUEST).neuron_alternative is None


def test_a_neuron_type_in_the_instance_filter_is_refused_saying_where_it_is_priced() -> None:
    with pytest.raises(ValidationError) as raised:
        advise(
            config("llama-3.2-1b-instruct"),
            REQUEST.model_copy(update={"instance_types": ("ml.inf2.xlarge",)}),
        )
    assert "inf2 and trn1 are priced as the neuron_alternative" in raised.value.message
