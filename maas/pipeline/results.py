"""What the pipeline answers: the answer, the passages it rests on, the guardrail's findings.

These are the records an evaluation keeps per question (``maas.evaluation.records`` re-exports
them for its ``ScoredSample``) and the body of ``POST /v1/endpoints/{name}/invoke``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RetrievedContext(BaseModel):
    """A passage the pipeline retrieved for a question, with its similarity score."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    score: float
    title: str | None = None


class GuardrailFinding(BaseModel):
    """What the guardrail said about the question (``INPUT``) or the answer (``OUTPUT``)."""

    model_config = ConfigDict(frozen=True)

    source: Literal["INPUT", "OUTPUT"]
    action: Literal["NONE", "GUARDRAIL_INTERVENED"]
    intervened: bool
    blocked: bool = Field(description="The text could not pass (not only masked).")
    reasons: tuple[str, ...] = Field(default=(), description="One line per finding.")
    assessments: list[dict[str, Any]] = Field(
        default_factory=list, description="Bedrock's assessments, as ApplyGuardrail answers."
    )


class PipelineAnswer(BaseModel):
    """What the RAG pipeline produced for one question.

    A guardrail that intervenes never loses the request: a blocked question is answered with
    the guardrail's blocked message and no generation, a blocked or masked answer with the
    text the guardrail returned, and ``guardrail`` says what was found and why.
    """

    model_config = ConfigDict(frozen=True)

    answer: str
    contexts: tuple[RetrievedContext, ...] = ()
    trace_id: str | None = Field(default=None, description="The request's X-Ray trace id.")
    latency_ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    blocked: bool = Field(default=False, description="A guardrail blocked the question or answer.")
    guardrail: tuple[GuardrailFinding, ...] = Field(
        default=(), description="The guardrail's findings, input first; none when it is off."
    )
    stages_ms: dict[str, float] = Field(
        default_factory=dict,
        description="Wall time of each stage that ran, in milliseconds: prompt, embedding, "
        "retrieval, generation, guardrail_input, guardrail_output.",
    )
    model: str | None = Field(default=None, description="The model the endpoint serves.")
    version: str | None = Field(default=None, description="Its registered version.")

    @property
    def intervened(self) -> bool:
        """Whether the guardrail blocked or masked anything."""
        return any(finding.intervened for finding in self.guardrail)


__all__ = ["GuardrailFinding", "PipelineAnswer", "RetrievedContext"]
