"""Retries on 429, 5xx and connection errors, through an httpx.MockTransport (no server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from maas.sdk import MaasClient, NotFound, ServiceUnavailable
from maas.sdk.retry import RetryPolicy, send_with_retries

if TYPE_CHECKING:
    from collections.abc import Callable


PAGE = {"items": [], "next_token": None}
ACCEPTED = {
    "workflow": "teardown",
    "execution_name": "acme-0123",
    "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:Teardown:acme-0123",
    "status_url": "/v1/executions/teardown/acme-0123",
    "started": True,
}


def scripted(
    *answers: httpx.Response | Exception,
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport that answers each request with the next of ``answers``, and what it saw."""
    seen: list[httpx.Request] = []
    remaining = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = remaining.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle), seen


def client(transport: httpx.MockTransport, sleeps: list[float], retries: int = 3) -> MaasClient:
    return MaasClient(
        "http://api.test/prod", "t0ken", transport=transport, retries=retries, sleep=sleeps.append
    )


def test_throttling_and_server_errors_are_retried_until_success() -> None:
    transport, seen = scripted(
        httpx.Response(429), httpx.Response(503), httpx.Response(200, json=PAGE)
    )
    sleeps: list[float] = []

    page = client(transport, sleeps).list_endpoints()

    assert page.items == []
    assert len(seen) == 3
    assert len(sleeps) == 2
    assert seen[0].url == "http://api.test/prod/v1/endpoints"
    assert seen[0].headers["Authorization"] == "Bearer t0ken"


def test_retry_after_is_honoured() -> None:
    transport, _ = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=PAGE)
    )
    sleeps: list[float] = []

    client(transport, sleeps).list_models()

    assert sleeps == [7.0]


def test_backoff_grows_and_is_capped_with_jitter() -> None:
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=4.0)

    ceilings = [max(policy.backoff(retry) for _ in range(200)) for retry in range(5)]

    assert ceilings[0] <= 1.0 < ceilings[2] <= 4.0
    assert ceilings[4] <= 4.0


def test_a_workflow_start_is_retried_with_the_same_idempotency_key() -> None:
    transport, seen = scripted(httpx.Response(503), httpx.Response(202, json=ACCEPTED))
    sleeps: list[float] = []

    accepted = client(transport, sleeps).delete_endpoint("chat")

    assert accepted.execution_name == "acme-0123"
    keys = {request.headers["Idempotency-Key"] for request in seen}
    assert len(seen) == 2
    assert len(keys) == 1
    assert seen[0].url.params["delete_model"] == "true"


def test_each_workflow_start_gets_its_own_key() -> None:
    transport, seen = scripted(
        httpx.Response(202, json=ACCEPTED), httpx.Response(202, json=ACCEPTED)
    )
    maas = client(transport, [])

    maas.stop_endpoint("chat")
    maas.start_endpoint("chat")

    assert seen[0].headers["Idempotency-Key"] != seen[1].headers["Idempotency-Key"]


def test_a_post_without_idempotency_key_is_never_retried() -> None:
    transport, seen = scripted(httpx.Response(503), httpx.Response(200))
    sleeps: list[float] = []
    request = httpx.Request("POST", "http://api.test/v1/anything", json={})

    with httpx.Client(transport=transport) as http:
        response = send_with_retries(http.send, request, RetryPolicy(), sleep=sleeps.append)

    assert response.status_code == 503
    assert len(seen) == 1
    assert sleeps == []


def test_exhausted_retries_raise_service_unavailable_with_the_problem() -> None:
    problem = {
        "type": "https://maas.dev/problems/service-unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "try later",
        "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    }
    transport, seen = scripted(*[httpx.Response(503, json=problem) for _ in range(3)])

    with pytest.raises(ServiceUnavailable) as raised:
        client(transport, [], retries=2).list_endpoints()

    assert len(seen) == 3
    assert (raised.value.status, raised.value.detail) == (503, "try later")
    # What the caller quotes to find the failure in the API's log.
    assert raised.value.request_id == problem["request_id"]


@pytest.mark.parametrize(
    "failure",
    [
        lambda request: httpx.ConnectError("refused", request=request),
        lambda request: httpx.ReadTimeout("slow", request=request),
    ],
)
def test_connection_errors_are_retried_then_unavailable(
    failure: Callable[[httpx.Request], Exception],
) -> None:
    attempts: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise failure(request)

    with pytest.raises(ServiceUnavailable) as raised:
        client(httpx.MockTransport(handle), [], retries=1).get_endpoint("chat")

    assert len(attempts) == 2
    assert raised.value.status is None
    assert "api.test" in raised.value.detail


def test_a_client_error_is_not_retried() -> None:
    transport, seen = scripted(
        httpx.Response(404, json={"message": "Not Found"}, headers={"x-amzn-RequestId": "r-1"})
    )

    with pytest.raises(NotFound) as raised:
        client(transport, []).get_endpoint("chat")

    assert len(seen) == 1
    assert (raised.value.status, raised.value.detail) == (404, "Not Found")
    assert raised.value.request_id == "r-1"
