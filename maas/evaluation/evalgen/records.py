"""What EvalGen reads and writes: outputs to grade, people's grades, criteria, verdicts.

An output is one model answer to one input (with the reference answer when the task has
one). A person's grade is a thumbs up or down on an output, with an optional note. A
criterion is one thing a good output does, as an LLM suggested it or a person wrote it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from maas.evaluation.records import ScoredSample

#: Criterion names are short slugs so that reports and stored sets can key on them.
CRITERION_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
#: A grading session's name is a directory name on disk and part of a table key: no
#: separators, no dots to climb out with, no ``#``.
SESSION_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def _now() -> datetime:
    return datetime.now(UTC)


class EvalOutput(BaseModel):
    """One model output to grade and check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    input: str = Field(description="The prompt or question the model answered.")
    output: str = Field(description="What the model answered.")
    reference: str | None = Field(default=None, description="A reference answer, when known.")

    @classmethod
    def of_sample(cls, sample: ScoredSample) -> EvalOutput:
        """An evaluated question's answer as an output to grade or check."""
        return cls(
            id=sample.question.id,
            input=sample.question.question,
            output=sample.answer.answer,
            reference=sample.question.reference,
        )


class Thumb(StrEnum):
    """A person's grade of an output."""

    UP = "up"
    DOWN = "down"


class Grade(BaseModel):
    """A person's thumbs up or down on one output; the latest grade of an output counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output_id: str = Field(min_length=1, max_length=128)
    grade: Thumb
    note: str | None = None
    graded_at: datetime = Field(default_factory=_now)

    @property
    def good(self) -> bool:
        """Thumbs up."""
        return self.grade is Thumb.UP


class Criterion(BaseModel):
    """One thing a good output does: how it reads, what it must contain or avoid."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=CRITERION_NAME_PATTERN, description="A short snake_case name.")
    description: str = Field(min_length=1, max_length=500)
    check: Literal["code", "llm"] = Field(
        description="Whether code can check it (length, format, words) or an LLM must read it."
    )


class LabelledOutput(BaseModel):
    """An output with a person's grade attached: a line of a bundled labelled set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    task: str = Field(min_length=1, description="The task id the output was written for.")
    input: str
    output: str
    reference: str | None = None
    grade: Thumb
    note: str | None = None

    @property
    def good(self) -> bool:
        """Thumbs up."""
        return self.grade is Thumb.UP

    def as_output(self) -> EvalOutput:
        """The output, without its grade."""
        return EvalOutput(
            id=self.id, input=self.input, output=self.output, reference=self.reference
        )

    def as_grade(self) -> Grade:
        """The person's grade."""
        return Grade(output_id=self.id, grade=self.grade, note=self.note)


class GraderVerdict(BaseModel):
    """An LLM grader's answer: does the output meet the criterion."""

    passed: bool
    # Short: a small judge given room writes on until its token budget runs out.
    reason: str = Field(default="", max_length=120)


__all__ = [
    "CRITERION_NAME_PATTERN",
    "SESSION_NAME_PATTERN",
    "Criterion",
    "EvalOutput",
    "Grade",
    "GraderVerdict",
    "LabelledOutput",
    "Thumb",
]
