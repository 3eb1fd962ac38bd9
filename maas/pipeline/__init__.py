"""The served-request pipeline: guardrail, embedding, retrieval, prompt, generation, guardrail.

:class:`RagPipeline` runs one endpoint's configured pipeline (``schemas.pipeline.PipelineSpec``)
for a question and answers a :class:`PipelineAnswer`; every stage is an X-Ray subsegment of
the request's trace (:mod:`maas.tracing`). One module per stage: :mod:`~maas.pipeline.prompt`,
:mod:`~maas.pipeline.embedding` (pluggable embedders), :mod:`~maas.pipeline.retrieval`,
:mod:`~maas.pipeline.generation`; the guardrail is :mod:`maas.guardrails`'s checker. Nothing
here knows whether it runs on AWS or on the local runtime.

Examples
--------
.. code-block:: python

    from maas.pipeline import RagPipeline
    from schemas.pipeline import PipelineSpec

    spec = PipelineSpec.model_validate(
        {"knowledge": {"corpus_uri": "s3://docs/acme/faq.jsonl", "top_k": 3}}
    )
    answer = RagPipeline(spec, endpoint_name="acme-chat", tenant="acme",
                         model="smollm2", version="3").run("How do I reset my password?")
    print(answer.answer, answer.trace_id, answer.stages_ms)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maas.pipeline.exceptions import CorpusInvalid, CorpusNotFound, ModelCallFailed
from maas.pipeline.results import GuardrailFinding, PipelineAnswer, RetrievedContext

if TYPE_CHECKING:
    from maas.pipeline.embedding import (
        BedrockEmbedder,
        Embedder,
        Purpose,
        SageMakerEmbedder,
        embedder_for,
    )
    from maas.pipeline.generation import EndpointGenerator, Generation
    from maas.pipeline.pipeline import Guard, RagPipeline
    from maas.pipeline.prompt import format_contexts, render_prompt
    from maas.pipeline.retrieval import (
        CORPORA,
        CorpusCache,
        CorpusIndex,
        parse_corpus,
        read_corpus,
    )
    from maas.pipeline.store import PipelineStore

# The result types and errors load at once; the stages (boto3, the X-Ray SDK) on first use,
# so that the SDK and the evaluation's records can name an answer without them.
_LAZY = {
    "BedrockEmbedder": "embedding",
    "Embedder": "embedding",
    "Purpose": "embedding",
    "SageMakerEmbedder": "embedding",
    "embedder_for": "embedding",
    "EndpointGenerator": "generation",
    "Generation": "generation",
    "Guard": "pipeline",
    "RagPipeline": "pipeline",
    "format_contexts": "prompt",
    "render_prompt": "prompt",
    "CORPORA": "retrieval",
    "CorpusCache": "retrieval",
    "CorpusIndex": "retrieval",
    "parse_corpus": "retrieval",
    "read_corpus": "retrieval",
    "PipelineStore": "store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "CORPORA",
    "BedrockEmbedder",
    "CorpusCache",
    "CorpusIndex",
    "CorpusInvalid",
    "CorpusNotFound",
    "Embedder",
    "EndpointGenerator",
    "Generation",
    "Guard",
    "GuardrailFinding",
    "ModelCallFailed",
    "PipelineAnswer",
    "PipelineStore",
    "Purpose",
    "RagPipeline",
    "RetrievedContext",
    "SageMakerEmbedder",
    "embedder_for",
    "format_contexts",
    "parse_corpus",
    "read_corpus",
    "render_prompt",
]
