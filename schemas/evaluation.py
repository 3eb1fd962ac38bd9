"""An evaluation: a question set run against an endpoint, scored, gated and reported.

An :class:`EvaluationSpec` is what a caller asks for (the API's body); the
:class:`EvaluationRequest` adds the tenant and the id that names the execution. The
workflow's gate compares each metric's mean with the spec's ``thresholds``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from schemas.common import DOCUMENT_CONFIG, REQUEST_CONFIG, EndpointName, S3Uri, TenantId
from schemas.datasets import DatasetVersionRef
from schemas.pipeline import PipelineSpec

EvaluationId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(
        description="Names the evaluation and its execution (Step Functions allows 80).",
        examples=["eval-2026-11-28"],
    ),
]

MetricName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$"),
    Field(examples=["faithfulness"]),
]

#: What a gate does when a threshold is missed.
GateFailureAction = Literal["report", "reject_version", "teardown"]


class HumanReviewSettings(BaseModel):
    """Wait for a person to grade a sample of the answers before the evaluation completes."""

    model_config = REQUEST_CONFIG

    sample_size: StrictInt = Field(default=5, ge=1, le=100, description="Answers to grade.")
    timeout_seconds: StrictInt = Field(
        default=86_400, ge=60, le=7 * 86_400, description="How long the workflow waits."
    )


#: Where an evaluation's shards may be scored; ``auto`` lets the plan choose.
EvaluationRunner = Literal["auto", "batch", "lambda"]
#: The most questions a shard scored by a Lambda function may hold: a function runs 15
#: minutes at most, and each question is a generation plus the judge's calls.
LAMBDA_SHARD_MAX_QUESTIONS = 25
#: The largest set ``auto`` scores in Lambda functions: below it a Batch job's start-up
#: (placement, image pull) outweighs the work.
AUTO_LAMBDA_MAX_QUESTIONS = 10


class EvaluationSettings(BaseModel):
    """How to evaluate an endpoint: the questions, the pipeline, the metrics, the gate."""

    model_config = REQUEST_CONFIG

    question_set_uri: S3Uri | None = Field(
        default=None,
        description="JSONL: one {id, question, reference, reference_contexts?} per line. "
        "Or name a dataset version instead (dataset).",
    )
    dataset: DatasetVersionRef | None = Field(
        default=None,
        description="A version of one of the tenant's question_set datasets (/v1/datasets), "
        "as the question set: read as stored, its sha256 checked.",
    )
    pipeline: PipelineSpec | None = Field(
        default=None,
        description="The RAG pipeline under test; the endpoint's configured pipeline (PUT "
        "/v1/endpoints/{name}/pipeline) when omitted.",
    )
    metrics: list[MetricName] = Field(
        default_factory=lambda: ["faithfulness", "answer_relevancy", "rouge", "exact_match"],
        min_length=1,
        description="Metric names (maas.evaluation.metrics lists the known ones).",
    )
    judge: dict[str, Any] | None = Field(
        default=None,
        description="The LLM judge (maas.evaluation.judges' JudgeSpec): local, sagemaker or "
        "bedrock; the endpoint under test when omitted.",
    )
    thresholds: dict[MetricName, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Metric -> the lowest mean that passes the gate.",
        examples=[{"faithfulness": 0.8}],
    )
    on_gate_failure: GateFailureAction = Field(
        default="report",
        description="report: only publish EvaluationGateFailed; reject_version: also mark "
        "the model version rejected; teardown: also tear the endpoint down.",
    )
    invalid_lines: Literal["reject", "skip"] = Field(
        default="reject",
        description="A malformed question-set line fails the evaluation before any work "
        "(reject) or is reported and left out (skip).",
    )
    shard_size: StrictInt = Field(default=25, ge=1, le=1000, description="Questions per shard.")
    runner: EvaluationRunner = Field(
        default="auto",
        description="Where each shard is scored: batch (an AWS Batch job), lambda (a Lambda "
        f"function, 15 minutes at most: shards of at most {LAMBDA_SHARD_MAX_QUESTIONS} "
        f"questions), or auto: lambda for a set of at most {AUTO_LAMBDA_MAX_QUESTIONS} "
        "questions unless the local judge scores it, batch otherwise.",
    )
    max_questions: StrictInt = Field(default=1000, ge=1, le=100_000)
    human_review: HumanReviewSettings | None = None

    @model_validator(mode="after")
    def _one_question_set(self) -> EvaluationSettings:
        if (self.question_set_uri is None) == (self.dataset is None):
            raise ValueError("name the questions by question_set_uri or by dataset, one of them")
        return self


class EvaluationSpec(EvaluationSettings):
    """What to evaluate, how to score it and what passes."""

    endpoint_name: EndpointName


class EvaluationRequest(EvaluationSpec):
    """An evaluation of a tenant, named by its id."""

    tenant_id: TenantId
    evaluation_id: EvaluationId


class MetricSummary(BaseModel):
    """One metric over the scored samples."""

    model_config = ConfigDict(frozen=True)

    metric: str
    scored: int = Field(description="Samples with a score.")
    failed: int = Field(description="Samples the metric could not score.")
    mean: float | None = Field(default=None, description="None when no sample scored.")
    median: float | None = None
    minimum: float | None = None
    maximum: float | None = None


class ThresholdCheck(BaseModel):
    """One threshold of the gate and how the evaluation fared against it."""

    model_config = ConfigDict(frozen=True)

    metric: str
    threshold: float
    mean: float | None = Field(default=None, description="None when no sample scored.")
    passed: bool


class GateVerdict(BaseModel):
    """The gate's verdict: passed when every threshold is met."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    checks: list[ThresholdCheck]
    action: GateFailureAction | None = Field(
        default=None, description="What follows a failed gate; none when it passed."
    )


class EvaluationStatus(StrEnum):
    """Where an evaluation stands."""

    RUNNING = "Running"
    AWAITING_REVIEW = "AwaitingReview"
    PASSED = "Passed"
    GATE_FAILED = "GateFailed"
    FAILED = "Failed"


class SkippedLine(BaseModel):
    """A question-set line left out under the ``skip`` policy."""

    model_config = ConfigDict(frozen=True)

    line: int
    reason: str


class ReviewGrade(BaseModel):
    """A person's thumbs up or down on one answer."""

    model_config = REQUEST_CONFIG

    question_id: str = Field(min_length=1, max_length=128)
    grade: Literal["up", "down"]
    note: str | None = Field(default=None, max_length=2000)


class ReviewState(BaseModel):
    """The human review an evaluation waits for: what to grade and what was graded."""

    model_config = DOCUMENT_CONFIG

    question_ids: list[str]
    task_token: str | None = Field(
        default=None, description="The workflow's callback token; never shown to callers."
    )
    grades: list[ReviewGrade] = Field(default_factory=list)
    reviewer: str | None = None


class EvaluationRecord(BaseModel):
    """One evaluation of one tenant, from its plan to its report."""

    model_config = DOCUMENT_CONFIG

    tenant_id: TenantId
    evaluation_id: EvaluationId
    status: EvaluationStatus
    correlation_id: str
    endpoint_name: EndpointName
    model_id: str
    model_version: str
    spec: EvaluationSpec
    questions: int = Field(ge=0)
    shards: int = Field(ge=0)
    runner: Literal["batch", "lambda"] | None = Field(
        default=None, description="Where the plan chose to score the shards."
    )
    skipped_lines: list[SkippedLine] = Field(default_factory=list)
    metrics: list[MetricSummary] = Field(default_factory=list)
    verdict: GateVerdict | None = None
    judge: str | None = None
    judge_calls: int = 0
    judge_parse_failures: int = 0
    review: ReviewState | None = None
    report_uri: str | None = Field(default=None, description="The HTML report in S3.")
    summary_uri: str | None = Field(default=None, description="The JSON summary in S3.")
    failure: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ReviewSubmission(BaseModel):
    """A person's grades of the answers an evaluation waits on."""

    model_config = REQUEST_CONFIG

    grades: list[ReviewGrade] = Field(min_length=1, max_length=100)
    reviewer: str | None = Field(default=None, max_length=256)


class ReviewItem(BaseModel):
    """One answer to grade: the question, the reference, the answer and its scores."""

    model_config = ConfigDict(frozen=True)

    question_id: str
    question: str
    reference: str
    answer: str
    context_ids: list[str]
    scores: dict[str, float]
    trace_id: str | None = None


__all__ = [
    "EvaluationId",
    "EvaluationRecord",
    "EvaluationRequest",
    "EvaluationSettings",
    "EvaluationSpec",
    "EvaluationStatus",
    "GateFailureAction",
    "GateVerdict",
    "HumanReviewSettings",
    "MetricName",
    "MetricSummary",
    "ReviewGrade",
    "ReviewItem",
    "ReviewState",
    "ReviewSubmission",
    "SkippedLine",
    "ThresholdCheck",
]
