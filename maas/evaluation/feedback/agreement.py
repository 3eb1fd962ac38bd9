"""The judge's agreement with people on a held-out set, before and after their verdicts.

Before: the judge's verdicts on the held-out outputs with nothing learnt. Then the judge runs
over a separate training part of the labelled set as it would in use, and a person's grade
reviews each verdict (a grade that contradicts it is a correction), until ``corrections``
corrections are kept or the training part ends. After: the held-out verdicts again, now
with the corrections as few-shot examples and, for a judge that gives probabilities, the
threshold the reviews fitted. An output whose verdict never parsed counts as a disagreement
and is reported as unjudged.

Agreement alone flatters a judge that says one thing: on a set with 25 good answers of 47,
"pass" every time agrees 53% of the time. Each figure therefore comes with the majority
baseline, the balanced accuracy (the mean of the shares of good and of bad outputs judged
right; 0.5 for any constant judge) and Cohen's kappa (agreement beyond what the two raters'
pass rates give by chance; 0 for a constant judge).
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
    """How often the judge's verdict matched the person's grade, good and bad outputs apart.

    An unjudged output counts against the judge whichever the grade: neither a pass of a good
    output nor a fail of a bad one.
    """

    model_config = ConfigDict(frozen=True)

    total: int
    good: int
    passed_good: int
    failed_bad: int
    unjudged: int

    @property
    def bad(self) -> int:
        """Outputs people graded bad."""
        return self.total - self.good

    @property
    def agreed(self) -> int:
        """Outputs on which the judge's verdict is the person's."""
        return self.passed_good + self.failed_bad

    @property
    def agreement(self) -> float:
        """The share of outputs on which the judge agreed with the person."""
        return self.agreed / self.total if self.total else 0.0

    @property
    def majority_baseline(self) -> float:
        """The agreement of a judge that always gives the more common grade."""
        return max(self.good, self.bad) / self.total if self.total else 0.0

    @property
    def balanced_accuracy(self) -> float:
        """The mean of the shares of good and of bad outputs judged right (0.5 by chance)."""
        shares = [
            right / count
            for right, count in ((self.passed_good, self.good), (self.failed_bad, self.bad))
            if count
        ]
        return sum(shares) / len(shares) if shares else 0.0

    @property
    def kappa(self) -> float:
        """Cohen's kappa: agreement beyond chance given the judge's and people's pass rates
        (an unjudged output counts as the verdict opposite the person's)."""
        if not self.total:
            return 0.0
        # Every bad output not rightly failed counts as passed, unjudged ones included.
        judge_passes = (self.passed_good + self.bad - self.failed_bad) / self.total
        good = self.good / self.total
        chance = judge_passes * good + (1 - judge_passes) * (1 - good)
        return (self.agreement - chance) / (1 - chance) if chance < 1 else 0.0


class AgreementReport(BaseModel):
    """Agreement on the held-out set before and after the judge learnt from people."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    before: AgreementFigures
    after: AgreementFigures
    corrections: int
    training_judged: int
    threshold: float | None = None


def agreement(judge: FeedbackJudge, labelled: Sequence[LabelledOutput]) -> AgreementFigures:
    """The judge's verdicts on ``labelled`` against the people's grades."""
    verdicts = [judge.verdict(item.input, item.output) for item in labelled]
    pairs = list(zip(labelled, verdicts, strict=True))
    return AgreementFigures(
        total=len(labelled),
        good=sum(1 for item in labelled if item.good),
        passed_good=sum(1 for item, verdict in pairs if item.good and verdict is True),
        failed_bad=sum(1 for item, verdict in pairs if not item.good and verdict is False),
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
        judgement = learning.judgement(item.input, item.output)
        judged += 1
        if judgement.passed is None:
            continue
        review = learning.review(
            item.input, item.output, judgement, human_verdict=item.good, note=item.note
        )
        kept += review.corrects
    after = agreement(learning, heldout)
    return AgreementReport(
        task_id=task.id,
        before=before,
        after=after,
        corrections=kept,
        training_judged=judged,
        threshold=learning.threshold(),
    )


__all__ = ["AgreementFigures", "AgreementReport", "agreement", "measure_agreement"]
