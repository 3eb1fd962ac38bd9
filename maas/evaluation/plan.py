"""Planning an evaluation: check it can run, read and shard the question set, record it.

Everything that can be refused is refused here, before any work starts: an endpoint the
tenant does not have (``Maas.NotFound``), one that is not in service (``Maas.Conflict``), a
question set that is missing or malformed under the ``reject`` policy
(``Maas.ValidationError`` naming each bad line), a threshold on a metric the evaluation
does not compute. The shards and the job document go to S3 under
``evaluations/<tenant>/<evaluation id>/``; each shard's Batch job (or, for a small set, its
invocation of the evaluator function: :func:`choose_runner`) reads them from there.
"""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from maas.aws import error_code, split_s3_uri
from maas.datasets.questions import question_set_version, read_question_set
from maas.evaluation.datasets import parse_jsonl, shards
from maas.evaluation.judges.spec import JUDGE_SPEC
from maas.evaluation.metric_names import LLM_METRICS
from maas.evaluation.records import QuestionRecord
from maas.evaluation.store import now
from maas.exceptions import Conflict, NotFound, ValidationError
from maas.pipeline.embedding import with_sagemaker_names
from maas.tenancy import check_tenant_file
from maas.validation import parse_as
from schemas.endpoint import EndpointStatus
from schemas.evaluation import (
    AUTO_LAMBDA_MAX_QUESTIONS,
    LAMBDA_SHARD_MAX_QUESTIONS,
    EvaluationRecord,
    EvaluationRequest,
    EvaluationSpec,
    EvaluationStatus,
    HumanReviewSettings,
    SkippedLine,
)
from schemas.pipeline import PipelineSpec

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.datasets import DatasetStore
    from maas.endpoints import EndpointRegistry
    from maas.evaluation.store import EvaluationStore
    from maas.pipeline.store import PipelineStore

#: The variables an evaluator job reads: the job document and its shard's index.
JOB_URI_VARIABLE = "MAAS_EVALUATION_JOB"
SHARD_VARIABLE = "MAAS_EVALUATION_SHARD"


class EvaluationTarget(BaseModel):
    """Whose evaluation it is, and of which endpoint serving which model version."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    evaluation_id: str
    endpoint_name: str
    model_id: str
    model_version: str


class EvaluationJob(EvaluationTarget):
    """What every shard of an evaluation does; written once to S3 as ``job.json``.

    Endpoints are named as SageMaker knows them (the endpoint under test, the pipeline's
    embedding endpoint, a SageMaker judge), looked up among the tenant's own endpoints when
    the evaluation was planned: a job calls nothing the tenant does not own.
    """

    sagemaker_endpoint_name: str
    pipeline: PipelineSpec
    metrics: list[str]
    judge: dict[str, Any] | None
    shard_uris: list[str]

    def results_uri(self, shard: int) -> str:
        """Where shard ``shard`` writes its scored samples (JSONL)."""
        return self.shard_uris[shard].replace("/shards/", "/results/")


#: Where a shard is scored: an AWS Batch job, or the evaluator image as a Lambda function.
Runner = Literal["batch", "lambda"]


class ShardTask(BaseModel):
    """One iteration of the workflow's Map: a Batch job, or an invocation of the function."""

    model_config = ConfigDict(frozen=True)

    index: int
    runner: Runner
    job_name: str
    container_overrides: dict[str, Any]


class EvaluationPlan(EvaluationTarget):
    """The plan step's output, read by the workflow's later states."""

    job_uri: str
    shards: list[ShardTask]
    human_review: HumanReviewSettings | None
    on_gate_failure: str


def address_endpoints(
    pipeline: PipelineSpec,
    judge: dict[str, Any] | None,
    *,
    endpoints: EndpointRegistry,
    tenant_id: str,
) -> tuple[PipelineSpec, dict[str, Any] | None]:
    """The pipeline and the judge with the endpoints they name (the tenant's own names) named
    as SageMaker knows them.

    A name the tenant has no endpoint of (another tenant's included) is a
    :class:`ValidationError` of the field that named it: an evaluation never calls an
    endpoint its tenant does not own.
    """
    sagemaker_name_of = partial(_tenant_endpoint, endpoints, tenant_id)
    return (
        with_sagemaker_names(pipeline, partial(sagemaker_name_of, "pipeline.knowledge.embedding")),
        _judge_addressed(judge, partial(sagemaker_name_of, "judge")),
    )


def _tenant_endpoint(
    endpoints: EndpointRegistry, tenant_id: str, field: str, endpoint_name: str
) -> str:
    """The SageMaker name of the tenant's endpoint that ``field`` names, or ``field``'s error."""
    try:
        return endpoints.sagemaker_name_of(tenant_id, endpoint_name)
    except NotFound:
        raise ValidationError(
            f"{field}.endpoint_name: the tenant has no endpoint {endpoint_name!r}"
        ) from None


def _judge_addressed(
    judge: dict[str, Any] | None, sagemaker_name_of: Callable[[str], str]
) -> dict[str, Any] | None:
    """A SageMaker judge named by the tenant's own endpoint name, as SageMaker knows it."""
    if judge is None or judge.get("kind") != "sagemaker" or not judge.get("endpoint_name"):
        return judge
    return {**judge, "endpoint_name": sagemaker_name_of(str(judge["endpoint_name"]))}


def evaluation_prefix(bucket: str, tenant_id: str, evaluation_id: str) -> str:
    """The S3 prefix of an evaluation's files.

    >>> evaluation_prefix("artifacts", "acme", "e1")
    's3://artifacts/evaluations/acme/e1/'
    """
    return f"s3://{bucket}/evaluations/{tenant_id}/{evaluation_id}/"


def plan_evaluation(
    request: EvaluationRequest,
    *,
    endpoints: EndpointRegistry,
    pipelines: PipelineStore,
    store: EvaluationStore,
    s3: Any,
    bucket: str,
    correlation_id: str,
    known_metrics: frozenset[str],
    datasets: DatasetStore | None = None,
) -> EvaluationPlan:
    """Check ``request``, write its shards and job document, and record it as running.

    A request that names a dataset version reads it through ``datasets`` (the tenant's
    :class:`~maas.datasets.DatasetStore`): the tenant's, a question set, its sha256 checked.
    """
    _check_metrics(request.metrics, request.thresholds, known_metrics)
    if request.question_set_uri is not None:
        check_tenant_file(request.question_set_uri, "question_set_uri", bucket, request.tenant_id)
    pipeline = request.pipeline or pipelines.get(request.tenant_id, request.endpoint_name).pipeline
    if pipeline.knowledge is not None:
        # The endpoint's stored pipeline too: the jobs would read its corpus for the tenant.
        corpus = pipeline.knowledge.corpus_uri
        check_tenant_file(corpus, "pipeline.knowledge.corpus_uri", bucket, request.tenant_id)
    endpoint = endpoints.get(request.tenant_id, request.endpoint_name)
    if endpoint.status is not EndpointStatus.IN_SERVICE:
        raise Conflict(
            f"endpoint: {request.endpoint_name!r} is {endpoint.status.value}, not InService"
        )
    pipeline, judge = address_endpoints(
        pipeline, request.judge, endpoints=endpoints, tenant_id=request.tenant_id
    )
    parsed = parse_jsonl(
        _question_set(request, s3, datasets),
        QuestionRecord,
        policy=request.invalid_lines,
        limit=request.max_questions,
    )
    runner = choose_runner(request, len(parsed.records))
    prefix = evaluation_prefix(bucket, request.tenant_id, request.evaluation_id)
    shard_uris = []
    for index, shard in enumerate(shards(parsed.records, request.shard_size)):
        uri = f"{prefix}shards/{index:04d}.jsonl"
        body = "".join(record.model_dump_json() + "\n" for record in shard)
        _write_text(s3, uri, body, "application/x-ndjson")
        shard_uris.append(uri)
    job = EvaluationJob(
        tenant_id=request.tenant_id,
        evaluation_id=request.evaluation_id,
        endpoint_name=request.endpoint_name,
        sagemaker_endpoint_name=endpoint.sagemaker_endpoint_name,
        model_id=endpoint.model.model_id,
        model_version=endpoint.model.version,
        pipeline=pipeline,
        metrics=request.metrics,
        judge=judge,
        shard_uris=shard_uris,
    )
    job_uri = f"{prefix}job.json"
    _write_text(s3, job_uri, job.model_dump_json(indent=2), "application/json")
    stamp = now()
    store.create(
        EvaluationRecord(
            tenant_id=request.tenant_id,
            evaluation_id=request.evaluation_id,
            status=EvaluationStatus.RUNNING,
            correlation_id=correlation_id,
            endpoint_name=request.endpoint_name,
            model_id=job.model_id,
            model_version=job.model_version,
            spec=EvaluationSpec.model_validate(
                request.model_dump(include=set(EvaluationSpec.model_fields))
            ),
            questions=len(parsed.records),
            shards=len(shard_uris),
            runner=runner,
            skipped_lines=[
                SkippedLine(line=problem.line, reason=problem.reason) for problem in parsed.problems
            ],
            created_at=stamp,
            updated_at=stamp,
        )
    )
    return EvaluationPlan(
        **job.model_dump(include=set(EvaluationTarget.model_fields)),
        job_uri=job_uri,
        shards=[
            ShardTask(
                index=index,
                runner=runner,
                job_name=_job_name(request.tenant_id, request.evaluation_id, index),
                container_overrides={
                    "Environment": [
                        {"Name": JOB_URI_VARIABLE, "Value": job_uri},
                        {"Name": SHARD_VARIABLE, "Value": str(index)},
                    ]
                },
            )
            for index in range(len(shard_uris))
        ],
        human_review=request.human_review,
        on_gate_failure=request.on_gate_failure,
    )


def choose_runner(request: EvaluationRequest, questions: int) -> Runner:
    """Where ``request``'s shards of ``questions`` questions in all are scored.

    ``auto`` chooses Lambda for a small set (at most ``AUTO_LAMBDA_MAX_QUESTIONS``), where a
    Batch job's placement and image pull would take longer than the work, unless the local
    judge scores it: a judge model on a function's CPUs is slow, and a function stops at 15
    minutes. ``lambda`` is refused for shards too big to finish in time.

    Raises
    ------
    ValidationError
        The judge is not a judge spec, or ``lambda`` was asked for with shards too big.
    """
    judge = parse_as(JUDGE_SPEC, request.judge) if request.judge is not None else None
    local_judge = judge is not None and judge.kind == "local"
    judged = bool(LLM_METRICS.intersection(request.metrics))
    if request.runner == "lambda":
        largest = min(request.shard_size, questions)
        if largest > LAMBDA_SHARD_MAX_QUESTIONS:
            raise ValidationError(
                f"runner: a Lambda function scores shards of at most "
                f"{LAMBDA_SHARD_MAX_QUESTIONS} questions (it stops at 15 minutes), this one "
                f"would get {largest}: lower shard_size or use the batch runner"
            )
        return "lambda"
    if request.runner == "batch":
        return "batch"
    small = questions <= AUTO_LAMBDA_MAX_QUESTIONS
    return "lambda" if small and not (local_judge and judged) else "batch"


def read_job(s3: Any, job_uri: str) -> EvaluationJob:
    """The job document the plan wrote."""
    return EvaluationJob.model_validate(json.loads(_read_text(s3, job_uri)))


def _check_metrics(metrics: list[str], thresholds: dict[str, float], known: frozenset[str]) -> None:
    unknown = sorted(set(metrics) - known)
    if unknown:
        raise ValidationError(
            f"metrics: unknown {', '.join(unknown)}; the known metrics are "
            + ", ".join(sorted(known))
        )
    ungated = sorted(set(thresholds) - set(metrics))
    if ungated:
        raise ValidationError(
            f"thresholds: {', '.join(ungated)} not among the metrics this evaluation computes"
        )


def _job_name(tenant_id: str, evaluation_id: str, shard: int) -> str:
    """A Batch job name (128 characters of letters, digits, - and _).

    >>> _job_name("acme", "e1", 3)
    'evaluate-acme-e1-3'
    """
    return f"evaluate-{tenant_id}-{evaluation_id}"[:120] + f"-{shard}"


def _question_set(request: EvaluationRequest, s3: Any, datasets: DatasetStore | None) -> str:
    """The question set's JSONL: the file named, or the dataset version named."""
    if request.question_set_uri is not None:
        return _read_text(s3, request.question_set_uri)
    assert request.dataset is not None  # the request names one or the other
    if datasets is None:
        raise TypeError("a request that names a dataset is planned with the tenant's datasets")
    version = question_set_version(datasets, request.tenant_id, request.dataset)
    return read_question_set(datasets, version)


def _read_text(s3: Any, uri: str) -> str:
    bucket, key = split_s3_uri(uri)
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.ClientError as exc:
        # Another tenant's file is refused (403), as is a missing one where the caller may
        # not list the bucket: both read as nothing there, as the API answers them.
        if error_code(exc) in {"NoSuchKey", "NoSuchBucket", "404", "AccessDenied", "403"}:
            raise NotFound(f"question_set_uri: nothing at {uri}") from None
        raise
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{uri}: not UTF-8 text (byte {exc.start})") from None


def _write_text(s3: Any, uri: str, text: str, content_type: str) -> None:
    bucket, key = split_s3_uri(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType=content_type)


__all__ = [
    "JOB_URI_VARIABLE",
    "SHARD_VARIABLE",
    "EvaluationJob",
    "EvaluationPlan",
    "EvaluationTarget",
    "Runner",
    "ShardTask",
    "choose_runner",
    "evaluation_prefix",
    "plan_evaluation",
    "read_job",
]
