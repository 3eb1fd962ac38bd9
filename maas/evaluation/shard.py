"""One shard of an evaluation, as its Batch job runs it: answer every question, score them.

The job reads the evaluation's job document (``MAAS_EVALUATION_JOB``) and its shard's index
(``MAAS_EVALUATION_SHARD``), runs each question through the endpoint's RAG pipeline (every
question a trace of its own, sampled, so the report can link each to its trace), scores the
answers with the job's metrics, and writes ``results/<shard>.jsonl`` and
``results/<shard>.judge.json`` beside the shards. A question the endpoint could not answer
is recorded with every metric failed and the reason, never dropped: the gate counts it.
Progress goes to the job's log, one line per question.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from aws_xray_sdk.core.models.traceid import TraceId

from maas.aws import client, split_s3_uri
from maas.evaluation.datasets import parse_jsonl
from maas.evaluation.outcome import ShardJudging, judging_uri
from maas.evaluation.plan import JOB_URI_VARIABLE, SHARD_VARIABLE, EvaluationJob, read_job
from maas.evaluation.records import PipelineAnswer, QuestionRecord, ScoredSample
from maas.evaluation.scoring import scorer_for
from maas.exceptions import MaasError
from maas.guardrails import GuardrailChecker, resolve_guardrail
from maas.pipeline import EndpointGenerator, RagPipeline
from maas.registry.assertion_sets import AssertionSetRegistry
from maas.tracing.emitter import standalone_recorder

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from maas.evaluation.records import JudgeUsage

logger = logging.getLogger("maas.evaluation")

#: The stage whose guardrail parameters the pipeline reads (``/maas/<stage>/guardrails``).
STAGE_VARIABLE = "STAGE_NAME"


def sampled_header() -> str:
    """A new trace's ``X-Amzn-Trace-Id``, sampled: every evaluated question is recorded."""
    return f"Root={TraceId().to_id()};Sampled=1"


def answer_questions(
    pipeline: RagPipeline, questions: Sequence[QuestionRecord]
) -> tuple[list[tuple[QuestionRecord, PipelineAnswer]], dict[str, str]]:
    """Run each question through ``pipeline``; the ones it could not answer, with why."""
    answered: list[tuple[QuestionRecord, PipelineAnswer]] = []
    unanswered: dict[str, str] = {}
    for number, question in enumerate(questions, start=1):
        started = time.perf_counter()
        try:
            answer = pipeline.run(question.question, trace_header=sampled_header())
        except MaasError as exc:
            unanswered[question.id] = f"{exc.error_name}: {exc}"
            logger.warning(
                "question %s/%d %s not answered: %s", number, len(questions), question.id, exc
            )
            continue
        answered.append((question, answer))
        logger.info(
            "question %d/%d %s answered in %.1f s (trace %s)",
            number,
            len(questions),
            question.id,
            time.perf_counter() - started,
            answer.trace_id,
        )
    return answered, unanswered


def run_shard(
    job: EvaluationJob,
    shard: int,
    *,
    s3: Any,
    pipeline: RagPipeline,
    scorer: Callable[..., tuple[list[ScoredSample], JudgeUsage, str | None]],
) -> ShardJudging:
    """Answer and score shard ``shard`` of ``job``; write its results and judge usage."""
    if not 0 <= shard < len(job.shard_uris):
        raise MaasError(f"shard {shard} is not one of the job's {len(job.shard_uris)} shards")
    text = _read(s3, job.shard_uris[shard])
    questions = parse_jsonl(text, QuestionRecord).records
    logger.info("shard %d: %d questions against %s", shard, len(questions), job.endpoint_name)
    answered, unanswered = answer_questions(pipeline, questions)
    samples, usage, judge = scorer(answered, job.metrics)
    by_id = {sample.question.id: sample for sample in samples}
    rows = []
    for question in questions:
        if question.id in by_id:
            rows.append(by_id[question.id])
        else:
            reason = unanswered.get(question.id, "not scored")
            rows.append(
                ScoredSample(
                    question=question,
                    answer=PipelineAnswer(answer=""),
                    failures=dict.fromkeys(job.metrics, reason),
                )
            )
    results = job.results_uri(shard)
    _write(s3, results, "".join(row.model_dump_json() + "\n" for row in rows))
    judging = ShardJudging(judge=judge, usage=usage)
    _write(s3, judging_uri(results), judging.model_dump_json())
    logger.info(
        "shard %d: %d scored, %d unanswered, judge parse failures %d/%d",
        shard,
        len(samples),
        len(unanswered),
        usage.parse_failures,
        usage.calls,
    )
    return judging


def evaluate_shard(job_uri: str, shard: int, *, stage: str | None) -> ShardJudging:
    """Answer and score shard ``shard`` of the job at ``job_uri``: the Batch job's and the
    Lambda function's work alike.

    ``stage`` names the stage whose guardrail the pipeline applies (none without one). Each
    question's trace is recorded by a recorder of its own (see
    :func:`~maas.tracing.emitter.standalone_recorder`), so it is a trace of its own in a
    Lambda function too, and reaches X-Ray from a Batch job, which has no daemon.
    """
    s3 = client("s3")
    job = read_job(s3, job_uri)
    reference = resolve_guardrail(job.tenant_id, stage=stage) if stage else None
    pipeline = RagPipeline(
        job.pipeline,
        endpoint_name=job.endpoint_name,
        tenant=job.tenant_id,
        model=job.model_id,
        version=job.model_version,
        guardrail=GuardrailChecker(reference) if reference else None,
        generator=EndpointGenerator(job.sagemaker_endpoint_name),
        recorder=standalone_recorder(client("xray")),
    )
    assertion_sets = AssertionSetRegistry(os.environ["MODELS_TABLE_NAME"], client("dynamodb"))
    scorer = scorer_for(job, assertion_sets=assertion_sets)
    return run_shard(job, shard, s3=s3, pipeline=pipeline, scorer=scorer)


def main() -> int:
    """The Batch job's command: the shard named by the environment; exit 0 when its results
    are in."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        evaluate_shard(
            os.environ[JOB_URI_VARIABLE],
            int(os.environ[SHARD_VARIABLE]),
            stage=os.environ.get(STAGE_VARIABLE),
        )
    except (KeyError, ValueError, MaasError) as exc:
        logger.error("evaluation shard failed: %s", exc)
        return 1
    return 0


def _read(s3: Any, uri: str) -> str:
    bucket, key = split_s3_uri(uri)
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body.decode()


def _write(s3: Any, uri: str, text: str) -> None:
    bucket, key = split_s3_uri(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
