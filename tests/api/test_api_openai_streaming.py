# Most fixtures are test_api_openai's, imported: tests name them as parameters.
# ruff: noqa: F811
"""``stream: true`` on /openai/v1: the official ``openai`` client reads tokens as they come.

The endpoint serves the tiny random Llama on the local runtime's model server, which streams
its chat completion through ``InvokeEndpointWithResponseStream``; the API function streams
OpenAI's chunks through the local API Gateway's ``STREAM`` integration in chunked transfer
encoding. The chunks add up to the answer the same request gets unstreamed (sampling is
seeded), the usage chunk has the engine's tokens, ``GET /v1/usage`` sums them, another
tenant gets a 404 as for a missing model, and the guardrail checks the answer in windows as
it streams (https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-streaming.html).
Chunk format: https://platform.openai.com/docs/api-reference/chat-streaming.

The runtime is the one the served-model modules share; this module asks as a tenant of its
own, with an endpoint and a model of its own, and changes only that tenant's guardrail.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any, TypedDict

import httpx
import openai
import pytest
from botocore.exceptions import ClientError

from maas.guardrails.config import DEFAULT_POLICY
from maas.pipeline.streaming import OUTPUT_WINDOW_CHARACTERS
from schemas.openai import STREAMING_REFUSAL
from schemas.streaming import RESPONSE_STREAMING_ENV
from tests.api.caller import deploy_in_service
from tests.api.served import served_as
from tests.api.test_api_docs import DOC as API_DOC
from tests.api.test_api_docs import DOCUMENTED_URL
from tests.api.test_api_openai import (  # noqa: F401 - fixtures
    CARD,
    _row,
    _spans,
    _usage,
    _warm_guardrail,
    api,
    client,
    globex,
    globex_token,
    runtime,
    state_dir,
)
from tests.docblocks import runs
from tests.local.support import wait_until
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from pathlib import Path

    from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

    from maas.local import LocalRuntime
    from tests.api.caller import ApiCaller
    from tests.api.served import ServedApi

#: This module's own tenant, endpoint and model.
TENANT = "umbrella"
ENDPOINT = "stream-chat"
MODEL = "tiny-stream"


@pytest.fixture(scope="module")
def http_api(serving_api: ServedApi, state_dir: Path) -> ServedApi:
    return served_as(serving_api, state_dir, TENANT)


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, api: ApiCaller, tiny_model_dir: Path) -> str:
    """The tenant's endpoint in service with the tiny model, its pipeline not configured."""
    register_served_version(runtime, MODEL, tiny_model_dir, tenant_id=TENANT)
    deploy_in_service(api, ENDPOINT, MODEL, 1, lambda: _warm_guardrail(runtime), tenant=TENANT)
    return ENDPOINT


class Sampled(TypedDict):
    """The sampling options every request here sends."""

    temperature: float
    seed: int
    max_tokens: int


SERVING_DOC = API_DOC.parent / "serving.md"
OPENAI_BLOCKS = runs(
    "docs/api.md",
    "python",
    lambda block: "from openai import OpenAI" in block.text or "stream=True" in block.text,
)
(SERVING_BLOCK,) = runs(
    "docs/serving.md",
    "python",
    lambda block: "invoke_endpoint_with_response_stream" in block.text,
)


#: Seeded sampling: the tiny model writes words (greedy, it writes newlines), the same ones
#: streamed or not.
SAMPLED: Sampled = {"temperature": 1, "seed": 1, "max_tokens": 48}
QUESTION: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Tell me a story."}]


def _chat_stream(client: openai.OpenAI, served: str, **extra: Any) -> list[ChatCompletionChunk]:
    arguments = {"messages": QUESTION, **SAMPLED, **extra}
    with client.chat.completions.create(model=served, stream=True, **arguments) as stream:
        return list(stream)


def _text(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def test_a_chat_streams_in_chunks_that_add_up_to_the_answer(
    client: openai.OpenAI, served: str
) -> None:
    whole = client.chat.completions.create(model=served, messages=QUESTION, **SAMPLED)
    chunks = _chat_stream(client, served, stream_options={"include_usage": True})

    # The guardrail releases the answer window by window (its first 100 characters, ...).
    texts = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices]
    windows = -(-len(_text(chunks)) // OUTPUT_WINDOW_CHARACTERS)
    assert len([text for text in texts if text]) >= min(windows, 2) >= 2
    assert _text(chunks) == whole.choices[0].message.content
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].id.startswith("chatcmpl-")
    assert chunks[0].choices[0].delta.role == "assistant"
    finishing = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices]
    assert finishing[-1] == whole.choices[0].finish_reason == "length"
    assert all(reason is None for reason in finishing[:-1])
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert whole.usage is not None
    assert usage_chunk.usage.model_dump() == whole.usage.model_dump()
    assert usage_chunk.usage.completion_tokens == SAMPLED["max_tokens"]


def test_without_include_usage_no_usage_chunk(client: openai.OpenAI, served: str) -> None:
    chunks = _chat_stream(client, served, max_tokens=3)

    assert all(chunk.usage is None for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "length"


def test_a_completion_streams_too(client: openai.OpenAI, served: str) -> None:
    whole = client.completions.create(model=served, prompt="Once upon a time", **SAMPLED)
    with client.completions.create(
        model=served,
        prompt="Once upon a time",
        stream=True,
        stream_options={"include_usage": True},
        **SAMPLED,
    ) as stream:
        chunks = list(stream)

    text = "".join(chunk.choices[0].text for chunk in chunks if chunk.choices)
    assert len([chunk for chunk in chunks if chunk.choices and chunk.choices[0].text]) >= 2
    assert text == whole.choices[0].text
    assert {chunk.object for chunk in chunks} == {"text_completion"}
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].usage is not None
    assert whole.usage is not None
    assert chunks[-1].usage.total_tokens == whole.usage.total_tokens


def test_the_stream_is_sent_as_it_is_generated(http_api: ServedApi, served: str) -> None:
    # Server-sent events in chunked transfer encoding: the first event is read while the
    # model still generates (the [DONE] event has not come).
    body = {"model": served, "messages": QUESTION, "stream": True, **SAMPLED}
    with httpx.stream(
        "POST",
        f"{http_api.url}/openai/v1/chat/completions",
        headers=http_api.headers,
        json=body,
        timeout=60,
    ) as answer:
        lines = answer.iter_lines()
        first = next(line for line in lines if line)
        rest = [line for line in lines if line]

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/event-stream"
    assert answer.headers["transfer-encoding"] == "chunked"
    assert answer.headers["x-maas-trace-id"].startswith("1-")
    assert "content-length" not in answer.headers
    assert json.loads(first.removeprefix("data: "))["object"] == "chat.completion.chunk"
    assert rest[-1] == "data: [DONE]"


def test_another_tenant_cannot_stream_from_the_endpoint(
    globex: openai.OpenAI, client: openai.OpenAI, served: str
) -> None:
    with pytest.raises(openai.NotFoundError) as theirs:
        globex.chat.completions.create(model=served, messages=QUESTION, stream=True, max_tokens=2)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(
            model="no-such-endpoint", messages=QUESTION, stream=True, max_tokens=2
        )

    # Exactly as a missing model, to the letter but for the name.
    mine = missing.value.response.json()["error"]
    other = theirs.value.response.json()["error"]
    assert other["code"] == mine["code"] == "model_not_found"
    assert other["type"] == mine["type"]
    assert other["message"].replace(served, "X") == mine["message"].replace("no-such-endpoint", "X")


def test_stream_options_without_a_stream_is_a_400(client: openai.OpenAI, served: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=served, messages=QUESTION, stream_options={"include_usage": True}
        )

    assert refused.value.response.json()["error"]["param"] == "stream_options"


def test_a_blocked_prompt_streams_the_guardrails_message(
    client: openai.OpenAI, served: str
) -> None:
    chunks = _chat_stream(
        client,
        served,
        messages=[{"role": "user", "content": f"Charge my card {CARD}"}],
        stream_options={"include_usage": True},
    )

    assert _text(chunks).startswith("Sorry, this request cannot be processed")
    assert chunks[-2].choices[0].finish_reason == "content_filter"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 0


def test_a_stream_records_the_stages_as_an_answer_does(
    runtime: LocalRuntime, client: openai.OpenAI, served: str
) -> None:
    with client.chat.completions.with_streaming_response.create(
        model=served,
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
        **SAMPLED,
    ) as raw:
        trace_id = raw.headers["x-maas-trace-id"]
        chunks: list[ChatCompletionChunk] = list(raw.parse())
    usage = chunks[-1].usage
    assert usage is not None

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
    assert generation["annotations"]["streamed"] is True
    server = next(span for span in spans if span["name"] == "maas-model-server")
    assert server["annotations"]["tokens_out"] == usage.completion_tokens
    answer_check = [span for span in spans if span["parent"] == request["id"]][-1]
    assert answer_check["annotations"]["windows"] >= 2


def test_usage_sums_what_the_streams_spent(
    client: openai.OpenAI, http_api: ServedApi, served: str
) -> None:
    before = _row(_usage(http_api, http_api.token), served)
    chat = _chat_stream(client, served, max_tokens=5, stream_options={"include_usage": True})
    with client.completions.create(
        model=served,
        prompt="One two",
        stream=True,
        stream_options={"include_usage": True},
        temperature=SAMPLED["temperature"],
        seed=SAMPLED["seed"],
        max_tokens=4,
    ) as stream:
        text = list(stream)
    after = _row(_usage(http_api, http_api.token), served)

    spent = [chat[-1].usage, text[-1].usage]
    assert all(usage is not None for usage in spent)
    assert after["requests"] - before["requests"] == 2
    assert after["tokens_in"] - before["tokens_in"] == sum(u.prompt_tokens for u in spent if u)
    assert after["tokens_out"] - before["tokens_out"] == 5 + 4


def test_the_local_runtime_answers_invoke_endpoint_with_response_stream(
    runtime: LocalRuntime, api: ApiCaller, served: str
) -> None:
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html
    record = api("GET", f"/v1/endpoints/{served}", tenant=TENANT).body
    sagemaker = runtime.client("sagemaker-runtime")
    body = {"messages": QUESTION, "stream": True, **SAMPLED}
    answer = sagemaker.invoke_endpoint_with_response_stream(
        EndpointName=record["sagemaker_endpoint_name"],
        ContentType="application/json",
        Body=json.dumps(body),
    )
    parts = [event["PayloadPart"]["Bytes"] for event in answer["Body"]]
    with pytest.raises(ClientError) as missing:
        sagemaker.invoke_endpoint_with_response_stream(
            EndpointName="no-such-endpoint", ContentType="application/json", Body="{}"
        )

    assert answer["ContentType"] == "text/event-stream"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert len(parts) >= 5
    assert b"".join(parts).endswith(b"data: [DONE]\n\n")
    error = missing.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        f"Endpoint no-such-endpoint of account {runtime.settings.account_id} not found."
    )


def test_the_guardrail_intervenes_mid_stream(
    runtime: LocalRuntime, client: openai.OpenAI, served: str, tmp_path: Path
) -> None:
    # Words the model writes after the first window, denied by the tenant's guardrail now:
    # the first window goes out, a later one is blocked, and the stream ends there.
    unguarded = client.chat.completions.create(model=served, messages=QUESTION, **SAMPLED)
    answer = unguarded.choices[0].message.content or ""
    later = {
        match.group()
        for match in re.finditer(r"\b[A-Za-z]{6,}\b", answer)
        if match.start() > OUTPUT_WINDOW_CHARACTERS + 30
    }
    assert later, f"no word to deny after the first window: {answer!r}"
    policy = json.loads(DEFAULT_POLICY.read_text())
    policy["wordPolicyConfig"]["wordsConfig"] = [{"text": word} for word in sorted(later)[:10]]
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    stage = runtime.bedrock.stage
    runtime.bedrock.provision(stage, {TENANT: tmp_path / "policy.json"})
    try:
        chunks = _chat_stream(client, served, stream_options={"include_usage": True})
    finally:
        runtime.bedrock.provision(stage, {TENANT: DEFAULT_POLICY})

    texts = [chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices]
    released = "".join(texts)
    blocked = "Sorry, the answer was withheld"
    assert blocked in released
    before = released[: released.index(blocked)]
    assert len(before) >= OUTPUT_WINDOW_CHARACTERS
    assert answer.startswith(before)
    assert len([text for text in texts if text and blocked not in text]) >= 1
    assert chunks[-2].choices[0].finish_reason == "content_filter"
    # The tokens were generated, and count.
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == SAMPLED["max_tokens"]


def test_where_the_runtime_does_not_stream_a_stream_is_refused_with_the_reason(
    runtime: LocalRuntime, api: ApiCaller, served: str
) -> None:
    # AWS's managed Python runtime, behind a buffered integration: no stream can be sent.
    function = runtime.lambda_.get(runtime.resources.functions["Api"])
    assert function is not None
    environment = dict(function.environment)
    del environment[RESPONSE_STREAMING_ENV]
    runtime.lambda_.register(dataclasses.replace(function, environment=environment))
    try:
        refused = api(
            "POST",
            "/openai/v1/chat/completions",
            tenant=TENANT,
            body={"model": served, "messages": QUESTION, "stream": True},
        )
    finally:
        runtime.lambda_.register(function)

    assert refused.status == 400
    error = refused.body["error"]
    assert error["param"] == "stream"
    assert error["code"] == "streaming_not_supported"
    assert error["message"] == STREAMING_REFUSAL


def test_the_pages_python_examples_run(
    runtime: LocalRuntime,
    api: ApiCaller,
    http_api: ServedApi,
    served: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # docs/api.md's openai client and stream; docs/serving.md's InvokeEndpointWithResponseStream.
    openai_blocks = [block.text for block in OPENAI_BLOCKS]
    serving_block = SERVING_BLOCK.text
    assert len(openai_blocks) == 2
    scope: dict[str, Any] = {"token": http_api.token}
    for block in openai_blocks:
        code = block.replace(DOCUMENTED_URL, http_api.url).replace('"glm4-chat"', repr(served))
        exec(compile(code, str(API_DOC), "exec"), scope)  # the page's own code
    record = api("GET", f"/v1/endpoints/{served}", tenant=TENANT).body
    exec(  # the page's own code
        compile(serving_block, str(SERVING_DOC), "exec"),
        {
            "json": json,
            "runtime": runtime.client("sagemaker-runtime"),
            "endpoint_name": record["sagemaker_endpoint_name"],
        },
    )

    printed = capsys.readouterr().out
    assert re.search(r"\n\[32 tokens\]\n", printed), printed
    assert printed.rstrip().endswith("data: [DONE]")
