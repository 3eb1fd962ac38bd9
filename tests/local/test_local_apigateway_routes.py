"""The local API serves the stack's API definition: what is outside it is answered as API
Gateway answers it, never 501; the stage's throttle, when it has one.

- A resource or method the API does not have: ``403 {"message":"Missing Authentication
  Token"}``, before the authorizer, without invoking the function (the
  MISSING_AUTHENTICATION_TOKEN gateway response,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html;
  https://repost.aws/knowledge-center/api-gateway-authentication-token-errors).
- Past the throttle: ``429 {"message":"Too Many Requests"}`` (THROTTLED; the token bucket of
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
- The payload limit (413) and the integration timeout (504) are pinned in
  ``test_local_apigateway.py`` and ``tests/unit/test_gateway_timeout.py``.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from maas.local.apigateway_routes import ApiRoutes, api_routes
from schemas.api import OPENAPI_FILE
from stacks.api_definition import gateway_definition
from tests.local.test_local_apigateway import (  # noqa: F401 - the module's fixtures
    call,
    invocations,
    serve,
    token,
    tokens,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local.apigateway import LocalApiGateway

ROUTES = ApiRoutes(
    {
        "/v1/things": {"GET", "POST"},
        "/v1/things/{name}": {"GET", "DELETE"},
        "/v1/things/all": {"GET"},
        "/docs": {"GET"},
    }
)


@pytest.fixture(scope="module")
def defined(serve: Callable[..., LocalApiGateway]) -> str:  # noqa: F811
    """The echo function behind a gateway that serves only :data:`ROUTES`."""
    return serve("api_echo", routes=ROUTES).url


def _bearer(token: str) -> list[tuple[str, str]]:  # noqa: F811
    return [("Authorization", f"Bearer {token}")]


def test_the_local_routes_are_the_stacks_definition() -> None:
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    definition = gateway_definition(
        document, function_arn="arn:fn", user_pool_arn="arn:up", partition_region="aws:x:y"
    )
    stack = {
        path: frozenset(method.upper() for method in methods)
        for path, methods in definition["paths"].items()
    }

    assert api_routes().resources == stack


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/v1/nothing-here"),  # no such resource
        ("PUT", "/v1/things/chat"),  # the resource, not the method
        ("GET", "/v1/things/chat/more"),  # one segment too many
        ("OPTIONS", "/v1/things"),  # no CORS methods in the definition
        ("HEAD", "/v1/things"),
        ("TRACE", "/v1/things"),  # methods http.server answers 501
        ("FOO", "/v1/things"),
    ],
)
def test_what_the_api_lacks_is_a_403_before_the_authorizer(
    defined: str,
    invocations: list[Any],  # noqa: F811
    method: str,
    target: str,
) -> None:
    before = len(invocations)

    answer = call(defined, method, target)  # no token at all: the route is checked first

    assert answer.status == 403
    if method != "HEAD":
        assert answer.json() == {"message": "Missing Authentication Token"}
    assert answer.header("x-amzn-ErrorType") == ["MissingAuthenticationTokenException"]
    assert answer.header("x-amzn-RequestId")
    assert len(invocations) == before


def test_a_defined_route_reaches_the_function_with_its_resource_and_parameters(
    defined: str,
    token: str,  # noqa: F811
) -> None:
    named = call(defined, "GET", "/v1/things/chat", _bearer(token)).json()["event"]
    literal = call(defined, "GET", "/v1/things/all", _bearer(token)).json()["event"]
    listed = call(defined, "POST", "/v1/things", _bearer(token), b"{}").json()["event"]

    assert (named["resource"], named["pathParameters"]) == ("/v1/things/{name}", {"name": "chat"})
    assert named["requestContext"]["resourcePath"] == "/v1/things/{name}"
    # A literal segment is matched before a parameter, as API Gateway matches resources.
    assert (literal["resource"], literal["pathParameters"]) == ("/v1/things/all", None)
    assert (listed["resource"], listed["pathParameters"]) == ("/v1/things", None)


def test_a_defined_route_still_needs_the_token(defined: str) -> None:
    answer = call(defined, "GET", "/v1/things/chat")

    assert answer.status == 401
    assert answer.json() == {"message": "Unauthorized"}


def test_past_the_stages_throttle_requests_are_429(
    serve: Callable[..., LocalApiGateway],  # noqa: F811
    token: str,  # noqa: F811
) -> None:
    url = serve("api_echo", routes=ROUTES, throttle=(2.0, 2)).url

    statuses = [call(url, "GET", "/v1/things", _bearer(token)).status for _ in range(4)]
    throttled = call(url, "GET", "/v1/things", _bearer(token))
    time.sleep(1.0)  # two tokens a second come back
    after = call(url, "GET", "/v1/things", _bearer(token))

    assert statuses[:2] == [200, 200]
    assert 429 in statuses[2:]
    assert throttled.status == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    assert throttled.header("x-amzn-ErrorType") == ["TooManyRequestsException"]
    assert after.status == 200


def test_without_routes_any_method_goes_to_the_authorizer_never_a_501(
    serve: Callable[..., LocalApiGateway],  # noqa: F811
) -> None:
    # Without routes the gateway is laid out as ANY / and ANY /{proxy+}: every path is the
    # function's (the layout test_local_apigateway.py pins).
    proxy = serve("api_echo").url

    assert call(proxy, "FOO", "/anything").status == 401  # to the authorizer, not a 501
