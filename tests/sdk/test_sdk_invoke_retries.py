"""An invoke is never sent twice behind the caller's back; what happened is said instead.

An invoke runs the model: sent again after API Gateway's 504 (it stopped waiting after 29 s,
while the model loaded for the first time) it ran the model twice, silently, for up to four
tries. Now it is sent again only when it certainly did not run (a 429, a connection never
made), and a 504 says that the endpoint may still be answering. Through an
httpx.MockTransport for the SDK, and a stub API over HTTP for the CLI.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from typer.testing import CliRunner

from maas.cli.exit_codes import ExitCode
from maas.cli.main import app
from maas.sdk import GatewayTimeout, MaasClient, ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

TIMED_OUT = {"message": "Endpoint request timed out"}
ANSWER: dict[str, Any] = {
    "answer": "Paris.",
    "contexts": [],
    "guardrail": [],
    "blocked": False,
    "trace_id": "1-6b0ae7cf-0123456789abcdef01234567",
    "tokens_in": 12,
    "tokens_out": 2,
    "latency_ms": 40.0,
    "stages_ms": {"generation": 38.0},
    "model": "tiny-chat",
    "version": "1",
}


def scripted(*answers: httpx.Response | Exception) -> tuple[MaasClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    remaining = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = remaining.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = MaasClient(
        "http://api.test", "t0ken", transport=httpx.MockTransport(handle), sleep=lambda _: None
    )
    return client, seen


def test_a_gateway_timeout_is_reported_not_retried() -> None:
    maas, seen = scripted(httpx.Response(504, json=TIMED_OUT), httpx.Response(200, json=ANSWER))

    with pytest.raises(GatewayTimeout) as raised:
        maas.invoke_endpoint("chat", "Capital of France?")

    assert len(seen) == 1
    assert raised.value.status == 504
    message = str(raised.value)
    assert "Endpoint request timed out" in message
    assert "29 s" in message
    assert "may still be answering" in message
    assert "not asked again" in message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_after_the_invoke_is_not_retried(status: int) -> None:
    maas, seen = scripted(httpx.Response(status), httpx.Response(200, json=ANSWER))

    with pytest.raises(ServiceUnavailable):
        maas.invoke_endpoint("chat", "Capital of France?")

    assert len(seen) == 1


def test_an_invoke_that_did_not_run_is_sent_again() -> None:
    maas, seen = scripted(
        httpx.Response(429),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=ANSWER),
    )

    answer = maas.invoke_endpoint("chat", "Capital of France?")

    assert answer.answer == "Paris."
    assert len(seen) == 3


def test_an_invoke_without_an_answer_is_reported_not_retried() -> None:
    maas, seen = scripted(httpx.ReadTimeout("slow"), httpx.Response(200, json=ANSWER))

    with pytest.raises(ServiceUnavailable) as raised:
        maas.invoke_endpoint("chat", "Capital of France?")

    assert len(seen) == 1
    assert "may have run" in str(raised.value)


def test_reads_are_still_retried_after_a_gateway_timeout() -> None:
    page: dict[str, Any] = {"items": [], "next_token": None}
    maas, seen = scripted(httpx.Response(504, json=TIMED_OUT), httpx.Response(200, json=page))

    assert maas.list_endpoints().items == []
    assert len(seen) == 2


class _TimingOut(BaseHTTPRequestHandler):
    """Answers every request as API Gateway does when the integration timed out."""

    requests: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.requests.append(self.path)
        body = json.dumps(TIMED_OUT).encode()
        self.send_response(504)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def timing_out() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_TimingOut,), {"requests": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_cli_says_what_happened_and_asks_once(timing_out: tuple[str, list[str]]) -> None:
    url, seen = timing_out

    result = CliRunner().invoke(
        app, ["endpoints", "invoke", "chat", "Capital of France?", "--api-url", url, "--token", "t"]
    )

    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert seen == ["/v1/endpoints/chat/invoke"]
    assert "504" in result.output
    assert "may still be answering" in result.output
