"""The Neuron compilation step where there is no Neuron hardware: validate, then say so.

Compiling a model for Inferentia2 or Trainium needs neuronx-cc and a Neuron device
(:mod:`maas.advisor.neuron`). What can be checked without them is checked here, so that a
configuration that could never compile is refused before an inf2 or trn1 instance is paid
for: the family has NxD Inference model code, the checkpoint is 16-bit, the instance is an
inf2 or trn1 type, the tensor-parallel degree is one the advisor sizes, fits the instance and
divides the heads, the sequence length is within the model's, and the weights and the KV cache
of the compiled batch fit each NeuronCore and the host. A configuration that passes gets a
:class:`~maas.advisor.neuron.NeuronCompilation` whose ``message`` says that compiling it needs
Neuron hardware: the explicit, documented gap of docs/optimization.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from maas.advisor.architecture import ModelArchitecture
from maas.advisor.neuron import neuron_compilation
from maas.advisor.recommend import (
    NEURON_FAMILIES,
    NEURON_TENSOR_PARALLEL_DEGREES,
    evaluate_neuron,
    neuron_instances,
)
from maas.advisor.request import ServingRequest
from maas.advisor.sizing import parameter_count
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from maas.advisor.neuron import NeuronCompilation


def check_neuron_compilation(
    config: Mapping[str, Any],
    *,
    instance_type: str,
    tensor_parallel_degree: int,
    batch_size: int,
    sequence_length: int,
) -> NeuronCompilation:
    """Validate compiling the model of ``config`` for these settings; return what it takes.

    Raises
    ------
    ValidationError
        Naming every reason the configuration could not compile or serve.

    Examples
    --------
    >>> config = {
    ...     "model_type": "llama", "hidden_size": 2048, "num_hidden_layers": 16,
    ...     "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
    ...     "intermediate_size": 8192, "vocab_size": 128256, "tie_word_embeddings": True,
    ...     "max_position_embeddings": 131072,
    ... }
    >>> plan = check_neuron_compilation(
    ...     config, instance_type="ml.inf2.xlarge", tensor_parallel_degree=2, batch_size=4,
    ...     sequence_length=4096,
    ... )
    >>> plan.graphs, plan.runs_here
    (12, False)
    >>> plan.message.startswith("compiling it needs Neuron hardware")
    True
    """
    arch = ModelArchitecture.from_config(config)
    problems: list[str] = []
    if arch.family not in NEURON_FAMILIES:
        problems.append(
            f"the {arch.family} family has no NxD Inference model code (supported: "
            f"{', '.join(sorted(NEURON_FAMILIES))})"
        )
    if arch.checkpoint_quantization is not None:
        problems.append(
            f"the checkpoint is quantized ({arch.checkpoint_quantization.scheme}); Neuron "
            "compiles the 16-bit checkpoint: compile its unquantized parent"
        )
    views = {view.instance_type: view for view in neuron_instances()}
    view = views.get(instance_type)
    if view is None:
        problems.append(
            f"{instance_type} is not an Inferentia2 or Trainium type (those sized: "
            f"{', '.join(sorted(views))})"
        )
    if tensor_parallel_degree not in NEURON_TENSOR_PARALLEL_DEGREES:
        problems.append(
            f"tensor_parallel_degree {tensor_parallel_degree} is not one of "
            f"{', '.join(map(str, NEURON_TENSOR_PARALLEL_DEGREES))}"
        )
    elif view is not None and tensor_parallel_degree > view.accelerator_count:
        problems.append(
            f"tensor_parallel_degree {tensor_parallel_degree} exceeds the "
            f"{view.accelerator_count} NeuronCores of {instance_type}"
        )
    limit = arch.max_position_embeddings
    if limit is not None and sequence_length > limit:
        problems.append(f"sequence_length {sequence_length} exceeds the model's {limit}")
    if not 1 <= batch_size <= 4096 or sequence_length < 1:
        problems.append("batch_size and sequence_length must be positive (batch at most 4096)")
    if not problems and view is not None:
        request = ServingRequest(
            context_tokens=sequence_length,
            concurrent_requests=batch_size,
            prompt_tokens=min(512, sequence_length),
        )
        rejection = evaluate_neuron(arch, request, view, tensor_parallel_degree)
        if rejection is not None:
            problems.append(f"on {instance_type} at TP {tensor_parallel_degree}: {rejection}")
    if problems:
        raise ValidationError("neuron compilation: " + "; ".join(problems))
    return neuron_compilation(
        instance_type=instance_type,
        tensor_parallel=tensor_parallel_degree,
        batch=batch_size,
        sequence_length=sequence_length,
        parameters=parameter_count(arch),
    )


__all__ = ["check_neuron_compilation"]
