"""An LLM judge that learns from people's corrections.

People's verdicts on the judge's verdicts are kept per task
(:mod:`~maas.evaluation.feedback.corrections`); the corrections among them are shown to the
judge as few-shot examples on later verdicts (:mod:`~maas.evaluation.feedback.judge`), and,
for a judge that gives its probability of a pass, all of them fit the probability's cut
(:mod:`~maas.evaluation.feedback.calibration`). :mod:`~maas.evaluation.feedback.agreement`
measures, on a held-out labelled set, how well the judge agrees with people before and after.
"""

from maas.evaluation.feedback.agreement import (
    AgreementFigures,
    AgreementReport,
    agreement,
    measure_agreement,
)
from maas.evaluation.feedback.calibration import DEFAULT_THRESHOLD, decision_threshold
from maas.evaluation.feedback.corrections import Correction, CorrectionStore
from maas.evaluation.feedback.judge import FeedbackJudge, Judgement, JudgeTask, verdict_prompt

__all__ = [
    "DEFAULT_THRESHOLD",
    "AgreementFigures",
    "AgreementReport",
    "Correction",
    "CorrectionStore",
    "FeedbackJudge",
    "JudgeTask",
    "Judgement",
    "agreement",
    "decision_threshold",
    "measure_agreement",
    "verdict_prompt",
]
