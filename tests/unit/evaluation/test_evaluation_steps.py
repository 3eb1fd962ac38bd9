"""The evaluation workflow's steps: plan refuses early, gathers every shard, reviews, finishes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.records import table_arguments
from maas.evaluation.finish import finish_evaluation
from maas.evaluation.metric_names import METRIC_NAMES
from maas.evaluation.outcome import ShardJudging, gather, judging_uri
from maas.evaluation.plan import EvaluationPlan, plan_evaluation, read_job
from maas.evaluation.records import JudgeUsage, PipelineAnswer, QuestionRecord, ScoredSample
from maas.evaluation.review import review_items, submit_review
from maas.evaluation.store import EvaluationStore
from maas.exceptions import Conflict, IntegrityError, NotFound, ValidationError
from maas.pipeline.store import PipelineStore
from maas.registry import ModelRegistry
from schemas import DeploymentRequest
from schemas.evaluation import (
    EvaluationRequest,
    EvaluationStatus,
    ReviewState,
    ReviewSubmission,
)
from schemas.pipeline import PipelineSpec
from tests.factories import ARTIFACTS_BUCKET, deployment_request

if TYPE_CHECKING:
    from collections.abc import Iterator

TRACE_ID = "1-5f84c7a1-2b7c3a0e9d1f4e5a6b7c8d9e"
QUESTIONS = [
    {"id": f"q{n}", "question": f"What is {n} + {n}?", "reference": str(2 * n)} for n in range(1, 6)
]


class World:
    """A moto account with the tables, the bucket and one endpoint in service."""

    def __init__(self) -> None:
        self.dynamodb = boto3.client("dynamodb")
        self.s3 = boto3.client("s3")
        self.sfn = boto3.client("stepfunctions")
        for table in ("endpoints", "models"):
            self.dynamodb.create_table(**table_arguments(table))
        self.s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
        self.endpoints = EndpointRegistry("endpoints", self.dynamodb)
        self.pipelines = PipelineStore("models", self.dynamodb)
        self.store = EvaluationStore("models", self.dynamodb)
        self.registry = ModelRegistry("models", self.dynamodb)

    def serve(self, name: str = "chat", *, in_service: bool = True) -> None:
        plan = plan_deployment(
            DeploymentRequest.model_validate(deployment_request(endpoint_name=name)),
            correlation_id=f"deploy-{name}",
            artifacts_bucket=ARTIFACTS_BUCKET,
            poll_interval_seconds=1,
            max_status_checks=5,
        )
        self.endpoints.begin_deployment(plan)
        if in_service:
            self.endpoints.mark_in_service(
                "acme", name, correlation_id=f"deploy-{name}", endpoint_arn="arn:endpoint"
            )

    def questions(self, lines: list[str] | None = None) -> str:
        body = "\n".join(lines if lines is not None else [json.dumps(row) for row in QUESTIONS])
        self.s3.put_object(Bucket=ARTIFACTS_BUCKET, Key="acme/sets/questions.jsonl", Body=body)
        return f"s3://{ARTIFACTS_BUCKET}/acme/sets/questions.jsonl"

    def plan(self, **overrides: Any) -> EvaluationPlan:
        request = EvaluationRequest.model_validate(
            {
                "tenant_id": "acme",
                "evaluation_id": "e1",
                "endpoint_name": "chat",
                "question_set_uri": overrides.pop("question_set_uri", None) or self.questions(),
                "metrics": ["exact_match", "rouge"],
                "shard_size": 2,
                **overrides,
            }
        )
        return plan_evaluation(
            request,
            endpoints=self.endpoints,
            pipelines=self.pipelines,
            store=self.store,
            s3=self.s3,
            bucket=ARTIFACTS_BUCKET,
            correlation_id="eval-run-1",
            known_metrics=METRIC_NAMES,
        )

    def score_shards(self, plan: EvaluationPlan, *, exact: float = 1.0) -> None:
        """What the evaluator jobs write: every question scored."""
        job = read_job(self.s3, plan.job_uri)
        for shard, uri in enumerate(job.shard_uris):
            bucket, key = uri.removeprefix("s3://").split("/", 1)
            questions = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            rows = [
                ScoredSample(
                    question=QuestionRecord.model_validate_json(line),
                    answer=PipelineAnswer(
                        answer="4", trace_id="1-5f84c7a1-2b7c3a0e9d1f4e5a6b7c8d9e"
                    ),
                    scores={"exact_match": exact, "rouge": 0.5},
                )
                for line in questions.splitlines()
            ]
            results = job.results_uri(shard)
            _, results_key = results.removeprefix("s3://").split("/", 1)
            self.s3.put_object(
                Bucket=ARTIFACTS_BUCKET,
                Key=results_key,
                Body="".join(row.model_dump_json() + "\n" for row in rows),
            )
            _, judging_key = judging_uri(results).removeprefix("s3://").split("/", 1)
            self.s3.put_object(
                Bucket=ARTIFACTS_BUCKET,
                Key=judging_key,
                Body=ShardJudging(judge=None, usage=JudgeUsage()).model_dump_json(),
            )


@pytest.fixture
def world(aws: None) -> Iterator[World]:
    made = World()
    made.serve()
    yield made


def test_a_plan_shards_the_questions_and_records_the_evaluation(world: World) -> None:
    plan = world.plan()
    assert [shard.index for shard in plan.shards] == [0, 1, 2]
    assert plan.shards[0].container_overrides["Environment"][0]["Value"] == plan.job_uri
    job = read_job(world.s3, plan.job_uri)
    assert job.pipeline == PipelineSpec()  # the endpoint has no pipeline of its own
    record = world.store.get("acme", "e1")
    assert (record.status, record.questions, record.shards) == (EvaluationStatus.RUNNING, 5, 3)
    assert record.spec.endpoint_name == "chat"


@pytest.mark.parametrize(
    ("settings", "runner"),
    [
        # A small set: a Batch job's start-up would outweigh the work.
        ({}, "lambda"),
        ({"metrics": ["faithfulness"], "judge": {"kind": "bedrock", "model_id": "m"}}, "lambda"),
        # The local judge is slow on a function's CPUs; without an LLM metric it never runs.
        ({"metrics": ["faithfulness"], "judge": {"kind": "local"}}, "batch"),
        ({"metrics": ["rouge"], "judge": {"kind": "local"}}, "lambda"),
        ({"runner": "batch"}, "batch"),
        ({"runner": "lambda", "shard_size": 25}, "lambda"),
    ],
)
def test_a_small_set_is_scored_in_functions_unless_told_or_judged_locally(
    world: World, settings: dict[str, Any], runner: str
) -> None:
    plan = world.plan(**settings)
    assert {shard.runner for shard in plan.shards} == {runner}
    assert world.store.get("acme", "e1").runner == runner


def test_a_large_set_is_scored_in_batch_jobs(world: World) -> None:
    lines = [json.dumps({**QUESTIONS[0], "id": f"q{n}"}) for n in range(11)]
    plan = world.plan(question_set_uri=world.questions(lines), shard_size=4)
    assert [shard.runner for shard in plan.shards] == ["batch"] * 3


def test_shards_too_big_for_a_function_are_refused_before_anything_is_written(
    world: World,
) -> None:
    lines = [json.dumps({**QUESTIONS[0], "id": f"q{n}"}) for n in range(26)]
    uri = world.questions(lines)
    with pytest.raises(ValidationError, match=r"at most 25 questions .* would get 26"):
        world.plan(question_set_uri=uri, runner="lambda", shard_size=30)
    with pytest.raises(NotFound):
        world.store.get("acme", "e1")
    listed = world.s3.list_objects_v2(Bucket=ARTIFACTS_BUCKET, Prefix="evaluations/")
    assert listed.get("KeyCount", 0) == 0


def test_a_missing_endpoint_is_refused_before_anything_is_written(world: World) -> None:
    with pytest.raises(NotFound):
        world.plan(endpoint_name="nope")
    with pytest.raises(NotFound):
        world.store.get("acme", "e1")


def test_an_endpoint_not_in_service_is_a_conflict(world: World) -> None:
    world.serve("cold", in_service=False)
    with pytest.raises(Conflict, match="'cold' is CREATING, not InService"):
        world.plan(endpoint_name="cold")


def test_bad_lines_are_named_by_number_or_skipped_by_policy(world: World) -> None:
    lines = [json.dumps(QUESTIONS[0]), "{not json", json.dumps({"id": "q9", "question": "x"})]
    uri = world.questions(lines)
    with pytest.raises(
        ValidationError, match=r"line 2: not JSON .*line 3: reference: Field required"
    ):
        world.plan(question_set_uri=uri)
    plan = world.plan(question_set_uri=uri, invalid_lines="skip", evaluation_id="e2")
    record = world.store.get("acme", plan.evaluation_id)
    assert record.questions == 1
    assert [line.line for line in record.skipped_lines] == [2, 3]


def test_unknown_metrics_and_ungated_thresholds_are_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="unknown bleurt; the known metrics are"):
        world.plan(metrics=["bleurt"])
    with pytest.raises(ValidationError, match="faithfulness not among the metrics"):
        world.plan(thresholds={"faithfulness": 0.8})


def test_a_missing_question_set_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="nothing at s3://"):
        world.plan(question_set_uri=f"s3://{ARTIFACTS_BUCKET}/acme/sets/absent.jsonl")


def test_gather_fails_when_a_shard_wrote_nothing(world: World) -> None:
    plan = world.plan()
    record = world.store.get("acme", "e1")
    with pytest.raises(IntegrityError, match="a shard wrote no results"):
        gather(read_job(world.s3, plan.job_uri), record.spec, world.s3)


def test_a_missed_threshold_fails_the_gate_and_rejects_nothing_unknown(world: World) -> None:
    plan = world.plan(thresholds={"exact_match": 0.9}, on_gate_failure="reject_version")
    world.score_shards(plan, exact=0.0)
    record = world.store.get("acme", "e1")
    outcome = gather(read_job(world.s3, plan.job_uri), record.spec, world.s3)
    assert not outcome.verdict.passed
    detail = finish_evaluation(
        plan,
        outcome.verdict,
        store=world.store,
        registry=world.registry,
        s3=world.s3,
        sagemaker=boto3.client("sagemaker"),
        bucket=ARTIFACTS_BUCKET,
        region="us-east-1",
    )
    assert type(detail).__name__ == "EvaluationGateFailed"
    finished = world.store.get("acme", "e1")
    assert finished.status is EvaluationStatus.GATE_FAILED
    # The endpoint serves an explicit image, not a registry version: nothing to reject.
    assert finished.failure is not None and "not rejected" in finished.failure
    html = world.s3.get_object(Bucket=ARTIFACTS_BUCKET, Key="evaluations/acme/e1/report.html")
    assert b"exact_match" in html["Body"].read()
    assert detail.report_uri == f"s3://{ARTIFACTS_BUCKET}/evaluations/acme/e1/report.html"


def test_a_review_takes_only_the_asked_answers_and_resumes_the_workflow(world: World) -> None:
    plan = world.plan(human_review={"sample_size": 2})
    world.score_shards(plan)
    record = world.store.get("acme", "e1")
    with pytest.raises(Conflict, match="is Running, not AwaitingReview"):
        review_items(record, s3=world.s3, bucket=ARTIFACTS_BUCKET)
    waiting = world.store.save(
        record.model_copy(
            update={
                "status": EvaluationStatus.AWAITING_REVIEW,
                "review": ReviewState(question_ids=["q1", "q4"], task_token="token-1"),
            }
        ),
        expected={EvaluationStatus.RUNNING},
    )
    items = review_items(waiting, s3=world.s3, bucket=ARTIFACTS_BUCKET)
    assert [item.question_id for item in items] == ["q1", "q4"]
    assert items[1].question == "What is 4 + 4?"
    with pytest.raises(ValidationError, match="q2 not among the answers to review"):
        submit_review(
            waiting,
            ReviewSubmission.model_validate({"grades": [{"question_id": "q2", "grade": "up"}]}),
            store=world.store,
            stepfunctions=world.sfn,
        )

    sent: list[dict[str, Any]] = []

    class Callback:
        def send_task_success(self, **arguments: Any) -> None:
            sent.append(arguments)

    saved = submit_review(
        waiting,
        ReviewSubmission.model_validate(
            {
                "grades": [
                    {"question_id": "q1", "grade": "up"},
                    {"question_id": "q4", "grade": "down", "note": "wrong"},
                ]
            }
        ),
        store=world.store,
        stepfunctions=Callback(),
    )
    assert sent[0]["taskToken"] == "token-1"
    assert saved.status is EvaluationStatus.RUNNING
    assert saved.review is not None and saved.review.task_token is None
    assert [grade.grade for grade in saved.review.grades] == ["up", "down"]


def test_another_tenants_files_cannot_be_named(world: World) -> None:
    world.s3.put_object(Bucket=ARTIFACTS_BUCKET, Key="globex/q.jsonl", Body=b"{}")
    with pytest.raises(ValidationError, match="only the tenant's own files"):
        world.plan(question_set_uri=f"s3://{ARTIFACTS_BUCKET}/globex/q.jsonl")


def test_the_endpoints_stored_pipeline_may_not_read_another_tenants_corpus(world: World) -> None:
    corpus = f"s3://{ARTIFACTS_BUCKET}/globex/corpus.jsonl"
    world.pipelines.put(
        "acme", "chat", PipelineSpec.model_validate({"knowledge": {"corpus_uri": corpus}})
    )
    with pytest.raises(ValidationError, match=r"pipeline.knowledge.corpus_uri: .* own files"):
        world.plan()
    with pytest.raises(NotFound):
        world.store.get("acme", "e1")
