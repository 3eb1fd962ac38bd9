"""/v1/endpoints/{name}/pipeline and /invoke: a served endpoint asked through its pipeline.

The endpoint serves the tiny random Llama (it writes gibberish, quickly); the pipeline
retrieves from a five-document corpus with the local all-MiniLM-L6-v2 and applies the stage's
default guardrail, all on the local runtime. The SDK's and the CLI's ``invoke`` are tested
here too, through the API served over HTTP, so that the served model and the embedding
model are loaded once.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.dynamodb import to_item
from maas.guardrails import GuardrailChecker, resolve_guardrail
from maas.local import LocalRuntime, LocalSettings
from maas.pipeline.local_embedder import LocalEmbedder
from maas.sdk import Conflict, MaasClient
from schemas.endpoint import EndpointRecord, EndpointStatus
from schemas.pipeline import EndpointPipeline, GenerationSettings, PipelineSpec
from tests.api.caller import ApiCaller, deploy_in_service
from tests.local.support import wait_until
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from pathlib import Path

    from tests.api.served import ServedApi

ENDPOINT = "served"
DOCUMENTS = [
    {"id": "paris", "title": "Paris", "text": "Paris is the capital city of France."},
    {"id": "tokyo", "title": "Tokyo", "text": "Tokyo is the capital of Japan."},
    {"id": "warranty", "text": "The warranty covers manufacturing defects for two years."},
    {"id": "python", "text": "Python is a programming language created by Guido."},
    {"id": "tea", "text": "Green tea is brewed at about 80 degrees Celsius."},
]
STAGES = {"prompt", "embedding", "retrieval", "generation", "guardrail"}


@pytest.fixture(scope="module")
def runtime(serving_runtime: LocalRuntime) -> LocalRuntime:
    """The model-serving runtime this module shares (its endpoints: ``served``, ``warming``)."""
    return serving_runtime


@pytest.fixture(scope="module")
def api(runtime: LocalRuntime) -> ApiCaller:
    return ApiCaller(runtime)


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, api: ApiCaller, tiny_model_dir: Path) -> str:
    """An endpoint in service with the tiny model, and a corpus its pipeline retrieves from."""
    version = register_served_version(runtime, "tiny-chat", tiny_model_dir)
    bucket = version.artifact_uri.removeprefix("s3://").partition("/")[0]
    s3 = runtime.client("s3")
    corpus = "\n".join(json.dumps(document) for document in DOCUMENTS).encode()
    s3.put_object(Bucket=bucket, Key="acme/corpus/faq.jsonl", Body=corpus)
    deploy_in_service(api, ENDPOINT, "tiny-chat", 1, lambda: _warm_up(runtime))
    pipeline = {
        "prompt_template": "Context:\n{context}\nQ: {question}\nA:",
        "knowledge": {"corpus_uri": f"s3://{bucket}/acme/corpus/faq.jsonl", "top_k": 2},
        "generation": {"max_new_tokens": 4},
    }
    configured = api("PUT", f"/v1/endpoints/{ENDPOINT}/pipeline", body=pipeline)
    assert configured.status == 200, configured.body
    return ENDPOINT


def _warm_up(runtime: LocalRuntime) -> None:
    """Load the embedding model and the guardrail engine, as a warm function has them.

    Each costs seconds once per process (importing torch, building the engine), which a
    cold first request would spend inside the function's 30 seconds; the local functions
    run in this process and share both.
    """
    LocalEmbedder().embed(["warm"], purpose="query")
    ref = resolve_guardrail(
        "acme", stage=LocalSettings().setting_values()["stage_name"], ssm=runtime.client("ssm")
    )
    assert ref is not None, "the local runtime registered no guardrail"
    GuardrailChecker(ref, client=runtime.client("bedrock-runtime")).check("warm", "INPUT")


def _spans(runtime: LocalRuntime, trace_id: str) -> list[dict[str, Any]]:
    """Every segment and subsegment of the trace, flattened, with its parent's id."""
    (trace,) = runtime.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    spans: list[dict[str, Any]] = []

    def walk(entity: dict[str, Any], parent: str | None) -> None:
        spans.append({**entity, "parent": entity.get("parent_id", parent)})
        for child in entity.get("subsegments", []):
            walk(child, entity["id"])

    for segment in trace["Segments"]:
        walk(json.loads(segment["Document"]), None)
    return spans


def test_a_question_is_answered_through_the_pipeline_and_traced(
    runtime: LocalRuntime, api: ApiCaller, served: str
) -> None:
    answer = api(
        "POST", f"/v1/endpoints/{served}/invoke", body={"question": "Which city is in France?"}
    )

    assert answer.status == 200, answer.body
    body = answer.body
    assert [context["id"] for context in body["contexts"]][:1] == ["paris"]
    assert body["tokens_out"] >= 1
    assert [finding["source"] for finding in body["guardrail"]] == ["INPUT", "OUTPUT"]
    assert set(body["stages_ms"]) >= {"embedding", "retrieval", "prompt", "generation"}
    assert (body["model"], body["version"]) == ("tiny-chat", "1")

    def traced() -> list[dict[str, Any]] | None:
        spans = _spans(runtime, body["trace_id"])
        names = {span["name"] for span in spans}
        return spans if STAGES | {"maas-serving", "maas-model-server"} <= names else None

    spans = wait_until(traced, timeout=10, interval=0.2)
    request = next(span for span in spans if span["name"] == "maas-serving")
    stages = [span for span in spans if span["parent"] == request["id"]]
    assert [stage["name"] for stage in stages] == [
        "guardrail",
        "embedding",
        "retrieval",
        "prompt",
        "generation",
        "guardrail",
    ]
    generation = next(stage for stage in stages if stage["name"] == "generation")
    server = next(span for span in spans if span["name"] == "maas-model-server")
    # The model server's own segment hangs under the stage that called it.
    assert server["parent_id"] == generation["id"]
    assert server["annotations"]["tokens_out"] == generation["annotations"]["tokens_out"]
    assert request["annotations"]["endpoint"] == served


def test_a_blocked_question_is_a_200_that_says_why(api: ApiCaller, served: str) -> None:
    answer = api(
        "POST",
        f"/v1/endpoints/{served}/invoke",
        body={"question": "Charge my card 4111 1111 1111 1111 please"},
    )

    assert answer.status == 200, answer.body
    assert answer.body["blocked"] is True
    assert answer.body["answer"].startswith("Sorry, this request cannot be processed")
    (finding,) = answer.body["guardrail"]
    assert finding["source"] == "INPUT"
    assert "CREDIT_DEBIT_CARD_NUMBER blocked" in finding["reasons"]
    assert answer.body["contexts"] == []


def test_the_pipeline_is_shown_as_configured(api: ApiCaller, served: str) -> None:
    shown = api("GET", f"/v1/endpoints/{served}/pipeline")

    assert shown.status == 200
    assert shown.body["configured"] is True
    assert shown.body["pipeline"]["knowledge"]["top_k"] == 2
    assert shown.body["pipeline"]["knowledge"]["embedding"] == {
        "kind": "local",
        "model": "all-MiniLM-L6-v2",
    }


def test_an_unknown_placeholder_is_refused_by_name(api: ApiCaller, served: str) -> None:
    refused = api(
        "PUT", f"/v1/endpoints/{served}/pipeline", body={"prompt_template": "{question} {ctx}"}
    )

    assert refused.status == 422
    assert refused.problem_fields == ["prompt_template"]
    assert "placeholder {ctx} not allowed" in refused.body["detail"]


def test_a_template_stored_before_bare_placeholders_still_answers(
    runtime: LocalRuntime, api: ApiCaller, served: str
) -> None:
    # As an earlier version stored it: a format spec that str.format evaluated (every
    # invoke answered 500) and a conversion. It reads back, and renders, as bare names.
    path = f"/v1/endpoints/{served}/pipeline"
    before = api("GET", path).body["pipeline"]
    item = to_item(
        EndpointPipeline(endpoint_name=served, pipeline=PipelineSpec(), configured=True),
        {"pk": "TENANT#acme", "sk": f"PIPELINE#{served}"},
    )
    item["pipeline"]["M"]["prompt_template"] = {"S": "{question:{context.__class__}} {context!r}"}
    runtime.client("dynamodb").put_item(
        TableName=runtime.resources.tables["ModelsTable"], Item=item
    )
    try:
        shown = api("GET", path)
        answer = api("POST", f"/v1/endpoints/{served}/invoke", body={"question": "Paris?"})
    finally:
        restored = api("PUT", path, body=before)

    assert shown.status == 200, shown.body
    assert shown.body["pipeline"]["prompt_template"] == "{question} {context}"
    assert answer.status == 200, answer.body
    assert restored.status == 200, restored.body


def test_another_tenants_corpus_cannot_be_named(
    runtime: LocalRuntime, api: ApiCaller, served: str
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    refused = api(
        "PUT",
        f"/v1/endpoints/{served}/pipeline",
        body={"knowledge": {"corpus_uri": f"s3://{bucket}/globex/corpus/faq.jsonl"}},
    )

    assert refused.status == 422, refused.body
    assert "only the tenant's own files" in refused.body["detail"]
    shown = api("GET", f"/v1/endpoints/{served}/pipeline")
    assert shown.body["pipeline"]["knowledge"]["corpus_uri"].startswith(f"s3://{bucket}/acme/")


def test_another_tenants_endpoint_is_not_found(api: ApiCaller, served: str) -> None:
    invoked = api("POST", f"/v1/endpoints/{served}/invoke", tenant="globex", body={"question": "x"})
    shown = api("GET", f"/v1/endpoints/{served}/pipeline", tenant="globex")

    assert (invoked.status, shown.status) == (404, 404)
    assert invoked.body["error_name"] == "Maas.NotFound"


@pytest.fixture(scope="module")
def warming(runtime: LocalRuntime, api: ApiCaller, served: str) -> str:
    """An endpoint of the tenant still being created (its record, as the workflow writes it)."""
    record = EndpointRecord.model_validate(api("GET", f"/v1/endpoints/{served}").body)
    creating = record.model_copy(
        update={"endpoint_name": "warming", "status": EndpointStatus.CREATING}
    )
    runtime.client("dynamodb").put_item(
        TableName=runtime.resources.tables["EndpointsTable"],
        Item=to_item(creating, {"pk": "TENANT#acme", "sk": "ENDPOINT#warming"}),
    )
    return "warming"


def test_an_endpoint_not_in_service_is_a_conflict(api: ApiCaller, warming: str) -> None:
    answer = api("POST", f"/v1/endpoints/{warming}/invoke", body={"question": "x"})

    assert answer.status == 409
    assert answer.body["detail"] == (
        "endpoint 'warming' is CREATING; it answers requests only when IN_SERVICE"
    )


@pytest.fixture(scope="module")
def http_api(serving_api: ServedApi) -> ServedApi:
    return serving_api


@pytest.fixture
def no_user_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))


def test_the_sdk_invokes_with_typed_answers(http_api: ServedApi, served: str, warming: str) -> None:
    with MaasClient(http_api.url, http_api.token, timeout=60) as maas:
        pipeline = maas.get_pipeline(served)
        answer = maas.invoke_endpoint(
            served, "What is the capital of Japan?", parameters=GenerationSettings(max_new_tokens=2)
        )
        with pytest.raises(Conflict, match="CREATING"):
            maas.invoke_endpoint(warming, "x")

    assert pipeline.configured
    assert answer.contexts[0].id == "tokyo"
    assert 1 <= answer.tokens_out <= 2
    assert answer.trace_id is not None
    assert not answer.blocked


def test_the_sdk_sets_a_pipeline(http_api: ServedApi, served: str) -> None:
    with MaasClient(http_api.url, http_api.token) as maas:
        before = maas.get_pipeline(served).pipeline
        changed = maas.put_pipeline(served, before.model_copy(update={"guardrail": False}))
        api_pipeline = maas.get_pipeline(served)
        maas.put_pipeline(served, before)

    assert changed.configured
    assert changed.updated_at is not None
    assert api_pipeline.pipeline.guardrail is False
    assert isinstance(api_pipeline.pipeline, PipelineSpec)


@pytest.mark.usefixtures("no_user_profile")
def test_the_cli_prints_the_answer_and_the_trace_to_follow(
    http_api: ServedApi, served: str, warming: str
) -> None:
    connection = ["--api-url", http_api.url, "--token", http_api.token]
    question = "Which city is the capital of France?"

    shown = CliRunner().invoke(app, ["endpoints", "invoke", served, question, *connection])
    as_json = CliRunner().invoke(
        app,
        ["endpoints", "invoke", served, question, "--max-new-tokens", "2", "--json", *connection],
    )
    refused = CliRunner().invoke(app, ["endpoints", "invoke", warming, "x", *connection])

    assert shown.exit_code == 0, shown.output
    assert "[1] paris" in shown.output
    trace_id = json.loads(as_json.stdout)["trace_id"]
    assert as_json.exit_code == 0, as_json.output
    assert "maas traces show 1-" in shown.output
    assert trace_id.startswith("1-")
    assert refused.exit_code == ExitCode.CONFLICT, refused.output
