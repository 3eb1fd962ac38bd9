"""The local API Gateway's ``STREAM`` integration, over HTTP, with a function that streams.

As https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html
has it: the answer begins once the function wrote its metadata and 8 null bytes, and goes
to the client as it comes; anything else first is a 502. The integration timeout
(https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html)
runs from the request and the first byte resets nothing: no metadata by then is a 504, a
stream still running then is cut. The timeout here is 0.5 s, so the tests do not wait 29.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from maas.local.apigateway import INTEGRATION_TIMED_OUT, LocalApiGateway
from maas.local.awslambda import Invocation, StreamedInvocation
from maas.local.tokens import LocalTokens
from schemas.streaming import StreamMetadata

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TIMEOUT = 0.5
PATH = "/openai/v1/chat/completions"
HEAD = StreamMetadata(statusCode=200, headers={"Content-Type": "text/event-stream"}).encode()

Writer = Callable[[StreamedInvocation], None]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Writer], tuple[str, str]]]:
    """Serve a gateway whose function streams what ``writer`` writes; its URL and a token."""
    gateways: list[LocalApiGateway] = []

    def start(writer: Writer) -> tuple[str, str]:
        def invoke_stream(function: str, event: Any) -> StreamedInvocation:
            streamed = StreamedInvocation()
            threading.Thread(target=writer, args=(streamed,), daemon=True).start()
            return streamed

        tokens = LocalTokens.from_state_dir(tmp_path)
        gateway = LocalApiGateway(
            lambda function, event: Invocation(b"{}"),
            "Api",
            tokens,
            account_id="123456789012",
            integration_timeout=TIMEOUT,
            invoke_stream=invoke_stream,
        )
        gateways.append(gateway)
        return gateway.start(), tokens.issue("acme")

    yield start
    for gateway in gateways:
        gateway.stop()


def _post(url: str, token: str) -> httpx.Response:
    return httpx.post(
        url + PATH, headers={"Authorization": f"Bearer {token}"}, json={"stream": True}
    )


def test_chunks_reach_the_client_as_the_function_writes_them(serve: Any) -> None:
    read_first = threading.Event()

    def writer(streamed: StreamedInvocation) -> None:
        streamed.put(HEAD + b"data: one\n\n")
        # The second chunk is written only once the client has read the first.
        read_first.wait(5)
        streamed.put(b"data: two\n\n")
        streamed.end(Invocation(b""))

    url, token = serve(writer)
    with httpx.stream(
        "POST", url + PATH, headers={"Authorization": f"Bearer {token}"}, json={}
    ) as answer:
        lines = answer.iter_lines()
        first = next(lines)
        read_first.set()
        rest = [line for line in lines if line]

    assert answer.status_code == 200
    assert answer.headers["transfer-encoding"] == "chunked"
    assert answer.headers["content-type"] == "text/event-stream"
    assert answer.headers["x-amzn-requestid"]
    assert (first, rest) == ("data: one", ["data: two"])


def test_no_metadata_within_the_timeout_is_a_504(serve: Any) -> None:
    def writer(streamed: StreamedInvocation) -> None:
        time.sleep(TIMEOUT * 3)
        streamed.put(HEAD)
        streamed.end(Invocation(b""))

    answer = _post(*serve(writer))

    assert answer.status_code == 504
    assert answer.json() == INTEGRATION_TIMED_OUT


def test_the_first_byte_resets_nothing_a_stream_past_the_timeout_is_cut(serve: Any) -> None:
    def writer(streamed: StreamedInvocation) -> None:
        streamed.put(HEAD + b"data: one\n\n")
        time.sleep(TIMEOUT * 3)
        streamed.put(b"data: late\n\n")
        streamed.end(Invocation(b""))

    url, token = serve(writer)
    received: list[bytes] = []
    started = time.monotonic()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST", url + PATH, headers={"Authorization": f"Bearer {token}"}, json={}
        ) as answer,
    ):
        received.extend(answer.iter_raw())

    assert answer.status_code == 200
    assert b"".join(received) == b"data: one\n\n"
    assert time.monotonic() - started < TIMEOUT * 3


def test_a_stream_without_metadata_is_a_502(serve: Any) -> None:
    def writer(streamed: StreamedInvocation) -> None:
        streamed.put(json.dumps({"statusCode": 200, "body": "buffered"}).encode())
        streamed.end(Invocation(b""))

    answer = _post(*serve(writer))

    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}


def test_a_function_that_fails_before_its_metadata_is_a_502(serve: Any) -> None:
    def writer(streamed: StreamedInvocation) -> None:
        error = {"errorType": "ValueError", "errorMessage": "boom"}
        streamed.end(Invocation(json.dumps(error).encode(), "Unhandled"))

    answer = _post(*serve(writer))

    assert answer.status_code == 502


def test_other_routes_are_not_streamed(tmp_path: Path) -> None:
    gateway = LocalApiGateway(
        lambda function, event: Invocation(b"{}"),
        "Api",
        LocalTokens.from_state_dir(tmp_path),
        account_id="123456789012",
        invoke_stream=lambda function, event: StreamedInvocation(),
    )

    assert gateway.streams("POST", PATH)
    assert gateway.streams("POST", "/openai/v1/completions?x=1")
    assert not gateway.streams("GET", PATH)
    assert not gateway.streams("POST", "/v1/endpoints/chat/invoke")
