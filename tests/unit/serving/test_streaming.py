"""The serving container streams a chat completion as server-sent events, token by token.

As LMI's chat schema answers ``"stream": true`` (what ``InvokeEndpointWithResponseStream``
carries), in OpenAI's chunk format (https://platform.openai.com/docs/api-reference/chat-streaming):
the role, a chunk per piece of text, the finish reason, the usage when asked, ``[DONE]``.
"""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any

from maas.serving.streaming import TextDeltas
from tests.unit.serving.test_server import loaded, server, url  # noqa: F401 - fixtures

if TYPE_CHECKING:
    from maas.serving.service import InferenceService

CHAT = {
    "messages": [{"role": "user", "content": "Tell me a story."}],
    "max_tokens": 16,
    "temperature": 1,
    "seed": 3,
}


def _post(base: str, body: dict[str, Any]) -> tuple[int, str, list[bytes]]:
    request = urllib.request.Request(
        f"{base}/invocations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            events = [event for event in answer.read().split(b"\n\n") if event]
            return answer.status, answer.headers["Content-Type"], events
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], [error.read()]


def _chunks(events: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(event.removeprefix(b"data: ")) for event in events[:-1]]


def test_deltas_hold_back_a_partial_character() -> None:
    pieces = {1: "caf", 2: "\ufffd", 3: "é"}
    deltas = TextDeltas(lambda ids: "".join(pieces[i] for i in ids).replace("\ufffdé", "é"))

    assert [deltas.add([1]), deltas.add([2]), deltas.add([3])] == ["caf", "", "é"]


def test_deltas_hold_back_what_may_begin_a_stop_sequence() -> None:
    deltas = TextDeltas(lambda ids: "".join(chr(i) for i in ids), stop=("END",))

    released = [deltas.add([ord(c)]) for c in "abEN"]
    assert released == ["a", "b", "", ""]
    # The model stopped at the sequence: the final text, cut before it, releases nothing more.
    assert deltas.finish("ab") == ""
    assert deltas.released == "ab"


def test_a_streamed_chat_adds_up_to_the_unstreamed_answer(
    loaded: str,  # noqa: F811
    service: InferenceService,
) -> None:
    whole = service.invoke(json.dumps(CHAT).encode(), "application/json")
    status, content_type, events = _post(
        loaded, {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    )

    chunks = _chunks(events)
    assert status == 200
    assert content_type == "text/event-stream"
    assert events[-1] == b"data: [DONE]"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    texts = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert len([text for text in texts if text]) >= 5
    assert isinstance(whole.payload, dict)
    assert "".join(texts) == whole.payload["choices"][0]["message"]["content"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == whole.payload["usage"]


def test_a_bad_streamed_request_is_a_400_before_any_event(loaded: str) -> None:  # noqa: F811
    status, content_type, (body,) = _post(loaded, {**CHAT, "stream": True, "max_tokens": 0})

    assert status == 400
    assert content_type == "application/json"
    assert json.loads(body)["message"].startswith("max_tokens: ")
