"""The evaluation report: an HTML page and a JSON summary of one evaluation, side by side in S3.

An :class:`EvaluationReport` is everything an evaluation found: each metric's summary, the
gate's verdict, the judge and how often its answers failed to parse, every scored sample
with its contexts and trace id, the question-set lines left out, and the people's grades
when there was a review. :func:`render_html` (in :mod:`maas.evaluation.report_html`) draws it
as one self-contained page; :func:`summary_document` is the JSON that the event and the API
link to, the same but without the retrieved passages' text. :func:`write_report` puts both
in S3 and :func:`read_summary` reads the summary back.

Only pydantic and the standard library: the report is written by a Lambda.

Examples
--------
>>> from datetime import UTC, datetime
>>> from maas.evaluation.gate import summarize
>>> from maas.evaluation.records import PipelineAnswer, QuestionRecord, ScoredSample
>>> sample = ScoredSample(
...     question=QuestionRecord(id="q1", question="2+2?", reference="4"),
...     answer=PipelineAnswer(answer="4", trace_id="1-5f84c7a1-2b7c3a0e9d1f4e5a6b7c8d9e"),
...     scores={"exact_match": 1.0},
... )
>>> report = EvaluationReport(
...     evaluation_id="eval-1", tenant_id="acme", endpoint_name="acme-smollm2",
...     model_name="smollm2", model_version="3", region="eu-west-1",
...     started_at=datetime(2026, 11, 28, 9, tzinfo=UTC),
...     finished_at=datetime(2026, 11, 28, 9, 5, tzinfo=UTC),
...     metrics=summarize([sample], ["exact_match"]), samples=[sample],
... )
>>> document = summary_document(report)
>>> document["samples"][0]["scores"], document["metrics"][0]["mean"]
({'exact_match': 1.0}, 1.0)
>>> document["samples"][0]["trace_url"].endswith("#xray:traces/1-5f84c7a1-2b7c3a0e9d1f4e5a6b7c8d9e")
True
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import pydantic
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from maas.evaluation.datasets import LineProblem
from maas.evaluation.evalgen.alignment import AlignmentFigures, alignment_figures, combine
from maas.evaluation.evalgen.records import Grade
from maas.evaluation.records import JudgeUsage, ScoredSample
from maas.evaluation.report_html import render_html, trace_link
from maas.exceptions import NotFound, ValidationError
from maas.validation import describe_errors
from schemas.common import EndpointName, S3Uri, TenantId
from schemas.evaluation import EvaluationId, GateVerdict, MetricSummary

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Object names under a report's prefix.
HTML_NAME = "report.html"
SUMMARY_NAME = "summary.json"

Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"),
    Field(description="The AWS region the evaluation ran in.", examples=["eu-west-1"]),
]


class ReportReview(BaseModel):
    """People's grades of the answers, and how well the gate's thresholds agree with them.

    ``alignment`` treats the thresholds as a check on each sample (it passes when every
    thresholded metric scored at or above its threshold) and measures it against the grades
    as EvalGen does (:mod:`maas.evaluation.evalgen.alignment`); it is None when there is no
    threshold, or when the grades are not both up and down.
    """

    model_config = ConfigDict(frozen=True)

    grades: list[Grade]
    alignment: AlignmentFigures | None = None


class _ReportHeader(BaseModel):
    """What the page and the summary both carry."""

    model_config = ConfigDict(frozen=True)

    evaluation_id: EvaluationId
    tenant_id: TenantId
    endpoint_name: EndpointName
    model_name: str = Field(
        min_length=1, max_length=256, description="The served model: a registry name or hub id."
    )
    model_version: str = Field(min_length=1, max_length=32)
    region: Region
    started_at: AwareDatetime
    finished_at: AwareDatetime
    metrics: list[MetricSummary]
    verdict: GateVerdict | None = Field(
        default=None, description="The gate's verdict; none when the request set no threshold."
    )
    judge: str | None = Field(
        default=None,
        description="The LLM judge, as kind:model (local:SmolLM2-135M-Instruct); none when "
        "no metric needed one.",
    )
    judge_usage: JudgeUsage = Field(default_factory=JudgeUsage)
    skipped_lines: list[LineProblem] = Field(
        default_factory=list, description="Question-set lines left out, by number."
    )
    review: ReportReview | None = None


class EvaluationReport(_ReportHeader):
    """One evaluation, whole: the source of the HTML page and of the JSON summary."""

    samples: list[ScoredSample]


class ContextReference(BaseModel):
    """A retrieved passage as the summary keeps it: its id and similarity, not its text."""

    model_config = ConfigDict(frozen=True)

    id: str
    score: float


class SampleSummary(BaseModel):
    """One row of the summary: a question, its answer, scores or failures, and its trace."""

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    reference: str
    answer: str
    blocked: bool
    contexts: list[ContextReference]
    scores: dict[str, float]
    failures: dict[str, str]
    trace_id: str | None
    trace_url: str | None
    latency_ms: float
    tokens_in: int
    tokens_out: int


class ReportSummary(_ReportHeader):
    """The JSON summary beside the page: the report without the retrieved passages' text."""

    judge_parse_failure_share: float = Field(
        ge=0, le=1, description="Judge calls whose answer never parsed, after retries."
    )
    samples: list[SampleSummary]


class ReportLocation(BaseModel):
    """Where a report was written."""

    model_config = ConfigDict(frozen=True)

    html_uri: S3Uri
    json_uri: S3Uri


def review_of(
    samples: Iterable[ScoredSample], grades: Iterable[Grade], verdict: GateVerdict | None
) -> ReportReview:
    """The review of ``samples``: each one's latest grade, and the gate's agreement with them.

    Grades of outputs that are not among ``samples`` are left out.
    """
    by_id = {sample.question.id: sample for sample in samples}
    latest: dict[str, Grade] = {}
    for grade in sorted(grades, key=lambda grade: grade.graded_at):
        if grade.output_id in by_id:
            latest[grade.output_id] = grade
    alignment = None
    good = {output_id: grade.good for output_id, grade in latest.items()}
    if verdict is not None and verdict.checks and len(set(good.values())) == 2:
        passed = {
            output_id: combine(
                [
                    None
                    if check.metric not in by_id[output_id].scores
                    else by_id[output_id].scores[check.metric] >= check.threshold
                    for check in verdict.checks
                ]
            )
            for output_id in good
        }
        alignment = alignment_figures(passed, good)
    return ReportReview(grades=list(latest.values()), alignment=alignment)


def summary_document(report: EvaluationReport) -> dict[str, Any]:
    """The JSON summary of ``report`` (a :class:`ReportSummary` as plain JSON types)."""
    header = {name: getattr(report, name) for name in _ReportHeader.model_fields}
    summary = ReportSummary(
        **header,
        judge_parse_failure_share=report.judge_usage.failure_share,
        samples=[_sample_summary(sample, report.region) for sample in report.samples],
    )
    return summary.model_dump(mode="json")


def write_report(
    report: EvaluationReport, *, bucket: str, prefix: str, s3_client: Any
) -> ReportLocation:
    """Put the page and the summary under ``prefix`` (the evaluation's folder) in ``bucket``.

    The objects are ``<prefix>/report.html`` (``text/html``) and ``<prefix>/summary.json``
    (``application/json``); the bucket's default encryption applies.
    """
    folder = prefix.strip("/")
    html_key = f"{folder}/{HTML_NAME}" if folder else HTML_NAME
    json_key = f"{folder}/{SUMMARY_NAME}" if folder else SUMMARY_NAME
    s3_client.put_object(
        Bucket=bucket,
        Key=html_key,
        Body=render_html(report).encode("utf-8"),
        ContentType="text/html; charset=utf-8",
    )
    s3_client.put_object(
        Bucket=bucket,
        Key=json_key,
        Body=json.dumps(summary_document(report), ensure_ascii=False).encode("utf-8"),
        ContentType="application/json",
    )
    return ReportLocation(
        html_uri=f"s3://{bucket}/{html_key}", json_uri=f"s3://{bucket}/{json_key}"
    )


def read_summary(uri: str, *, s3_client: Any) -> ReportSummary:
    """The summary at ``uri`` (a :attr:`ReportLocation.json_uri`).

    Raises :class:`NotFound` when there is no such object and :class:`ValidationError` when
    it is not a report summary.
    """
    # Imported here: maas.aws loads boto3, and ReportSummary is also the client install's
    # answer type (sdk/python), which has no boto3.
    from maas.aws import error_code, split_s3_uri  # noqa: PLC0415

    bucket, key = split_s3_uri(uri)
    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        if error_code(exc) in {"NoSuchKey", "NoSuchBucket", "404"}:
            raise NotFound(f"no evaluation summary at {uri}") from exc
        raise
    try:
        return ReportSummary.model_validate_json(body)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            f"{uri} is not an evaluation summary: {describe_errors(exc.errors())}"
        ) from exc


def _sample_summary(sample: ScoredSample, region: str) -> SampleSummary:
    answer = sample.answer
    return SampleSummary(
        id=sample.question.id,
        question=sample.question.question,
        reference=sample.question.reference,
        answer=answer.answer,
        blocked=answer.blocked,
        contexts=[
            ContextReference(id=context.id, score=context.score) for context in answer.contexts
        ],
        scores=sample.scores,
        failures=sample.failures,
        trace_id=answer.trace_id,
        trace_url=trace_link(answer.trace_id, region) if answer.trace_id else None,
        latency_ms=answer.latency_ms,
        tokens_in=answer.tokens_in,
        tokens_out=answer.tokens_out,
    )


__all__ = [
    "HTML_NAME",
    "SUMMARY_NAME",
    "ContextReference",
    "EvaluationReport",
    "ReportLocation",
    "ReportReview",
    "ReportSummary",
    "SampleSummary",
    "read_summary",
    "render_html",
    "review_of",
    "summary_document",
    "trace_link",
    "write_report",
]
