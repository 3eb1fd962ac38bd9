"""evaluate: a served endpoint's answers scored shard by shard, gated, reviewed, reported.

The endpoint serves the tiny random Llama (gibberish, quickly), so exact match is 0 and a
gate on it fails; the pipeline retrieves from the bundled corpus with the local
all-MiniLM-L6-v2. The metrics need no judge (the LLM metrics and the local judge are
``tests/unit/evaluation``'s), but they are ragas's, computed in the evaluator's Batch jobs or,
for a small set, in the evaluator function.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

import pytest

from maas.evaluation.store import EvaluationStore
from maas.exceptions import NotFound
from maas.executions import wait_for_execution
from maas.registry import ModelRegistry
from schemas.evaluation import EvaluationStatus
from schemas.packaging import ApprovalStatus
from tests.api.caller import ApiCaller
from tests.local.support import wait_until
from tests.workflows.conftest import events_of
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime

ENDPOINT = "judged"
DATA = resources.files("maas") / "data" / "evaluation"


@pytest.fixture(scope="module")
def runtime(serving_runtime: LocalRuntime) -> LocalRuntime:
    """The model-serving runtime this module shares (its endpoint: ``judged``)."""
    return serving_runtime


@pytest.fixture(scope="module")
def api(runtime: LocalRuntime) -> ApiCaller:
    return ApiCaller(runtime)


@pytest.fixture(scope="module")
def bucket(runtime: LocalRuntime) -> str:
    name: str = runtime.resources.buckets["ArtifactsBucket"]
    s3 = runtime.client("s3")
    for file in ("questions.jsonl", "corpus.jsonl"):
        s3.put_object(Bucket=name, Key=f"acme/eval/{file}", Body=(DATA / file).read_bytes())
    return name


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, api: ApiCaller, tiny_model_dir: Path, bucket: str) -> str:
    register_served_version(runtime, "tiny-judged", tiny_model_dir)
    deployed = api(
        "POST",
        "/v1/endpoints",
        body={"endpoint_name": ENDPOINT, "model": {"model_name": "tiny-judged", "version": 1}},
    )
    assert deployed.status == 202, deployed.body
    wait_until(
        lambda: api("GET", f"/v1/endpoints/{ENDPOINT}").body.get("status") == "IN_SERVICE",
        timeout=120,
        interval=0.5,
    )
    return ENDPOINT


def evaluation(bucket: str, **overrides: Any) -> dict[str, Any]:
    return {
        "endpoint_name": ENDPOINT,
        "question_set_uri": f"s3://{bucket}/acme/eval/questions.jsonl",
        "pipeline": {
            "knowledge": {"corpus_uri": f"s3://{bucket}/acme/eval/corpus.jsonl", "top_k": 2},
            "generation": {"max_new_tokens": 4},
            "guardrail": False,
        },
        "metrics": ["exact_match", "rouge", "non_llm_context_recall"],
        "shard_size": 4,
        **overrides,
    }


def read(runtime: LocalRuntime, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body: bytes = runtime.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def finished(runtime: LocalRuntime, api: ApiCaller, body: dict[str, Any], key: str) -> Any:
    started = api("POST", "/v1/evaluations", body=body, headers={"Idempotency-Key": key})
    assert started.status == 202, started.body
    arn = started.body["execution_arn"]
    return wait_for_execution(runtime.client("stepfunctions"), arn, timeout_seconds=300)


def test_a_failed_gate_rejects_the_version_and_reports_every_question(
    runtime: LocalRuntime, api: ApiCaller, served: str, bucket: str
) -> None:
    body = evaluation(
        bucket,
        thresholds={"exact_match": 0.5},
        on_gate_failure="reject_version",
        runner="batch",
    )
    snapshot = finished(runtime, api, body, "gate-1")

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert snapshot.output["passed"] is False
    assert "Score the shard in a Batch job" in snapshot.path
    assert "Score the shard in a function" not in snapshot.path
    evaluation_id = snapshot.output["evaluation_id"]
    shown = api("GET", f"/v1/evaluations/{evaluation_id}").body
    assert shown["status"] == EvaluationStatus.GATE_FAILED.value
    assert (shown["questions"], shown["shards"], shown["runner"]) == (6, 2, "batch")
    metrics = {summary["metric"]: summary for summary in shown["metrics"]}
    assert metrics["exact_match"]["mean"] == 0.0
    assert metrics["rouge"]["scored"] == 6
    assert 0.0 <= metrics["non_llm_context_recall"]["mean"] <= 1.0
    registry = ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    assert registry.get("acme", "tiny-judged", 1).approval_status is ApprovalStatus.REJECTED
    (event,) = events_of(runtime, "EvaluationGateFailed", snapshot.name)
    assert event["report_uri"] == shown["report_uri"]
    report_key = shown["report_uri"].removeprefix(f"s3://{bucket}/")
    html = runtime.client("s3").get_object(Bucket=bucket, Key=report_key)["Body"].read()
    summary_key = shown["summary_uri"].removeprefix(f"s3://{bucket}/")
    summary = json.loads(
        runtime.client("s3").get_object(Bucket=bucket, Key=summary_key)["Body"].read()
    )
    trace_ids = [sample["trace_id"] for sample in summary["samples"]]
    assert len(trace_ids) == 6 and all(trace_ids)
    # Each question links to its trace, and the trace holds the pipeline's stages.
    assert all(trace_id.encode() in html for trace_id in trace_ids)
    traces = runtime.client("xray").batch_get_traces(TraceIds=trace_ids[:1])["Traces"]
    assert traces and "retrieval" in json.dumps(traces)


def test_a_review_waits_for_a_persons_grades(
    runtime: LocalRuntime, api: ApiCaller, served: str, bucket: str
) -> None:
    # Six questions: small enough for the evaluator function, without a Batch job.
    body = evaluation(bucket, metrics=["rouge"], shard_size=6, human_review={"sample_size": 2})
    started = api("POST", "/v1/evaluations", body=body, headers={"Idempotency-Key": "review-1"})
    assert started.status == 202, started.body
    evaluation_id = started.body["execution_name"]
    store = EvaluationStore(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))

    def awaiting() -> bool:
        try:
            return store.get("acme", evaluation_id).status is EvaluationStatus.AWAITING_REVIEW
        except NotFound:  # not planned yet
            return False

    wait_until(awaiting, timeout=240, interval=0.5)
    items = api("GET", f"/v1/evaluations/{evaluation_id}/review").body
    assert len(items) == 2 and all(item["answer"] is not None for item in items)
    shown = api("GET", f"/v1/evaluations/{evaluation_id}").body
    assert shown["review"]["task_token"] is None  # the callback token stays inside
    assert api("GET", f"/v1/evaluations/{evaluation_id}/summary").status == 409

    wrong = api(
        "POST",
        f"/v1/evaluations/{evaluation_id}/review",
        body={"grades": [{"question_id": "not-asked", "grade": "up"}]},
    )
    assert wrong.status == 422, wrong.body
    grades = [
        {"question_id": item["question_id"], "grade": "down", "note": "not an answer"}
        for item in items
    ]
    graded = api("POST", f"/v1/evaluations/{evaluation_id}/review", body={"grades": grades})
    assert graded.status == 200, graded.body

    snapshot = wait_for_execution(
        runtime.client("stepfunctions"), started.body["execution_arn"], timeout_seconds=120
    )
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert "Score the shard in a function" in snapshot.path
    assert "Score the shard in a Batch job" not in snapshot.path
    record = store.get("acme", evaluation_id)
    assert record.status is EvaluationStatus.PASSED  # no threshold: nothing to fail
    assert record.runner == "lambda"
    assert record.review is not None and len(record.review.grades) == 2
    summary_key = (record.summary_uri or "").removeprefix(f"s3://{bucket}/")
    summary = json.loads(
        runtime.client("s3").get_object(Bucket=bucket, Key=summary_key)["Body"].read()
    )
    assert [grade["grade"] for grade in summary["review"]["grades"]] == ["down", "down"]
    # Inside a function too, each question is a trace of its own, holding the stages.
    trace_ids = [sample["trace_id"] for sample in summary["samples"]]
    assert len(set(trace_ids)) == 6
    traces = runtime.client("xray").batch_get_traces(TraceIds=trace_ids[:1])["Traces"]
    assert traces and "retrieval" in json.dumps(traces)


def test_a_missing_endpoint_fails_before_any_work(
    runtime: LocalRuntime, api: ApiCaller, bucket: str
) -> None:
    refused = api("POST", "/v1/evaluations", body=evaluation(bucket, endpoint_name="absent"))
    assert refused.status == 404, refused.body

    arn = runtime.start_execution(
        "Evaluate",
        json.dumps(
            {
                **evaluation(bucket, endpoint_name="absent"),
                "tenant_id": "acme",
                "evaluation_id": "absent-1",
            }
        ),
    )
    snapshot = wait_for_execution(runtime.client("stepfunctions"), arn, timeout_seconds=60)
    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.NotFound"
    assert "Score the shards" not in snapshot.path
    (event,) = events_of(runtime, "EvaluationFailed", snapshot.name)
    assert event["error"] == "Maas.NotFound"
