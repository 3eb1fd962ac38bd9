"""The judge's agreement with people on a held-out set, before and after corrections.

Before: the judge's verdicts on the held-out outputs with no corrections in its prompt.
Then the judge runs over a separate training part of the labelled set as it would in use;
each verdict a person's grade contradicts becomes a correction, until ``corrections`` are
kept. After: the held-out verdicts again, now with those corrections as few-shot examples.
An output whose verdict never parsed counts as a disagreement and is reported as unjudged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from maas.evaluation.feedback.corrections import CorrectionStore
from maas.evaluation.feedback.judge import DEFAULT_EXAMPLES, FeedbackJudge, JudgeTask
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.evaluation.evalgen.records import LabelledOutput
    from maas.evaluation.judging import Judge


class AgreementFigures(BaseModel):
    """How often the judge's verdict matched the person's grade."""

    model_config = ConfigDict(frozen=True)

    total: int
    agreed: int
    unjudged: int

    @property
    def agreement(self) -> float:
        """The share of outputs on which the judge agreed with the person."""
        return self.agreed / self.total if self.total else 0.0


class AgreementReport(BaseModel):
    """Agreement on the held-out set before and after the judge was corrected."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    before: AgreementFigures
    after: AgreementFigures
    corrections: int
    training_judged: int


def agreement(judge: FeedbackJudge, labelled: Sequence[LabelledOutput]) -> AgreementFigures:
    """The judge's verdicts on ``labelled`` against the people's grades."""
    verdicts = [judge.verdict(item.input, item.output) for item in labelled]
    return AgreementFigures(
        total=len(labelled),
        agreed=sum(
            1 for item, verdict in zip(labelled, verdicts, strict=True) if verdict is item.good
        ),
        unjudged=sum(1 for verdict in verdicts if verdict is None),
    )


def measure_agreement(
    judge: Judge,
    task: JudgeTask,
    *,
    training: Sequence[LabelledOutput],
    heldout: Sequence[LabelledOutput],
    corrections: int,
    examples: int = DEFAULT_EXAMPLES,
) -> AgreementReport:
    """Agreement on ``heldout`` before and after up to ``corrections`` corrections taken from
    the judge's mistakes on ``training`` (kept in memory, not in any store)."""
    overlap = {item.id for item in training} & {item.id for item in heldout}
    if overlap:
        raise ValidationError(
            f"heldout: {len(overlap)} outputs are also in the training part, e.g. {min(overlap)!r}"
        )
    learning = FeedbackJudge(judge, task, CorrectionStore(), examples=examples)
    before = agreement(learning, heldout)
    kept = 0
    judged = 0
    for item in training:
        if kept >= corrections:
            break
        verdict = learning.verdict(item.input, item.output)
        judged += 1
        if verdict is None:
            continue
        if learning.correct(
            item.input, item.output, judge_verdict=verdict, human_verdict=item.good, note=item.note
        ):
            kept += 1
    after = agreement(learning, heldout)
    return AgreementReport(
        task_id=task.id, before=before, after=after, corrections=kept, training_judged=judged
    )


__all__ = ["AgreementFigures", "AgreementReport", "agreement", "measure_agreement"]
