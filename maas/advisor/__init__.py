"""The serving-size advisor: from a model's ``config.json`` to how to serve it on SageMaker.

It computes the parameter count and weight bytes (bf16, fp8, int8, int4), the KV cache per
token (grouped-query attention, sliding windows, latent attention), the prefill memory peak,
the memory each instance leaves for the KV cache and the decode bound from HBM bandwidth, and
recommends an instance type, tensor-parallel degree, LMI engine, quantization, rolling batch
and (where the family has a published draft) speculative decoding, ranked by cost per million
tokens or by latency, with the reason for each choice; Inferentia2 and Trainium are priced
beside the GPUs, with the Neuron compilation they need (:func:`check_neuron_compilation`).

Examples
--------
>>> from maas.advisor import ServingRequest, advise, serving_properties
>>> config = {
...     "model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24,
...     "num_attention_heads": 14, "num_key_value_heads": 2, "intermediate_size": 4864,
...     "vocab_size": 151936, "tie_word_embeddings": True,
... }
>>> report = advise(config, ServingRequest(context_tokens=4096, concurrent_requests=8))
>>> report.parameters
494032768
>>> "option.rolling_batch=vllm" in serving_properties(report.recommendation)
True
"""

from __future__ import annotations

from maas.advisor.architecture import ModelArchitecture
from maas.advisor.compilation import check_neuron_compilation
from maas.advisor.lmi import serving_properties
from maas.advisor.recommend import Recommendation
from maas.advisor.report import AdvisorReport, advise, advise_on_instance
from maas.advisor.request import ServingRequest
from maas.advisor.safetensors import (
    TensorInfo,
    fetch_safetensors_headers,
    read_safetensors_headers,
)

__all__ = [
    "AdvisorReport",
    "ModelArchitecture",
    "Recommendation",
    "ServingRequest",
    "TensorInfo",
    "advise",
    "advise_on_instance",
    "check_neuron_compilation",
    "fetch_safetensors_headers",
    "read_safetensors_headers",
    "serving_properties",
]
