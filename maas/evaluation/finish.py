"""The end of an evaluation: its report, its verdict on the record and in the registry.

What the workflow's *Write the report* step does. The report rests on every shard's results
(read again: a report is only as good as what it shows) and on the grades a person gave, if
a review was asked for. A failed gate with ``reject_version`` marks the version Rejected in
the project's registry and in SageMaker's; an endpoint serving a model that is not in the
registry has nothing to reject, which the record notes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from maas.aws import error_code, split_s3_uri
from maas.evaluation.datasets import LineProblem
from maas.evaluation.outcome import gather
from maas.evaluation.plan import EvaluationPlan, evaluation_prefix, read_job
from maas.evaluation.report import EvaluationReport, review_of, write_report
from maas.evaluation.review import review_grades
from maas.evaluation.store import now
from maas.exceptions import Conflict, NotFound
from schemas.evaluation import EvaluationRecord, EvaluationStatus, GateVerdict
from schemas.events import EvaluationCompleted, EvaluationFinished, EvaluationGateFailed

if TYPE_CHECKING:
    from maas.evaluation.store import EvaluationStore
    from maas.registry import ModelRegistry

logger = logging.getLogger(__name__)


def finish_evaluation(
    plan: EvaluationPlan,
    verdict: GateVerdict,
    *,
    store: EvaluationStore,
    registry: ModelRegistry,
    s3: Any,
    sagemaker: Any,
    bucket: str,
    region: str,
) -> EvaluationFinished:
    """Write the report, record the outcome, reject the version if asked; the event detail."""
    record = store.get(plan.tenant_id, plan.evaluation_id)
    outcome = gather(read_job(s3, plan.job_uri), record.spec, s3)
    grades = review_grades(record)
    report = EvaluationReport(
        evaluation_id=plan.evaluation_id,
        tenant_id=plan.tenant_id,
        endpoint_name=plan.endpoint_name,
        model_name=plan.model_id,
        model_version=plan.model_version,
        region=region,
        started_at=record.created_at,
        finished_at=now(),
        metrics=outcome.metrics,
        verdict=verdict if verdict.checks else None,
        judge=outcome.judge,
        judge_usage=outcome.usage,
        skipped_lines=[LineProblem(line.line, line.reason) for line in record.skipped_lines],
        review=review_of(outcome.samples, grades, verdict) if record.review else None,
        samples=outcome.samples,
    )
    _, prefix = split_s3_uri(evaluation_prefix(bucket, plan.tenant_id, plan.evaluation_id))
    location = write_report(report, bucket=bucket, prefix=prefix, s3_client=s3)
    failure = None
    if not verdict.passed and verdict.action == "reject_version":
        failure = _reject(record, verdict, registry=registry, sagemaker=sagemaker)
    store.save(
        record.model_copy(
            update={
                "status": EvaluationStatus.PASSED
                if verdict.passed
                else EvaluationStatus.GATE_FAILED,
                "report_uri": location.html_uri,
                "summary_uri": location.json_uri,
                "failure": failure,
            }
        ),
        expected={EvaluationStatus.RUNNING, EvaluationStatus.AWAITING_REVIEW},
    )
    event = EvaluationCompleted if verdict.passed else EvaluationGateFailed
    return event(
        tenant_id=plan.tenant_id,
        correlation_id=record.correlation_id,
        evaluation_id=plan.evaluation_id,
        endpoint_name=plan.endpoint_name,
        model_id=plan.model_id,
        model_version=plan.model_version,
        questions=record.questions,
        metrics=outcome.metrics,
        verdict=verdict,
        judge=outcome.judge,
        judge_parse_failures=outcome.usage.parse_failures,
        report_uri=location.html_uri,
        summary_uri=location.json_uri,
    )


def _reject(
    record: EvaluationRecord, verdict: GateVerdict, *, registry: ModelRegistry, sagemaker: Any
) -> str | None:
    missed = ", ".join(
        f"{check.metric} {check.mean if check.mean is not None else 'unscored'} < {check.threshold}"
        for check in verdict.checks
        if not check.passed
    )
    reason = f"evaluation {record.evaluation_id} failed its gate: {missed}"
    try:
        version = int(record.model_version)
        rejected = registry.reject(record.tenant_id, record.model_id, version, reason=reason)
    except (ValueError, NotFound, Conflict) as exc:
        logger.warning("version not rejected: %s", exc)
        return f"the version was not rejected: {exc}"
    if rejected.model_package_arn:
        # The project's registry decides what deploys; SageMaker's copy follows it, and a
        # failure there is reported on the evaluation rather than losing its verdict.
        try:
            sagemaker.update_model_package(
                ModelPackageArn=rejected.model_package_arn,
                ModelApprovalStatus="Rejected",
                ApprovalDescription=reason[:1024],
            )
        except ClientError as exc:
            logger.warning("model package not marked rejected: %s", exc)
            return (
                "the version is rejected in the registry; its SageMaker model package "
                f"{rejected.model_package_arn} could not be updated: {error_code(exc)}"
            )
    return None


__all__ = ["finish_evaluation"]
