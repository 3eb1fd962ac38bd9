"""An endpoint's request pipeline: prompt template, knowledge, guardrail, generation settings.

A served request runs through explicit stages (``maas.pipeline``): the prompt template is
rendered, the question embedded, the knowledge corpus searched, the endpoint asked, and the
tenant's guardrail applied to the question and the answer. :class:`PipelineSpec` is what a
tenant configures per endpoint (``PUT /v1/endpoints/{name}/pipeline``); an endpoint with none
runs :data:`DEFAULT_PIPELINE`.

The template is checked where it enters: its placeholders are ``{question}`` (required) and
``{context}``, as bare names; any other, or either with a format spec, a conversion, an
attribute or an index, is a validation error that names it, so a typo or a spec that
``str.format`` would evaluate fails the ``PUT`` rather than every later request.

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
  Value error, placeholder {contxt} not allowed: a template may use {question} and {context}...
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictInt, model_validator

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


class Placeholder(NamedTuple):
    """One ``{...}`` of a template, as ``str.format`` reads it."""

    field: str
    conversion: str | None
    format_spec: str

    @property
    def plain(self) -> bool:
        """Whether it is ``{question}`` or ``{context}`` and nothing more."""
        return (
            self.field in TEMPLATE_PLACEHOLDERS and self.conversion is None and not self.format_spec
        )

    @property
    def written(self) -> str:
        """The placeholder as the template spells it (up to an empty ``:``)."""
        conversion = f"!{self.conversion}" if self.conversion else ""
        spec = f":{self.format_spec}" if self.format_spec else ""
        return f"{{{self.field}{conversion}{spec}}}"


def template_parts(template: str) -> list[tuple[str, Placeholder | None]]:
    """The template as (literal text, placeholder that follows it) pairs; ValueError if malformed.

    The literal text has its doubled braces undone: ``{{`` reads ``{``.

    Examples
    --------
    >>> [(text, p and p.field) for text, p in template_parts("Q: {question} {{x}}")]
    [('Q: ', 'question'), (' {', None), ('x}', None)]
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(
            f"not a valid template: {error} (write a literal brace as {{{{ or }}}})"
        ) from None
    return [
        (literal, None if field is None else Placeholder(field, conversion, spec or ""))
        for literal, field, spec, conversion in parsed
    ]


def _checked_template(template: str) -> str:
    # Only the bare names: str.format would evaluate a format spec, a conversion, an
    # attribute or an index of them ({question:{context.__class__}} fails every request).
    placeholders = [found for _, found in template_parts(template) if found is not None]
    known = " and ".join(f"{{{name}}}" for name in TEMPLATE_PLACEHOLDERS)
    refused = sorted({found.written for found in placeholders if not found.plain})
    if refused:
        plural = "s" if len(refused) > 1 else ""
        raise ValueError(
            f"placeholder{plural} {', '.join(refused)} not allowed: a template may use {known}, "
            "as bare names (no positional {}, attributes, indexes, !conversions or :format specs)"
        )
    if all(found.field != "question" for found in placeholders):
        raise ValueError("the template never uses {question}")
    return template


def plain_template(template: str) -> str:
    """``template`` with each placeholder of a known name made bare, any other made literal.

    What a template stored before placeholders were held to bare names renders as: the
    conversion or format spec dropped, so ``{question!r}`` still receives the question.

    Examples
    --------
    >>> plain_template("{question:{context.__class__}} {context!r} {{brace}}")
    '{question} {context} {{brace}}'
    """
    rebuilt = []
    for literal, found in template_parts(template):
        rebuilt.append(literal.replace("{", "{{").replace("}", "}}"))
        if found is not None and found.field in TEMPLATE_PLACEHOLDERS:
            rebuilt.append(f"{{{found.field}}}")
        elif found is not None:
            rebuilt.append(found.written.replace("{", "{{").replace("}", "}}"))
    return "".join(rebuilt)


PromptTemplate = Annotated[
    str,
    Field(
        min_length=1,
        max_length=16_000,
        description="A template with {question} (required) and {context} (the retrieved "
        "passages, numbered), bare names only (no format spec, conversion, attribute or "
        "index); write a literal brace as {{ or }}.",
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
    top_k: StrictInt = Field(default=4, ge=1, le=50, description="Passages retrieved per question.")


class GenerationSettings(BaseModel):
    """How the endpoint generates (the LMI ``parameters`` of the request it is sent)."""

    model_config = REQUEST_CONFIG

    max_new_tokens: StrictInt = Field(default=DEFAULT_MAX_NEW_TOKENS, ge=1, le=8192)
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
    guardrail: StrictBool = Field(
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

    @model_validator(mode="before")
    @classmethod
    def _stored_template_made_plain(cls, data: Any) -> Any:
        # A pipeline stored before templates were held to bare placeholders is read back
        # as it renders (plain_template), rather than failing every read and request.
        pipeline = data.get("pipeline") if isinstance(data, dict) else None
        if not isinstance(pipeline, dict) or not isinstance(
            template := pipeline.get("prompt_template"), str
        ):
            return data
        try:
            plain = plain_template(template)
        except ValueError:
            return data  # not a template at all: the field's own check says so
        return {**data, "pipeline": {**pipeline, "prompt_template": plain}}


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
    "Placeholder",
    "PromptTemplate",
    "SageMakerEmbedding",
    "plain_template",
    "template_parts",
]
