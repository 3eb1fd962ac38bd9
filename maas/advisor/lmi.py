"""An LMI container's ``serving.properties`` for a recommendation.

The SageMaker Large Model Inference (LMI) container reads ``serving.properties`` next to the
model: ``engine=Python`` with a rolling-batch back end (``vllm``, ``lmi-dist`` or ``trtllm``)
and its ``option.*`` settings.

``option.quantize`` is written only for a checkpoint already quantized that way: LMI's vLLM
loads AWQ and GPTQ weights only from such a checkpoint (https://docs.djl.ai/master/docs/serving/
serving/docs/lmi/user_guides/vllm_user_guide.html), so the properties always match the
checkpoint they are packaged with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.advisor.speculative import speculative_config
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from maas.advisor.recommend import Recommendation


def serving_properties(
    recommendation: Recommendation,
    *,
    revision: str | None = None,
    model_id: str | None = None,
) -> str:
    """The ``serving.properties`` text that serves ``recommendation``.

    ``revision`` pins the Hub revision (a commit hash, for a reproducible deployment);
    ``model_id`` sets ``option.model_id`` when the weights are fetched at start-up rather
    than packaged next to the file.

    Raises
    ------
    ValidationError
        When ``recommendation`` is a proposal that needs a quantization step first (its
        ``requires``): no properties are written for weights the checkpoint does not hold.

    Examples
    --------
    >>> from maas.advisor import ServingRequest, advise
    >>> config = {
    ...     "model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30,
    ...     "num_attention_heads": 9, "num_key_value_heads": 3, "intermediate_size": 1536,
    ...     "vocab_size": 49152, "tie_word_embeddings": True,
    ... }
    >>> request = ServingRequest(
    ...     context_tokens=2048, concurrent_requests=4, quantizations=("none",)
    ... )
    >>> report = advise(config, request)
    >>> print(serving_properties(report.recommendation, revision="12fd25f7"))
    engine=Python
    option.rolling_batch=vllm
    option.tensor_parallel_degree=1
    option.max_rolling_batch_size=256
    option.max_model_len=2048
    option.dtype=bf16
    option.revision=12fd25f7
    <BLANKLINE>
    """
    if recommendation.requires is not None:
        raise ValidationError(
            f"serving properties: {recommendation.engine} on {recommendation.instance_type} "
            f"({recommendation.quantization}) needs {recommendation.requires}"
        )
    lines = ["engine=Python"]
    if model_id is not None:
        lines.append(f"option.model_id={model_id}")
    lines += [
        f"option.rolling_batch={recommendation.engine}",
        f"option.tensor_parallel_degree={recommendation.tensor_parallel_degree}",
        f"option.max_rolling_batch_size={recommendation.max_rolling_batch_size}",
        f"option.max_model_len={recommendation.max_model_len}",
        "option.dtype=bf16",
    ]
    if recommendation.quantization not in ("none", "compressed-tensors"):
        # A compressed-tensors checkpoint names its scheme in config.json, which vLLM reads.
        lines.append(f"option.quantize={recommendation.quantization}")
    if recommendation.speculative_decoding is not None:
        # vLLM's engine argument, passed through by LMI as JSON (maas.advisor.speculative).
        lines.append(
            f"option.speculative_config={speculative_config(recommendation.speculative_decoding)}"
        )
    if revision is not None:
        lines.append(f"option.revision={revision}")
    return "\n".join(lines) + "\n"


__all__ = ["serving_properties"]
