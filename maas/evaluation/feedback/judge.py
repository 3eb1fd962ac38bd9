"""A judge that learns from people's verdicts on its verdicts, per task.

The LangSmith "self-improving evaluator" pattern the seed cites: the verdict prompt for a
task holds the corrections most like the output being judged, so that a person fixes the
judge by correcting it, not by rewriting its prompt. Any :class:`~maas.evaluation.judging.Judge`
answers that way.

A small judge reads few-shot examples weakly, so a judge that can give its probability of a
pass (:class:`~maas.evaluation.judging.ProbabilityJudge`: the local judge) learns a second
way: its verdict is that probability cut where a logistic fit of people's verdicts so far
puts even odds (:func:`~maas.evaluation.feedback.calibration.decision_threshold`), one half
until people have given both verdicts. That can do no better than the judge's probability
allows: SmolLM2-135M's does not rank this repository's labelled answers (docs/evalgen.md).
A judge behind an API (SageMaker, Bedrock) gives verdicts only: it keeps the few-shot
examples alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.evalgen.records import GraderVerdict
from maas.evaluation.feedback.calibration import decision_threshold
from maas.evaluation.feedback.corrections import Correction
from maas.evaluation.judging import JudgeAnswerError, ProbabilityJudge

if TYPE_CHECKING:
    from maas.evaluation.feedback.corrections import CorrectionStore
    from maas.evaluation.judging import Judge

#: Corrections shown per verdict; each costs prompt tokens, and a small judge's context is short.
DEFAULT_EXAMPLES = 4
#: Characters of an example's input and output shown; enough to recognise the case.
_EXAMPLE_CHARS = 300


class JudgeTask(BaseModel):
    """What the judge judges: a task and what a good output of it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    description: str = Field(min_length=1, description="What a good output does.")


class Judgement(BaseModel):
    """The judge's verdict on an output and, for a judge that can say, how it was reached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    passed: bool | None = Field(description="None: the judge's answer never parsed.")
    probability: float | None = Field(
        default=None, ge=0, le=1, description="The judge's probability of a pass."
    )
    threshold: float | None = Field(
        default=None, description="Where the probability was cut: a pass at or above it."
    )


def _verdict_json(passed: bool) -> str:
    return '{"passed": true}' if passed else '{"passed": false}'


def _clip(text: str) -> str:
    return text if len(text) <= _EXAMPLE_CHARS else text[:_EXAMPLE_CHARS] + "..."


def verdict_prompt(
    task: JudgeTask, input_text: str, output: str, examples: list[Correction]
) -> str:
    """The prompt asking for a verdict on ``output``, with ``examples`` as few-shot cases."""
    parts = [
        f"You judge outputs for this task: {task.description}",
        "Decide whether the output is good (passed: true) or not (passed: false).",
    ]
    if examples:
        parts.append("People corrected earlier verdicts on this task. Judge as they did:")
        for number, example in enumerate(examples, start=1):
            note = f"\nWhy: {example.note}" if example.note else ""
            parts.append(
                f"Example {number}\nInput: {_clip(example.input)}\nOutput: {_clip(example.output)}"
                f"\nCorrect verdict: {_verdict_json(example.human_verdict)}{note}"
            )
    parts.append(f"Now judge this one.\nInput: {input_text}\nOutput: {output}")
    parts.append('Answer as JSON: {"passed": true or false, "reason": "a short reason"}')
    return "\n\n".join(parts)


class FeedbackJudge:
    """Verdicts on a task's outputs that learn from people's verdicts on them.

    Parameters
    ----------
    judge
        The model that answers; a :class:`~maas.evaluation.judging.ProbabilityJudge` also
        has its decision threshold fitted to people's verdicts.
    task
        The task judged; people's verdicts are kept and shown per task.
    corrections
        Where people's verdicts are kept.
    examples
        How many corrections a verdict prompt shows at most.

    Examples
    --------
    >>> from maas.evaluation.feedback import CorrectionStore
    >>> task = JudgeTask(id="support", description="Answers correctly.")
    >>> judge = FeedbackJudge(LocalJudge(), task, CorrectionStore())  # doctest: +SKIP
    >>> seen = judge.judgement("Is shipping free?", "Always.")  # doctest: +SKIP
    >>> judge.review("Is shipping free?", "Always.", seen, human_verdict=False)  # doctest: +SKIP
    """

    def __init__(
        self,
        judge: Judge,
        task: JudgeTask,
        corrections: CorrectionStore,
        *,
        examples: int = DEFAULT_EXAMPLES,
    ) -> None:
        self.judge = judge
        self.task = task
        self.corrections = corrections
        self.examples = examples

    def prompt(self, input_text: str, output: str) -> str:
        """The verdict prompt for ``output``, with the task's most relevant corrections."""
        chosen = self.corrections.examples(self.task.id, input_text, output, limit=self.examples)
        return verdict_prompt(self.task, input_text, output, chosen)

    def threshold(self) -> float | None:
        """Where the judge's probability is cut, fitted to the task's reviewed verdicts; None
        for a judge that gives verdicts only."""
        return self._fitted_threshold() if isinstance(self.judge, ProbabilityJudge) else None

    def _fitted_threshold(self) -> float:
        # The probabilities are those the judge gave when each output was reviewed, with the
        # examples its prompt held then: the line follows the judge as it was used.
        return decision_threshold(
            [
                (review.judge_probability, review.human_verdict)
                for review in self.corrections.for_task(self.task.id)
                if review.judge_probability is not None
            ]
        )

    def judgement(self, input_text: str, output: str) -> Judgement:
        """The judge's verdict on ``output``: its probability cut at :meth:`threshold` for a
        judge that gives one, else its answer; ``passed`` None when nothing parsed."""
        prompt = self.prompt(input_text, output)
        judge = self.judge
        try:
            if not isinstance(judge, ProbabilityJudge):
                answer = judge.ask(prompt, GraderVerdict, max_new_tokens=96)
                return Judgement(passed=answer.passed)
            probability = judge.probability(prompt, GraderVerdict)
        except JudgeAnswerError:
            return Judgement(passed=None)
        threshold = self._fitted_threshold()
        return Judgement(
            passed=probability >= threshold, probability=probability, threshold=threshold
        )

    def verdict(self, input_text: str, output: str) -> bool | None:
        """Whether ``output`` is good; None when the judge's answer never parsed."""
        return self.judgement(input_text, output).passed

    def review(
        self,
        input_text: str,
        output: str,
        judgement: Judgement,
        *,
        human_verdict: bool,
        note: str | None = None,
    ) -> Correction:
        """Keep a person's verdict on the judge's ``judgement`` of ``output``.

        Kept whether or not the person agreed: a disagreement is a correction, shown as an
        example on later verdicts; an agreement is never shown but, with the judge's
        probability, says where the threshold lies as much as a correction does.
        """
        review = Correction(
            task_id=self.task.id,
            input=input_text,
            output=output,
            judge_verdict=judgement.passed,
            judge_probability=judgement.probability,
            human_verdict=human_verdict,
            note=note,
        )
        self.corrections.add(review)
        return review


__all__ = ["DEFAULT_EXAMPLES", "FeedbackJudge", "JudgeTask", "Judgement", "verdict_prompt"]
