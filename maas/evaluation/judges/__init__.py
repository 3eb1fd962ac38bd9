"""The judges: a local model with constrained decoding, a SageMaker endpoint, a Bedrock model.

Each implements :class:`maas.evaluation.judging.Judge`; :func:`make_judge` builds one from the
evaluation request's :data:`JudgeSpec`. The judges' modules are imported when a judge is made:
the local one needs torch and llguidance (the ``evaluation`` extra).
"""

from maas.evaluation.judges.remote import RemoteJudge, parse_answer, schema_instruction
from maas.evaluation.judges.spec import (
    JUDGE_SPEC,
    BedrockJudgeSpec,
    JudgeSpec,
    LocalJudgeSpec,
    SageMakerJudgeSpec,
    make_judge,
)

__all__ = [
    "JUDGE_SPEC",
    "BedrockJudgeSpec",
    "JudgeSpec",
    "LocalJudgeSpec",
    "RemoteJudge",
    "SageMakerJudgeSpec",
    "make_judge",
    "parse_answer",
    "schema_instruction",
]
