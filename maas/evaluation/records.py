"""The records an evaluation reads and writes: questions, corpus documents, scored samples.

A question set and a corpus are JSONL files in S3, one record per line. A scored sample is
what an evaluator writes per question: the pipeline's answer and contexts, each metric's
score, and, for a metric that could not be scored, why (a failed sample is recorded, never a
silent NaN).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# The pipeline's result types, defined with it and re-exported here for the evaluation's records.
from maas.pipeline.results import PipelineAnswer, RetrievedContext


class QuestionRecord(BaseModel):
    """One line of a question set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    question: str = Field(min_length=1)
    reference: str = Field(min_length=1, description="The reference (ground-truth) answer.")
    reference_contexts: tuple[str, ...] = Field(
        default=(), description="Passages a correct answer rests on, when known."
    )


class CorpusDocument(BaseModel):
    """One line of a knowledge corpus: a passage retrieval can return."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1)
    title: str | None = None


class ScoredSample(BaseModel):
    """One question, its answer and its scores: a row of the evaluation's table."""

    model_config = ConfigDict(frozen=True)

    question: QuestionRecord
    answer: PipelineAnswer
    scores: dict[str, float] = Field(default_factory=dict)
    failures: dict[str, str] = Field(
        default_factory=dict, description="Metric name -> why it could not be scored."
    )


class JudgeUsage(BaseModel):
    """How the judge fared: calls made, retried, and failed to parse after the retries."""

    calls: int = 0
    retries: int = 0
    parse_failures: int = 0

    @property
    def failure_share(self) -> float:
        """The share of calls whose answer never parsed."""
        return self.parse_failures / self.calls if self.calls else 0.0

    def __add__(self, other: JudgeUsage) -> JudgeUsage:
        return JudgeUsage(
            calls=self.calls + other.calls,
            retries=self.retries + other.retries,
            parse_failures=self.parse_failures + other.parse_failures,
        )


__all__ = [
    "CorpusDocument",
    "JudgeUsage",
    "PipelineAnswer",
    "QuestionRecord",
    "RetrievedContext",
    "ScoredSample",
]
