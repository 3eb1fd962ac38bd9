"""A judge whose prompt carries people's past corrections for the task as few-shot examples.

The LangSmith "self-improving evaluator" pattern the seed cites: the verdict prompt for a
task holds the corrections most like the output being judged, so that a person fixes the
judge by correcting it, not by rewriting its prompt. Any :class:`~maas.evaluation.judging.Judge`
answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.evalgen.records import GraderVerdict
from maas.evaluation.feedback.corrections import Correction
from maas.evaluation.judging import JudgeAnswerError

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
    """Verdicts on a task's outputs that learn from people's corrections.

    Parameters
    ----------
    judge
        The model that answers.
    task
        The task judged; corrections are kept and shown per task.
    corrections
        Where corrections are kept.
    examples
        How many corrections a verdict prompt shows at most.
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

    def verdict(self, input_text: str, output: str) -> bool | None:
        """Whether ``output`` is good; None when the judge's answer never parsed."""
        try:
            answer = self.judge.ask(
                self.prompt(input_text, output), GraderVerdict, max_new_tokens=96
            )
        except JudgeAnswerError:
            return None
        return answer.passed

    def correct(
        self,
        input_text: str,
        output: str,
        *,
        judge_verdict: bool | None,
        human_verdict: bool,
        note: str | None = None,
    ) -> Correction | None:
        """Keep a person's verdict when it differs from the judge's; None when they agreed."""
        if judge_verdict is human_verdict:
            return None
        correction = Correction(
            task_id=self.task.id,
            input=input_text,
            output=output,
            judge_verdict=judge_verdict,
            human_verdict=human_verdict,
            note=note,
        )
        self.corrections.add(correction)
        return correction


__all__ = ["DEFAULT_EXAMPLES", "FeedbackJudge", "JudgeTask", "verdict_prompt"]
