"""Serving on Inferentia2 and Trainium: the Neuron compilation step, its estimated time, and
the check of its configuration that runs where no Neuron hardware is.

A model runs on NeuronCores as graphs compiled ahead of time for one tensor-parallel degree,
one batch size and a set of sequence-length buckets (NxD Inference's "Compiling models" and
bucketing: https://awsdocs-neuron.readthedocs-hosted.com/en/latest/libraries/nxd-inference/
developer_guides/feature-guide.html): each context-encoding and each token-generation bucket is
its own graph. LMI NeuronX (the djl-inference ``*-neuronx-sdk*`` images; its user guide:
https://docs.djl.ai/master/docs/serving/serving/docs/lmi/user_guides/tnx_user_guide.html)
compiles them when the endpoint starts unless ``option.compiled_graph_path`` names graphs
compiled before. djl-serving removed its Neuron support in November 2025 (commit 1132e3a,
"Remove code and tests related to deprecated neuron hardware support"): the published
NeuronX images are the last ones, and AWS's Neuron containers with vLLM are the way on.

Compiling needs the Neuron compiler (neuronx-cc) and, to trace the model, Neuron hardware. No
machine this platform runs locally has any, so locally the step is a documented gap:
:func:`maas.advisor.compilation.check_neuron_compilation` validates the configuration and says
that compiling it needs Neuron hardware. docs/optimization.md has the account.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

#: The smallest sequence-length bucket: NxD Inference's default buckets are powers of two
#: from 128 up to the sequence length.
MIN_BUCKET = 128
#: The compile-time allowance: a fixed part plus a part per graph and per billion parameters.
#: An assumption of this advisor, not a measurement and not a published figure (AWS publishes
#: none per model): measure it on an inf2 or trn1 instance and replace it.
COMPILE_BASE_SECONDS = 120
COMPILE_SECONDS_PER_GRAPH_PER_BILLION = 20
#: How the estimate is stated wherever it is shown.
COMPILE_ESTIMATE_BASIS = (
    f"an allowance, not a measurement: {COMPILE_BASE_SECONDS} s plus "
    f"{COMPILE_SECONDS_PER_GRAPH_PER_BILLION} s per compiled graph per billion parameters "
    "(one graph per context-encoding and per token-generation bucket); no Neuron hardware "
    "here to measure it"
)
#: What the local run of the step says, after the configuration checked out.
NEEDS_NEURON_HARDWARE = (
    "compiling it needs Neuron hardware: neuronx-cc and the Neuron runtime on an inf2 or trn1 "
    "instance (NxD Inference's compile(), or LMI NeuronX at endpoint start-up); none is "
    "available here, so this step validates the configuration and stops"
)


class NeuronCompilation(BaseModel):
    """The compilation a Neuron proposal needs: what is compiled, and how long it may take."""

    model_config = ConfigDict(frozen=True)

    instance_type: str
    tensor_parallel_degree: int = Field(description="NeuronCores the model is split over.")
    batch_size: int = Field(description="The compiled batch: sequences decoded at once.")
    sequence_length: int = Field(description="The compiled length, prompt plus output.")
    buckets: list[int] = Field(description="The sequence-length buckets compiled.")
    graphs: int = Field(description="Graphs compiled: context encoding and token generation.")
    estimated_compile_seconds: int = Field(
        description="An allowance (estimate_basis says how it is made), not a measurement."
    )
    estimate_basis: str = COMPILE_ESTIMATE_BASIS
    serving_properties: str = Field(
        description="The LMI NeuronX serving.properties for the compiled model."
    )
    runs_here: bool = Field(
        default=False, description="Whether this machine can compile it (it needs Neuron)."
    )
    message: str = NEEDS_NEURON_HARDWARE


def buckets(sequence_length: int) -> list[int]:
    """Powers of two from :data:`MIN_BUCKET` up to the sequence length, which ends the list.

    Examples
    --------
    >>> buckets(4096)
    [128, 256, 512, 1024, 2048, 4096]
    >>> buckets(3000)
    [128, 256, 512, 1024, 2048, 3000]
    """
    sizes = []
    size = MIN_BUCKET
    while size < sequence_length:
        sizes.append(size)
        size *= 2
    return [*sizes, sequence_length]


def estimated_compile_seconds(parameters: int, graphs: int) -> int:
    """The compile-time allowance (:data:`COMPILE_ESTIMATE_BASIS`).

    Examples
    --------
    >>> estimated_compile_seconds(8_030_261_248, 12)  # Llama 3.1 8B at 4,096 tokens
    2048
    """
    billions = parameters / 1e9
    return math.ceil(
        COMPILE_BASE_SECONDS + COMPILE_SECONDS_PER_GRAPH_PER_BILLION * graphs * billions
    )


def neuronx_serving_properties(tensor_parallel: int, batch: int, sequence_length: int) -> str:
    """LMI NeuronX's ``serving.properties`` (its user guide's quick start and option table).

    Examples
    --------
    >>> print(neuronx_serving_properties(2, 8, 4096))
    engine=Python
    option.entryPoint=djl_python.transformers_neuronx
    option.rolling_batch=auto
    option.tensor_parallel_degree=2
    option.max_rolling_batch_size=8
    option.n_positions=4096
    option.dtype=bf16
    <BLANKLINE>
    """
    return (
        "\n".join(
            [
                "engine=Python",
                "option.entryPoint=djl_python.transformers_neuronx",
                "option.rolling_batch=auto",
                f"option.tensor_parallel_degree={tensor_parallel}",
                f"option.max_rolling_batch_size={batch}",
                f"option.n_positions={sequence_length}",
                "option.dtype=bf16",
            ]
        )
        + "\n"
    )


def neuron_compilation(
    *, instance_type: str, tensor_parallel: int, batch: int, sequence_length: int, parameters: int
) -> NeuronCompilation:
    """What compiling for these settings takes (no check: see
    :func:`maas.advisor.compilation.check_neuron_compilation`)."""
    sizes = buckets(sequence_length)
    graphs = 2 * len(sizes)
    return NeuronCompilation(
        instance_type=instance_type,
        tensor_parallel_degree=tensor_parallel,
        batch_size=batch,
        sequence_length=sequence_length,
        buckets=sizes,
        graphs=graphs,
        estimated_compile_seconds=estimated_compile_seconds(parameters, graphs),
        serving_properties=neuronx_serving_properties(tensor_parallel, batch, sequence_length),
    )


__all__ = [
    "COMPILE_ESTIMATE_BASIS",
    "NEEDS_NEURON_HARDWARE",
    "NeuronCompilation",
    "buckets",
    "estimated_compile_seconds",
    "neuron_compilation",
    "neuronx_serving_properties",
]
