"""/openai/v1 and /v1/usage: the official ``openai`` client against the API served over HTTP.

The endpoint serves the tiny random Llama (gibberish, quickly) on the local runtime's model
server; the API is served by the local API Gateway with tenants' tokens, so the client sees
what it would see on AWS: OpenAI's schema, OpenAI's errors, the tokens the engine counted.
The usage the requests leave is read back through the API, the SDK and the CLI, and another
tenant sees neither the endpoint nor its usage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import openai
import pytest
from typer.testing import CliRunner

from maas.cli.main import app
from maas.guardrails import GuardrailChecker, resolve_guardrail
from maas.local import LocalRuntime, LocalSettings
from maas.local.tokens import LocalTokens
from maas.sdk import MaasClient
from tests.api.caller import ApiCaller, deploy_in_service
from tests.api.served import ServedApi, served_as
from tests.local.support import wait_until
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ENDPOINT = "chat"
CARD = "4111 1111 1111 1111"
#: The tenant whose endpoint the client asks: one of this module's own, as the runtime is
#: shared with other modules whose tenant (acme) has endpoints in service too.
TENANT = "initech"


@pytest.fixture(scope="module")
def runtime(serving_runtime: LocalRuntime) -> LocalRuntime:
    return serving_runtime


@pytest.fixture(scope="module")
def api(runtime: LocalRuntime) -> ApiCaller:
    return ApiCaller(runtime)


@pytest.fixture(scope="module")
def state_dir(serving_state_dir: Path) -> Path:
    return serving_state_dir


@pytest.fixture(scope="module")
def http_api(serving_api: ServedApi, state_dir: Path) -> ServedApi:
    return served_as(serving_api, state_dir, TENANT)


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, api: ApiCaller, tiny_model_dir: Path) -> str:
    """An endpoint of the tenant in service with the tiny model, its pipeline not configured."""
    register_served_version(runtime, "tiny-chat", tiny_model_dir, tenant_id=TENANT)
    # The guardrail engine loads once per process, as a warm function has it.
    deploy_in_service(
        api, ENDPOINT, "tiny-chat", 1, lambda: _warm_guardrail(runtime), tenant=TENANT
    )
    return ENDPOINT


def _warm_guardrail(runtime: LocalRuntime) -> None:
    ref = resolve_guardrail(
        TENANT, stage=LocalSettings().setting_values()["stage_name"], ssm=runtime.client("ssm")
    )
    assert ref is not None, "the local runtime registered no guardrail"
    GuardrailChecker(ref, client=runtime.client("bedrock-runtime")).check("warm", "INPUT")


@pytest.fixture(scope="module")
def client(http_api: ServedApi, served: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=f"{http_api.url}/openai/v1", api_key=http_api.token, max_retries=0, timeout=60
    ) as made:
        yield made


@pytest.fixture(scope="module")
def globex_token(state_dir: Path, http_api: ServedApi) -> str:
    return LocalTokens.from_state_dir(state_dir).issue("globex")


@pytest.fixture(scope="module")
def globex(http_api: ServedApi, globex_token: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=f"{http_api.url}/openai/v1", api_key=globex_token, max_retries=0, timeout=60
    ) as made:
        yield made


def _spans(runtime: LocalRuntime, trace_id: str) -> list[dict[str, Any]]:
    (trace,) = runtime.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    spans: list[dict[str, Any]] = []

    def walk(entity: dict[str, Any], parent: str | None) -> None:
        spans.append({**entity, "parent": entity.get("parent_id", parent)})
        for child in entity.get("subsegments", []):
            walk(child, entity["id"])

    for segment in trace["Segments"]:
        walk(json.loads(segment["Document"]), None)
    return spans


def test_the_tenants_endpoints_in_service_are_its_models(
    client: openai.OpenAI, globex: openai.OpenAI, served: str
) -> None:
    models = client.models.list()
    one = client.models.retrieve(served)

    assert [(model.id, model.object, model.owned_by) for model in models.data] == [
        (served, "model", TENANT)
    ]
    assert one.id == served
    assert one.created > 0
    assert globex.models.list().data == []
    with pytest.raises(openai.NotFoundError):
        globex.models.retrieve(served)


def test_a_chat_completion_in_openais_schema_with_the_engines_tokens(
    runtime: LocalRuntime, client: openai.OpenAI, served: str
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=served,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say something."},
        ],
        max_tokens=4,
        temperature=0,
    )
    completion = raw.parse()

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == served
    (choice,) = completion.choices
    assert choice.message.role == "assistant"
    assert choice.finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage is not None
    assert 1 <= usage.completion_tokens <= 4
    # The system message and the chat template count: more than the user's two words.
    assert usage.prompt_tokens > 4
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert completion.system_fingerprint == "tiny-chat:1"

    trace_id = raw.headers["x-maas-trace-id"]

    def traced() -> list[dict[str, Any]] | None:
        spans = _spans(runtime, trace_id)
        names = {span["name"] for span in spans}
        return spans if {"maas-serving", "generation", "maas-model-server"} <= names else None

    spans = wait_until(traced, timeout=10, interval=0.2)
    request = next(span for span in spans if span["name"] == "maas-serving")
    stages = [span["name"] for span in spans if span["parent"] == request["id"]]
    assert stages == ["guardrail", "prompt", "generation", "guardrail"]
    generation = next(span for span in spans if span["name"] == "generation")
    assert generation["annotations"]["tokens_out"] == usage.completion_tokens


def test_max_tokens_ends_a_completion_with_length(client: openai.OpenAI, served: str) -> None:
    completion = client.completions.create(
        model=served, prompt="Once upon a time", max_tokens=2, temperature=0
    )

    assert completion.object == "text_completion"
    (choice,) = completion.choices
    assert completion.usage is not None
    assert completion.usage.completion_tokens <= 2
    assert choice.finish_reason == ("length" if completion.usage.completion_tokens == 2 else "stop")
    assert completion.usage.prompt_tokens > 0


def test_a_blocked_prompt_is_a_content_filter_finish(client: openai.OpenAI, served: str) -> None:
    in_question = client.chat.completions.create(
        model=served, messages=[{"role": "user", "content": f"Charge my card {CARD}"}]
    )
    # Earlier messages are checked too, not only the last one.
    in_history = client.chat.completions.create(
        model=served,
        messages=[
            {"role": "system", "content": f"The card is {CARD}."},
            {"role": "user", "content": "Hello"},
        ],
    )

    for completion in (in_question, in_history):
        (choice,) = completion.choices
        assert choice.finish_reason == "content_filter"
        assert choice.message.content is not None
        assert choice.message.content.startswith("Sorry, this request cannot be processed")
        assert completion.usage is not None
        assert completion.usage.total_tokens == 0


def test_another_tenants_endpoint_is_not_found(globex: openai.OpenAI, served: str) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        globex.chat.completions.create(
            model=served, messages=[{"role": "user", "content": "Hello"}], max_tokens=2
        )

    body = refused.value.body
    assert isinstance(body, dict)
    assert body["code"] == "model_not_found"
    assert body["param"] == "model"
    assert set(refused.value.response.json()["error"]) == {"message", "type", "param", "code"}


def test_a_missing_endpoint_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        client.completions.create(model="no-such-endpoint", prompt="Hi")

    assert refused.value.response.json()["error"]["type"] == "invalid_request_error"


def test_a_bad_body_is_a_400_naming_the_field(client: openai.OpenAI, served: str) -> None:
    with pytest.raises(openai.BadRequestError) as no_user:
        client.chat.completions.create(
            model=served, messages=[{"role": "assistant", "content": "Hi"}]
        )
    with pytest.raises(openai.BadRequestError) as unknown:
        client.chat.completions.create(
            model=served,
            messages=[{"role": "user", "content": "Hi"}],
            extra_body={"max_tokenz": 3},
        )
    with pytest.raises(openai.BadRequestError) as two:
        client.completions.create(model=served, prompt="Hi", n=2)

    assert no_user.value.response.json()["error"]["param"] == "messages"
    assert unknown.value.response.json()["error"]["param"] == "max_tokenz"
    assert unknown.value.code == "unknown_parameter"
    assert two.value.response.json()["error"]["param"] == "n"


def test_not_json_is_an_openai_error_and_an_unknown_path_the_gateways(
    http_api: ServedApi, served: str
) -> None:
    url = f"{http_api.url}/openai/v1/chat/completions"
    not_json = httpx.post(url, headers=http_api.headers, content=b"{not json")
    no_route = httpx.get(f"{http_api.url}/openai/v1/engines", headers=http_api.headers)

    assert not_json.status_code == 400
    assert not_json.json()["error"]["message"].startswith("the body is not valid JSON")
    # A path outside the API definition never reaches the function: API Gateway answers it
    # (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html,
    # MISSING_AUTHENTICATION_TOKEN), as the local gateway does.
    assert no_route.status_code == 403
    assert no_route.json() == {"message": "Missing Authentication Token"}


def _usage(http_api: ServedApi, token: str, **params: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{http_api.url}/v1/usage",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _row(report: dict[str, Any], endpoint: str) -> dict[str, Any]:
    rows = [row for row in report["items"] if row["endpoint_name"] == endpoint]
    return rows[0] if rows else {"requests": 0, "errors": 0, "tokens_in": 0, "tokens_out": 0}


def test_usage_sums_what_the_requests_spent(
    client: openai.OpenAI, http_api: ServedApi, globex_token: str, served: str
) -> None:
    window = {
        "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    before = _row(_usage(http_api, http_api.token, **window), served)
    chat = client.chat.completions.create(
        model=served, messages=[{"role": "user", "content": "Count."}], max_tokens=3
    )
    text = client.completions.create(model=served, prompt="One two", max_tokens=2)
    blocked = client.completions.create(model=served, prompt=f"Card {CARD}")
    report = _usage(http_api, http_api.token, **window)
    after = _row(report, served)

    spent = [answer.usage for answer in (chat, text, blocked)]
    assert all(usage is not None for usage in spent)
    assert after["requests"] - before["requests"] == 3
    assert after["blocked"] - before.get("blocked", 0) == 1
    assert after["tokens_in"] - before["tokens_in"] == sum(u.prompt_tokens for u in spent if u)
    assert after["tokens_out"] - before["tokens_out"] == sum(
        u.completion_tokens for u in spent if u
    )
    assert after["instance_type"]
    assert after["instance_hours"] > 0
    assert after["estimated_cost_usd"] > 0
    assert report["cost_basis"]["estimate"] is True
    assert "instance-hours" in report["cost_basis"]["method"]
    assert report["totals"]["requests"] >= after["requests"]
    # Another tenant sees none of it.
    theirs = _usage(http_api, globex_token, **window)
    assert theirs["items"] == []
    assert theirs["totals"]["requests"] == 0


def test_usage_counts_errors(
    runtime: LocalRuntime, api: ApiCaller, client: openai.OpenAI, http_api: ServedApi, served: str
) -> None:
    # A request the endpoint refuses (the model server's own limit on the sequence: the
    # tiny model reads 256 tokens at most) is a 502, and an error in the endpoint's usage.
    before = _row(_usage(http_api, http_api.token), served)
    with pytest.raises(openai.APIStatusError) as failed:
        client.completions.create(model=served, prompt="word " * 400, max_tokens=8)
    after = _row(_usage(http_api, http_api.token), served)

    assert failed.value.status_code == 502
    assert failed.value.response.json()["error"]["code"] == "model_call_failed"
    assert after["errors"] - before["errors"] == 1
    assert after["requests"] - before["requests"] == 1


def test_the_sdk_and_the_cli_show_the_usage(
    http_api: ServedApi, client: openai.OpenAI, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.chat.completions.create(
        model=served, messages=[{"role": "user", "content": "Hi"}], max_tokens=1
    )
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    with MaasClient(http_api.url, http_api.token) as maas:
        by_endpoint = maas.usage()
        by_hour = maas.usage(group_by="hour")
    connection = ["--api-url", http_api.url, "--token", http_api.token]
    shown = CliRunner().invoke(app, ["usage", *connection])
    as_json = CliRunner().invoke(app, ["usage", "--json", *connection])

    (row,) = [row for row in by_endpoint.items if row.endpoint_name == served]
    assert row.requests >= 1
    assert row.tokens_out >= 1
    assert by_endpoint.totals.requests == sum(hour.requests for hour in by_hour.items)
    assert by_hour.items[0].hour is not None
    assert shown.exit_code == 0, shown.output
    assert served in shown.output
    assert "estimate" in shown.output
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["totals"]["requests"] == by_endpoint.totals.requests
