"""Candidate implementations of a criterion: a vetted code assertion or an LLM-grader prompt.

A code implementation costs nothing to run and always answers. A grader asks the judge
whether the output meets the criterion; a judge whose answer never parses gives no verdict
(``None``), which selection counts against the grader rather than dropping silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.evalgen.assertions import AssertionSpec
from maas.evaluation.evalgen.records import GraderVerdict
from maas.evaluation.judging import JudgeAnswerError

if TYPE_CHECKING:
    from maas.evaluation.evalgen.records import Criterion, EvalOutput
    from maas.evaluation.judging import Judge

#: Three phrasings of the grader's question; EvalGen keeps whichever agrees best with people.
GRADER_PHRASINGS: tuple[str, ...] = (
    "You grade a model's output against one criterion.\n"
    "Criterion: {criterion}\n\nInput:\n{input}\n\nOutput:\n{output}\n{reference_block}\n"
    'Does the output meet the criterion? Answer as JSON: {{"passed": true or false, '
    '"reason": "a short reason"}}',
    "Read the answer below and decide whether it satisfies this requirement: {criterion}\n\n"
    "Question: {input}\nAnswer: {output}\n{reference_block}\n"
    "Be strict: if the requirement is not clearly met, it fails. "
    'Reply with JSON {{"passed": bool, "reason": str}}.',
    "Requirement for a good answer: {criterion}\n"
    "{reference_block}Answer to check: {output}\n(It answers: {input})\n"
    'Reply only with JSON: {{"passed": true}} if the requirement holds, {{"passed": false}} '
    "if it does not, with a short reason.",
)


class CodeImplementation(BaseModel):
    """A criterion checked by a vetted assertion from the library."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["code"] = "code"
    assertion: AssertionSpec

    @property
    def label(self) -> str:
        """How reports name it."""
        return f"code:{self.assertion.describe()}"

    @property
    def cost(self) -> int:
        """Relative cost of one check (code: nothing)."""
        return 0

    def verdict(self, criterion: Criterion, output: EvalOutput, judge: Judge | None) -> bool:
        """Whether ``output`` passes."""
        return self.assertion.check(output)


class GraderImplementation(BaseModel):
    """A criterion checked by asking the judge, with one of the grader phrasings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["llm"] = "llm"
    prompt: str = Field(
        min_length=1,
        description="A template with {criterion}, {input}, {output} and {reference_block}.",
    )
    phrasing: int = Field(default=0, ge=0, description="Which phrasing it is, for reports.")

    @property
    def label(self) -> str:
        """How reports name it."""
        return f"llm:phrasing-{self.phrasing + 1}"

    @property
    def cost(self) -> int:
        """Relative cost of one check: a judge call, dearer the longer the prompt."""
        return 1_000 + len(self.prompt)

    def render(self, criterion: Criterion, output: EvalOutput) -> str:
        """The prompt for ``output``."""
        reference = f"\nReference answer:\n{output.reference}\n" if output.reference else ""
        return self.prompt.format(
            criterion=criterion.description,
            input=output.input,
            output=output.output,
            reference_block=reference,
        )

    def verdict(self, criterion: Criterion, output: EvalOutput, judge: Judge | None) -> bool | None:
        """Whether ``output`` passes; None when the judge's answer never parsed."""
        if judge is None:
            raise ValueError(f"criterion {criterion.name!r}: an LLM grader needs a judge")
        try:
            return judge.ask(
                self.render(criterion, output), GraderVerdict, max_new_tokens=96
            ).passed
        except JudgeAnswerError:
            return None


Implementation = Annotated[CodeImplementation | GraderImplementation, Field(discriminator="type")]


def grader_candidates(phrasings: tuple[str, ...] = GRADER_PHRASINGS) -> list[GraderImplementation]:
    """One grader per phrasing."""
    return [
        GraderImplementation(prompt=prompt, phrasing=index)
        for index, prompt in enumerate(phrasings)
    ]


__all__ = [
    "GRADER_PHRASINGS",
    "CodeImplementation",
    "GraderImplementation",
    "Implementation",
    "grader_candidates",
]
