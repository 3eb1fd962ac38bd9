"""The local API Gateway's integration timeout: 504 with API Gateway's body after 29 s.

A function still running when the gateway stops waiting used to be answered when it ended,
or a 502 when its own timeout came first; API Gateway answers
``504 {"message": "Endpoint request timed out"}`` after 29 seconds
(https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html), and the function
goes on. The gateway here waits 0.2 s, so that the test does not wait 29.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from maas.local.apigateway import (
    INTEGRATION_TIMED_OUT,
    INTEGRATION_TIMEOUT_SECONDS,
    HttpRequest,
    LocalApiGateway,
)
from maas.local.awslambda import Invocation
from maas.local.tokens import LocalTokens

if TYPE_CHECKING:
    from pathlib import Path

WAIT = 0.2


def _gateway(
    tmp_path: Path, function_seconds: float
) -> tuple[LocalApiGateway, str, threading.Event]:
    tokens = LocalTokens.from_state_dir(tmp_path)
    ended = threading.Event()

    def invoke(function: str, event: Any) -> Invocation:
        ended.wait(function_seconds)
        ended.set()
        answer = {"statusCode": 200, "body": json.dumps({"answer": "late"})}
        return Invocation(json.dumps(answer).encode())

    gateway = LocalApiGateway(
        invoke, "Api", tokens, account_id="123456789012", integration_timeout=WAIT
    )
    return gateway, tokens.issue("acme"), ended


def _ask(gateway: LocalApiGateway, token: str) -> Any:
    request = HttpRequest(
        "POST",
        "/v1/endpoints/chat/invoke",
        [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json")],
        b'{"question": "hi"}',
    )
    return gateway.handle(request)


def test_the_default_is_api_gateways_29_seconds(tmp_path: Path) -> None:
    gateway = LocalApiGateway(
        lambda function, event: Invocation(b"{}"),
        "Api",
        LocalTokens.from_state_dir(tmp_path),
        account_id="123456789012",
    )

    assert INTEGRATION_TIMEOUT_SECONDS == 29
    assert gateway.integration_timeout == INTEGRATION_TIMEOUT_SECONDS


def test_a_function_past_the_timeout_is_a_504_and_runs_on(tmp_path: Path) -> None:
    gateway, token, ended = _gateway(tmp_path, function_seconds=2)

    answer = _ask(gateway, token)

    assert answer.status == 504
    assert (
        json.loads(answer.body)
        == INTEGRATION_TIMED_OUT
        == {"message": "Endpoint request timed out"}
    )
    assert answer.header("x-amzn-RequestId")
    assert not ended.is_set()  # answered before the function ended; it goes on
    assert ended.wait(5)


def test_a_function_within_the_timeout_is_answered(tmp_path: Path) -> None:
    gateway, token, _ = _gateway(tmp_path, function_seconds=0)

    answer = _ask(gateway, token)

    assert answer.status == 200
    assert json.loads(answer.body) == {"answer": "late"}
