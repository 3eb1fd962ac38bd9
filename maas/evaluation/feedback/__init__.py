"""An LLM judge that learns from people's corrections.

People's corrections of the judge's verdicts are kept per task
(:mod:`~maas.evaluation.feedback.corrections`) and shown to the judge as few-shot
examples on later verdicts (:mod:`~maas.evaluation.feedback.judge`);
:mod:`~maas.evaluation.feedback.agreement` measures, on a held-out labelled set, how
often the judge agrees with people before and after corrections.
"""

from maas.evaluation.feedback.agreement import (
    AgreementFigures,
    AgreementReport,
    agreement,
    measure_agreement,
)
from maas.evaluation.feedback.corrections import Correction, CorrectionStore
from maas.evaluation.feedback.judge import FeedbackJudge, JudgeTask, verdict_prompt

__all__ = [
    "AgreementFigures",
    "AgreementReport",
    "Correction",
    "CorrectionStore",
    "FeedbackJudge",
    "JudgeTask",
    "agreement",
    "measure_agreement",
    "verdict_prompt",
]
