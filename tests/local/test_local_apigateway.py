"""The local API: HTTP requests as API Gateway REST proxy events, behind a Cognito authorizer."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from maas.local.apigateway import (
    HttpRequest,
    LocalApiGateway,
    MalformedProxyResponse,
    proxy_response,
)
from maas.local.tokens import LocalTokens

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from maas.local import LocalRuntime
    from maas.local.awslambda import Invocation, LocalFunction

#: The top-level fields of a REST API (v1) Lambda proxy event, as API Gateway sends them.
PROXY_EVENT_FIELDS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}

#: ``requestContext`` fields of a REST API event with a Cognito user pool authorizer.
REQUEST_CONTEXT_FIELDS = {
    "accountId",
    "apiId",
    "authorizer",
    "domainName",
    "domainPrefix",
    "extendedRequestId",
    "httpMethod",
    "identity",
    "path",
    "protocol",
    "requestId",
    "requestTime",
    "requestTimeEpoch",
    "resourceId",
    "resourcePath",
    "stage",
}

#: How the Cognito authorizer writes ``exp`` and ``iat``: ``Sun Dec 17 07:28:12 UTC 2017``.
COGNITO_DATE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$")


#: How API Gateway writes ``requestTime``: ``09/Apr/2015:12:34:56 +0000``.
REQUEST_TIME = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")


@dataclass
class Answer:
    """One HTTP response as the client saw it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def call(
    url: str,
    method: str,
    target: str,
    headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
    body: bytes | None = None,
) -> Answer:
    """Send one request with exactly these header lines (repeats and spelling kept)."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.putrequest(method, target)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> LocalTokens:
    """The local user pool, its key in a state directory of this module's own."""
    return LocalTokens.from_state_dir(tmp_path_factory.mktemp("state"))


@pytest.fixture(scope="module")
def token(tokens: LocalTokens) -> str:
    return tokens.issue("acme")


@pytest.fixture(scope="module")
def invocations() -> list[Any]:
    """Every event the gateways of this module passed to a function."""
    return []


@pytest.fixture(scope="module")
def serve(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    tokens: LocalTokens,
    invocations: list[Any],
) -> Iterator[Callable[..., LocalApiGateway]]:
    """Serve an API through a handler of ``tests.local.handlers``; return its gateway."""
    started: list[LocalApiGateway] = []

    def invoke(function: str, event: Any) -> Invocation:
        invocations.append(event)
        return runtime.lambda_.invoke(function, event)

    def serve_handler(handler: str, **options: Any) -> LocalApiGateway:
        function = deploy_function(handler)
        gateway = LocalApiGateway(
            invoke, function.arn, tokens, account_id=runtime.settings.account_id, **options
        )
        gateway.start()
        started.append(gateway)
        return gateway

    yield serve_handler
    for gateway in started:
        gateway.stop()


@pytest.fixture(scope="module")
def echo(serve: Callable[..., LocalApiGateway]) -> str:
    """The URL of an API whose function answers with the event it got."""
    return serve("api_echo").url


def bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


def test_get_becomes_a_rest_proxy_event(echo: str, token: str) -> None:
    before = int(time.time() * 1000)

    answer = call(
        echo,
        "GET",
        "/endpoints/glm4-chat?limit=5&tag=a&tag=b&empty=&Tag=upper",
        [bearer(token), ("User-Agent", "pytest")],
    )

    assert answer.status == 200, answer.body
    event = answer.json()["event"]
    assert set(event) == PROXY_EVENT_FIELDS
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == "/endpoints/glm4-chat"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"proxy": "endpoints/glm4-chat"}
    # Query string names are case-sensitive: Tag is not tag.
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b", "empty": "", "Tag": "upper"}
    assert event["multiValueQueryStringParameters"] == {
        "limit": ["5"],
        "tag": ["a", "b"],
        "empty": [""],
        "Tag": ["upper"],
    }
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert set(context) == REQUEST_CONTEXT_FIELDS
    assert context["resourcePath"] == "/{proxy+}"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/endpoints/glm4-chat"
    assert context["stage"] == "local"
    assert context["protocol"] == "HTTP/1.1"
    assert context["domainName"] == "127.0.0.1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "pytest"
    assert before <= context["requestTimeEpoch"] <= int(time.time() * 1000)
    assert re.fullmatch(
        r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["requestTime"]
    )
    # Powertools' model of the real event: what the API function's resolver parses.
    APIGatewayProxyEventModel.model_validate(event)


def test_post_json_body_reaches_the_function_as_text(echo: str, token: str) -> None:
    request = {"model": {"source": "THUDM/glm-4-9b-chat"}, "instance_type": "ml.g5.xlarge"}
    body = json.dumps(request).encode()

    answer = call(
        echo, "POST", "/endpoints", [bearer(token), ("Content-Type", "application/json")], body
    )

    event = answer.json()["event"]
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "endpoints"}
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == request
    assert event["headers"]["Content-Type"] == "application/json"
    APIGatewayProxyEventModel.model_validate(event)


def test_headers_keep_their_spelling_and_repeats(echo: str, token: str) -> None:
    answer = call(
        echo,
        "GET",
        "/models",
        [bearer(token), ("X-Tag", "first"), ("x-custom-Case", "kept"), ("x-tag", "second")],
    )

    event = answer.json()["event"]
    # One header, whatever the case of its repeats, named as first spelled.
    assert event["headers"]["X-Tag"] == "second"
    assert event["multiValueHeaders"]["X-Tag"] == ["first", "second"]
    assert "x-tag" not in event["headers"]
    assert event["headers"]["x-custom-Case"] == "kept"
    assert event["headers"]["Authorization"] == f"Bearer {token}"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-Port"] == str(urlsplit(echo).port)
    assert event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")


def test_encoded_path_is_decoded_and_root_has_no_path_parameters(echo: str, token: str) -> None:
    nested = call(echo, "GET", "/models/glm%204/versions", [bearer(token)]).json()["event"]
    root = call(echo, "GET", "/", [bearer(token)]).json()["event"]

    assert nested["path"] == "/models/glm 4/versions"
    assert nested["pathParameters"] == {"proxy": "models/glm 4/versions"}
    assert root["resource"] == "/"
    assert root["requestContext"]["resourcePath"] == "/"
    assert root["pathParameters"] is None


def test_proxy_response_becomes_the_http_response(echo: str, token: str) -> None:
    answer = call(echo, "DELETE", "/endpoints/e1?status=202", [bearer(token)])

    assert answer.status == 202
    assert answer.header("Set-Cookie") == ["a=1", "b=2"]
    # A name in both maps: the multi-value list, then the single value.
    assert answer.header("X-Single") == ["zero", "one"]
    assert answer.header("Content-Type") == ["application/json"]
    event = answer.json()["event"]
    assert answer.header("x-amzn-RequestId") == [event["requestContext"]["requestId"]]
    assert answer.header("x-amz-apigw-id") == [event["requestContext"]["extendedRequestId"]]
    assert answer.header("X-Amzn-Trace-Id") == [event["headers"]["X-Amzn-Trace-Id"]]


def test_claims_reach_the_function_as_the_cognito_authorizer_passes_them(
    echo: str, tokens: LocalTokens
) -> None:
    answer = call(echo, "GET", "/endpoints", [bearer(tokens.issue("globex"))])

    claims = answer.json()["event"]["requestContext"]["authorizer"]["claims"]
    assert claims["custom:tenant_id"] == "globex"
    assert claims["token_use"] == "id"
    assert all(isinstance(value, str) for value in claims.values())
    assert COGNITO_DATE.match(claims["exp"]), claims["exp"]
    assert COGNITO_DATE.match(claims["iat"]), claims["iat"]
    assert claims["auth_time"].isdigit()


def test_token_without_bearer_prefix_is_accepted(echo: str, token: str) -> None:
    answer = call(echo, "GET", "/endpoints", [("Authorization", token)])

    assert answer.status == 200
    assert answer.json()["event"]["requestContext"]["authorizer"]["claims"]["sub"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer not-a-token",
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        "expired",
        "forged",
    ],
)
def test_request_without_a_good_token_is_unauthorized_without_invoking(
    echo: str,
    tokens: LocalTokens,
    tmp_path_factory: pytest.TempPathFactory,
    invocations: list[Any],
    authorization: str | None,
) -> None:
    if authorization == "expired":
        authorization = f"Bearer {tokens.issue('acme', hours=1, now=time.time() - 3601)}"
    elif authorization == "forged":
        stranger = LocalTokens.from_state_dir(tmp_path_factory.mktemp("stranger"))
        authorization = f"Bearer {stranger.issue('acme')}"
    headers = [] if authorization is None else [("Authorization", authorization)]
    invocations.clear()

    answer = call(echo, "GET", "/endpoints", headers)

    assert answer.status == 401
    assert answer.json() == {"message": "Unauthorized"}
    assert answer.header("x-amzn-ErrorType") == ["UnauthorizedException"]
    assert len(answer.header("x-amzn-RequestId")) == 1
    assert invocations == []


def test_docs_and_openapi_pass_through_without_a_token(echo: str) -> None:
    docs = call(echo, "GET", "/docs")
    document = call(echo, "GET", "/openapi.json")
    post = call(echo, "POST", "/docs", body=b"{}")

    assert docs.status == 200
    event = docs.json()["event"]
    assert event["resource"] == "/docs"
    assert event["pathParameters"] is None
    assert "authorizer" not in event["requestContext"]
    assert document.json()["event"]["path"] == "/openapi.json"
    # Only GET is public: any other method goes to the proxy resource and its authorizer.
    assert post.status == 401


def test_crashing_function_is_a_502(
    serve: Callable[..., LocalApiGateway], token: str, caplog: pytest.LogCaptureFixture
) -> None:
    answer = call(serve("api_crash").url, "GET", "/endpoints", [bearer(token)])

    assert answer.status == 502
    assert answer.json() == {"message": "Internal server error"}
    assert answer.header("x-amzn-ErrorType") == ["InternalServerErrorException"]
    # The client learns nothing more, as on AWS; whoever runs the API sees why.
    assert "RuntimeError: the API function broke" in caplog.text


def test_answer_that_is_not_a_proxy_response_is_a_502(echo: str, token: str) -> None:
    answer = call(echo, "GET", "/not-a-proxy-response", [bearer(token)])

    assert answer.status == 502
    assert answer.json() == {"message": "Internal server error"}


def test_binary_body_travels_base64_both_ways(echo: str, token: str) -> None:
    payload = bytes(range(256))

    answer = call(
        echo,
        "PUT",
        "/binary",
        [bearer(token), ("Content-Type", "application/octet-stream")],
        payload,
    )

    assert answer.status == 200
    assert answer.header("Content-Type") == ["application/octet-stream"]
    assert answer.body == payload[::-1]


def test_binary_media_types_decide_which_bodies_are_base64(
    serve: Callable[..., LocalApiGateway], token: str
) -> None:
    gateway = serve("api_echo", binary_media_types=("image/*",))

    def event_of(content_type: str) -> dict[str, Any]:
        headers = [bearer(token), ("Content-Type", content_type)]
        return dict(call(gateway.url, "POST", "/upload", headers, b"PNG-ish").json()["event"])

    image, text = event_of("image/png"), event_of("text/plain")

    assert image["isBase64Encoded"] is True
    assert base64.b64decode(image["body"]) == b"PNG-ish"
    assert text["isBase64Encoded"] is False
    assert text["body"] == "PNG-ish"


def test_powertools_resolver_routes_the_event_and_reads_the_tenant(
    serve: Callable[..., LocalApiGateway], tokens: LocalTokens
) -> None:
    url = serve("api_resolver").url

    answer = call(url, "GET", "/whoami/alice", [bearer(tokens.issue("initech"))])

    assert answer.status == 200, answer.body
    assert answer.json() == {"name": "alice", "tenant_id": "initech"}


def test_runtime_serves_the_api_through_a_manifest_function(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    tokens: LocalTokens,
    token: str,
) -> None:
    runtime.resources.functions["ApiUnderTest"] = deploy_function("api_echo").arn

    url = runtime.serve_api(function_id="ApiUnderTest", tokens=tokens)

    assert call(url, "GET", "/v1/endpoints", [bearer(token)]).status == 200
    # The stack's API definition is served: a path outside it is API Gateway's 403.
    assert call(url, "GET", "/endpoints", [bearer(token)]).status == 403
    with pytest.raises(RuntimeError, match="already being served"):
        runtime.serve_api(function_id="ApiUnderTest", tokens=tokens)


def test_runtime_without_the_api_function_says_so(runtime: LocalRuntime) -> None:
    with pytest.raises(KeyError, match="no function 'Missing'"):
        runtime.serve_api(function_id="Missing")


def test_handle_without_http_gives_the_same_answer(
    serve: Callable[..., LocalApiGateway], token: str
) -> None:
    gateway = serve("api_echo")
    request = HttpRequest(
        "GET", "/endpoints?x=1", [("Host", "api.local:9000"), ("Authorization", token)]
    )

    response = gateway.handle(request)

    event = json.loads(response.body)["event"]
    assert response.status == 200
    assert event["requestContext"]["domainName"] == "api.local"
    assert event["requestContext"]["domainPrefix"] == "api"
    assert event["headers"]["X-Forwarded-Port"] == "9000"


def test_proxy_response_merges_headers_as_api_gateway_does() -> None:
    response = proxy_response(
        {
            "statusCode": "201",
            "headers": {"X-A": "1", "X-B": True},
            "multiValueHeaders": {"X-A": ["1", "2"]},
        }
    )

    assert response.status == 201
    assert response.headers == [
        ("X-A", "1"),
        ("X-A", "2"),
        ("X-B", "true"),
        ("Content-Type", "application/json"),
    ]
    assert response.body == b""


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "200",
        {"body": "no status"},
        {"statusCode": 200, "extra": 1},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 700},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "not a list"}},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    ],
)
def test_malformed_proxy_responses_are_refused(payload: Any) -> None:
    with pytest.raises((MalformedProxyResponse, ValueError)):
        proxy_response(payload)


# Bodies are read only after the token is verified, and only up to the gateway's limit.


@pytest.fixture(scope="module")
def small(serve: Callable[..., LocalApiGateway]) -> str:
    """An echo API whose gateway takes bodies of at most 1 KiB (API Gateway's is 10 MB)."""
    return serve("api_echo", max_body_bytes=1024).url


def _send_headers_only(url: str, lines: list[str]) -> tuple[int, bytes]:
    """Send a request's head and no body; the status line and what follows it."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname or "", address.port or 80), 10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    status = int(received.split(b" ", 2)[1])
    return status, received


def test_an_unauthorized_body_is_never_read(echo: str, invocations: list[Any]) -> None:
    before = len(invocations)
    # A gigabyte announced and never sent: the answer comes from the headers alone.
    status, answer = _send_headers_only(
        echo,
        ["POST /v1/endpoints HTTP/1.1", "Host: x", "Content-Length: 1073741824"],
    )

    assert status == 401
    assert b"Connection: close" in answer
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"message": "Unauthorized"}
    assert len(invocations) == before


def test_a_body_past_the_limit_is_a_413_unread(
    small: str, token: str, invocations: list[Any]
) -> None:
    before = len(invocations)
    status, answer = _send_headers_only(
        small,
        [
            "POST /v1/endpoints HTTP/1.1",
            "Host: x",
            f"Authorization: Bearer {token}",
            "Content-Length: 1025",
        ],
    )

    assert status == 413
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"message": "Request Too Long"}
    assert len(invocations) == before


def test_a_chunked_body_past_the_limit_is_a_413(small: str, token: str) -> None:
    address = urlsplit(small)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/v1/endpoints",
            body=iter([b"x" * 1000, b"y" * 1000]),
            headers={"Authorization": f"Bearer {token}"},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        assert answer.status == 413
        assert answer.getheader("Connection") == "close"
    finally:
        connection.close()


def test_a_body_within_the_limit_still_reaches_the_function(small: str, token: str) -> None:
    answer = call(small, "POST", "/v1/endpoints", [bearer(token)], body=b"x" * 1024)

    assert answer.status == 200
    assert answer.json()["event"]["body"] == "x" * 1024
