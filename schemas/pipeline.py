"""An endpoint's request pipeline: prompt template, knowledge, guardrail, generation settings.

A served request runs through explicit stages (``maas.pipeline``): the prompt template is
rendered, the question embedded, the knowledge corpus searched, the endpoint asked, and the
tenant's guardrail applied to the question and the answer. :class:`PipelineSpec` is what a
tenant configures per endpoint (``PUT /v1/endpoints/{name}/pipeline``); an endpoint with none
runs :data:`DEFAULT_PIPELINE`.

The template is checked where it enters: its placeholders are ``{question}`` (required) and
``{context}``; any other is a validation error that names it, so a typo fails the ``PUT``
rather than every later request.

Examples
--------
>>> spec = PipelineSpec.model_validate({
...     "prompt_template": "Q: {question}\\nA:",
...     "knowledge": {"corpus_uri": "s3://docs/acme/faq.jsonl"},
... })
>>> spec.knowledge.embedding.kind, spec.knowledge.top_k
('local', 4)
>>> PipelineSpec(prompt_template="{question} {contxt}")
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for PipelineSpec
prompt_template
  Value error, unknown placeholder {contxt}: a template may use {question} and {context} ...
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from schemas.common import REQUEST_CONFIG, EndpointName, S3Uri

#: The placeholders a prompt template may use.
TEMPLATE_PLACEHOLDERS = ("question", "context")

#: A retrieval-augmented prompt: the retrieved passages, then the question.
DEFAULT_PROMPT_TEMPLATE = (
    "Answer the question using only the context below. If the context does not contain "
    "the answer, say that you do not know.\n\n"
    "Context:\n{context}\n\n"
    "Question: {question}\n"
    "Answer:"
)

#: New tokens generated when neither the pipeline nor the request says.
DEFAULT_MAX_NEW_TOKENS = 128


def template_placeholders(template: str) -> list[str]:
    """The named placeholders of a ``str.format`` template, in order; ValueError if malformed.

    Examples
    --------
    >>> template_placeholders("{context} then {question}, {{literal}}")
    ['context', 'question']
    """
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template)]
    except ValueError as error:
        raise ValueError(
            f"not a valid template: {error} (write a literal brace as {{{{ or }}}})"
        ) from None
    return [field for field in fields if field is not None]


def _checked_template(template: str) -> str:
    placeholders = template_placeholders(template)
    known = " and ".join(f"{{{name}}}" for name in TEMPLATE_PLACEHOLDERS)
    unknown = sorted({name for name in placeholders if name not in TEMPLATE_PLACEHOLDERS})
    if unknown:
        named = ", ".join(f"{{{name}}}" for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(
            f"unknown placeholder{plural} {named}: a template may use {known} "
            "(not positional {}, attributes or indexes)"
        )
    if "question" not in placeholders:
        raise ValueError("the template never uses {question}")
    return template


PromptTemplate = Annotated[
    str,
    Field(
        min_length=1,
        max_length=16_000,
        description="A str.format template with {question} (required) and {context} (the "
        "retrieved passages, numbered); write a literal brace as {{ or }}.",
    ),
    AfterValidator(_checked_template),
]


class LocalEmbedding(BaseModel):
    """A sentence-transformers model run in the process that serves the request."""

    model_config = REQUEST_CONFIG

    kind: Literal["local"] = "local"
    model: Literal["all-MiniLM-L6-v2"] = Field(
        default="all-MiniLM-L6-v2", description="The model (384 dimensions, offline)."
    )


class SageMakerEmbedding(BaseModel):
    """An embedding model served on a SageMaker endpoint of the tenant."""

    model_config = REQUEST_CONFIG

    kind: Literal["sagemaker"]
    endpoint_name: EndpointName


class BedrockEmbedding(BaseModel):
    """A Bedrock embedding model (Amazon Titan Text Embeddings, Cohere Embed)."""

    model_config = REQUEST_CONFIG

    kind: Literal["bedrock"]
    model_id: str = Field(
        min_length=1,
        max_length=256,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.:/_-]*$",
        examples=["amazon.titan-embed-text-v2:0"],
    )


EmbeddingSpec = Annotated[
    LocalEmbedding | SageMakerEmbedding | BedrockEmbedding, Field(discriminator="kind")
]


class KnowledgeSpec(BaseModel):
    """The corpus retrieval searches, how it is embedded, and how many passages to keep."""

    model_config = REQUEST_CONFIG

    corpus_uri: S3Uri = Field(
        description="A JSONL object in S3, one document per line: "
        '{"id": ..., "text": ..., "title": ...}.'
    )
    embedding: EmbeddingSpec = Field(default_factory=LocalEmbedding)
    top_k: int = Field(default=4, ge=1, le=50, description="Passages retrieved per question.")


class GenerationSettings(BaseModel):
    """How the endpoint generates (the LMI ``parameters`` of the request it is sent)."""

    model_config = REQUEST_CONFIG

    max_new_tokens: int = Field(default=DEFAULT_MAX_NEW_TOKENS, ge=1, le=8192)
    temperature: float = Field(
        default=0.0, ge=0, le=2, description="0 decodes greedily; above 0 samples."
    )


class PipelineSpec(BaseModel):
    """The request pipeline of one endpoint."""

    model_config = REQUEST_CONFIG

    prompt_template: PromptTemplate = DEFAULT_PROMPT_TEMPLATE
    knowledge: KnowledgeSpec | None = Field(
        default=None, description="Retrieval over a corpus; none: {context} renders empty."
    )
    guardrail: bool = Field(
        default=True,
        description="Apply the tenant's guardrail to the question and to the answer.",
    )
    generation: GenerationSettings = Field(default_factory=GenerationSettings)


#: What an endpoint without a configured pipeline runs.
DEFAULT_PIPELINE = PipelineSpec()


class EndpointPipeline(BaseModel):
    """An endpoint's pipeline, as ``GET /v1/endpoints/{name}/pipeline`` answers it."""

    endpoint_name: EndpointName
    pipeline: PipelineSpec
    configured: bool = Field(description="False: none was set, and this is the default.")
    updated_at: datetime | None = None


class InvokeRequest(BaseModel):
    """A question for an endpoint, with generation settings for this request only."""

    model_config = REQUEST_CONFIG

    question: str = Field(min_length=1, max_length=16_000)
    parameters: GenerationSettings | None = Field(
        default=None,
        description="Overrides the pipeline's generation settings; fields left out keep them.",
    )


__all__ = [
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_PIPELINE",
    "DEFAULT_PROMPT_TEMPLATE",
    "TEMPLATE_PLACEHOLDERS",
    "BedrockEmbedding",
    "EmbeddingSpec",
    "EndpointPipeline",
    "GenerationSettings",
    "InvokeRequest",
    "KnowledgeSpec",
    "LocalEmbedding",
    "PipelineSpec",
    "PromptTemplate",
    "SageMakerEmbedding",
    "template_placeholders",
]
