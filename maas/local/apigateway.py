"""API Gateway on the local runtime: the REST API served on 127.0.0.1 through its Lambda.

Why this exists: moto's API Gateway stores APIs but does not serve them through a Lambda
proxy integration or a Cognito authorizer. On AWS the product's REST API is API Gateway
(REST, v1 payload) with a Cognito user pool authorizer in front of one function; this
module plays both parts for that function, over plain HTTP:

- each request becomes the Lambda proxy event API Gateway sends (``resource``, ``path``,
  ``httpMethod``, single- and multi-value headers and query string, ``pathParameters``,
  ``stageVariables``, ``requestContext`` with ``authorizer.claims``, ``body``,
  ``isBase64Encoded``), for an API laid out as ``LambdaRestApi(proxy=True)`` lays it out:
  ``ANY /`` (resource ``/``, no path parameters) and ``ANY /{proxy+}`` (path parameter
  ``proxy``, the path without its leading slash), both behind the authorizer, plus
  ``GET`` on each public path (``/docs``, ``/openapi.json``) with no authorizer;
- the authorizer: the token in the ``Authorization`` header, raw or after ``Bearer `` (the
  Cognito authorizer takes both), is verified by :class:`~maas.local.tokens.LocalTokens`;
  a missing or refused token is answered ``401 {"message":"Unauthorized"}`` without
  invoking the function, and a good one puts its claims, all as strings (``exp`` and
  ``iat`` as dates, as the authorizer writes them), in ``requestContext.authorizer.claims``.
  The token is checked from the request's head, before its body is read;
- API Gateway's payload limit (10 MB): a larger body is answered
  ``413 {"message": "Request Too Long"}`` without being read;
- the function's proxy response (``statusCode``, ``headers``, ``multiValueHeaders``,
  ``body``, ``isBase64Encoded``) becomes the HTTP response; a function error or a
  malformed response is ``502 {"message": "Internal server error"}``; every response
  carries ``x-amzn-RequestId``, ``x-amz-apigw-id`` and ``X-Amzn-Trace-Id``;
- the integration timeout: a function that has not answered after 29 seconds (REST APIs'
  default, https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html) is
  answered ``504 {"message": "Endpoint request timed out"}``, and goes on running, as a
  Lambda function does when API Gateway stops waiting for it;
- response streaming on the routes integrated with ``responseTransferMode: STREAM``
  (:data:`schemas.streaming.STREAMED_ROUTES`): the function is invoked as
  ``InvokeWithResponseStream`` and its answer, after its metadata, goes to the client as it
  comes, in chunked transfer encoding; the integration timeout still runs from the request
  (:mod:`maas.local.apigateway_stream` says how).

With ``routes`` (what :meth:`LocalRuntime.serve_api` gives: the stack's API definition,
:mod:`maas.local.apigateway_routes`), a resource or method the API does not have is answered
``403 {"message":"Missing Authentication Token"}`` before the authorizer, as API Gateway
answers it, never 501 (any HTTP method reaches the gateway), and ``resource`` and
``pathParameters`` are the definition's; without ``routes`` the API is laid out as above.
With ``throttle`` (the stage's rate and burst), requests past them are answered
``429 {"message":"Too Many Requests"}`` (the ``THROTTLED`` gateway response; the token
bucket of https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
With ``limits`` (what ``maas local up`` gives: the stage's throttle and usage plans of its
``cdk.json`` stage, :mod:`maas.local.apigateway_limits`), each tenant's API key is also
required and its plan applied.
Each of these bodies is the gateway response's default
(https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).

Paths under a mount (``mounts``: ``/console``, the local console of :mod:`maas.console`) are
no part of the REST API: they are answered by the mounted handler, with no token and without
invoking the function.

What it does not do is listed in ``docs/api.md`` ("Local API and tokens").
"""

from __future__ import annotations

import base64
import fnmatch
import itertools
import json
import logging
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from maas.local.apigateway_limits import TOO_MANY_REQUESTS, GatewayLimits
from maas.local.apigateway_stream import (
    STREAM_IDLE_TIMEOUT_SECONDS,
    StreamedAnswer,
    StreamRefused,
    open_stream,
)
from maas.local.tokens import InvalidToken
from schemas.api import PUBLIC_PATHS
from schemas.streaming import STREAMED_ROUTES

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from maas.local.apigateway_routes import ApiRoutes
    from maas.local.awslambda import Invocation, StreamedInvocation
    from maas.local.tokens import LocalTokens

logger = logging.getLogger(__name__)


#: What API Gateway answers when its Cognito authorizer refuses the request.
UNAUTHORIZED = {"message": "Unauthorized"}

#: What API Gateway answers when the function fails or its response is malformed.
INTERNAL_SERVER_ERROR = {"message": "Internal server error"}

#: API Gateway's payload limit (10 MB), past which it answers 413 without a look at the body.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024

#: What API Gateway answers for a larger body (the REQUEST_TOO_LARGE gateway response).
REQUEST_TOO_LARGE = {"message": "Request Too Long"}

#: How long API Gateway waits for the integration: REST APIs' default (and, for edge APIs, the
#: most), after which it answers 504 with INTEGRATION_TIMEOUT's body.
INTEGRATION_TIMEOUT_SECONDS = 29.0

#: What API Gateway answers when the integration timed out (the INTEGRATION_TIMEOUT response).
INTEGRATION_TIMED_OUT = {"message": "Endpoint request timed out"}

#: What API Gateway answers for a resource or method the API does not have
#: (the MISSING_AUTHENTICATION_TOKEN gateway response).
MISSING_AUTHENTICATION_TOKEN = {"message": "Missing Authentication Token"}


_PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as it reached the gateway."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpResponse:
    """What the gateway answers: status, header lines (names may repeat) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (any case), if present."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


@dataclass(frozen=True)
class Admission:
    """A request the gateway let through: its ids, the headers it adds, the token's claims."""

    request_id: str
    extended_request_id: str
    trace_id: str
    headers: list[tuple[str, str]]
    claims: dict[str, str] | None


class MalformedProxyResponse(Exception):
    """The function answered something that is not a Lambda proxy response."""


class LocalApiGateway:
    """A REST API stage whose every route is one Lambda function behind a Cognito authorizer.

    Parameters
    ----------
    invoke
        Runs a function on an event: the runtime's :meth:`LocalLambda.invoke`.
    function
        The name or ARN of the API function.
    tokens
        Verifies the tokens, as the user pool's authorizer does.
    account_id, stage
        What ``requestContext`` reports.
    public_paths
        Paths whose ``GET`` needs no token.
    binary_media_types
        The API's ``binaryMediaTypes``: request bodies of these content types (wildcards
        allowed) reach the function base64-encoded.
    max_body_bytes
        Larger bodies are answered 413 and never read.
    integration_timeout
        Seconds the function has to answer before the request is answered 504.
    mounts
        Path prefixes answered by a handler of their own instead of the API (no token).
    invoke_stream
        Runs a function on an event with its answer streamed: the runtime's
        :meth:`LocalLambda.invoke_with_response_stream`; without it nothing is streamed.
    streamed_routes
        The (method, path) pairs integrated with ``responseTransferMode: STREAM``.
    stream_timeout
        A streamed integration's timeout, from the request to the stream's end (default:
        ``integration_timeout``; up to 900 s on AWS).
    idle_timeout
        Seconds a stream may go without a chunk.
    routes
        The API's resources and methods (the stack's definition); others are answered 403.
        None: every path is the function's, as ``ANY /`` and ``ANY /{proxy+}``.
    throttle
        The stage's steady rate (requests per second) and burst; None: not throttled.
    limits
        The stage's throttle and usage plans (it replaces ``throttle``); None: ``throttle``.
    """

    def __init__(
        self,
        invoke: Callable[[str, Any], Invocation],
        function: str,
        tokens: LocalTokens,
        *,
        account_id: str,
        stage: str = "local",
        public_paths: Collection[str] = PUBLIC_PATHS,
        binary_media_types: Collection[str] = (),
        max_body_bytes: int = MAX_PAYLOAD_BYTES,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        mounts: Mapping[str, Callable[[HttpRequest], HttpResponse]] | None = None,
        invoke_stream: Callable[[str, Any], StreamedInvocation] | None = None,
        streamed_routes: Collection[tuple[str, str]] = STREAMED_ROUTES,
        stream_timeout: float | None = None,
        idle_timeout: float = STREAM_IDLE_TIMEOUT_SECONDS,
        routes: ApiRoutes | None = None,
        throttle: tuple[float, int] | None = None,
        limits: GatewayLimits | None = None,
    ) -> None:
        self._invoke = invoke
        self._invoke_stream = invoke_stream
        self.streamed_routes = frozenset(streamed_routes) if invoke_stream else frozenset()
        self.stream_timeout = stream_timeout or integration_timeout
        self.idle_timeout = idle_timeout
        self.function = function
        self._tokens = tokens
        self.account_id = account_id
        self.stage = stage
        self.public_paths = frozenset(public_paths)
        self.binary_media_types = tuple(binary_media_types)
        self.max_body_bytes = max_body_bytes
        self.integration_timeout = integration_timeout
        self.mounts = dict(mounts or {})
        self.routes = routes
        if limits is None and throttle is not None:
            limits = GatewayLimits(*throttle)
        self.limits = limits
        # API Gateway's ids: 10 characters for the API, 6 for each resource.
        self.api_id = secrets.token_hex(5)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: Set by :meth:`stop`: answers still to come are not sent (see ``_answer``).
        self.stopping = threading.Event()

    # -- serving ---------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1:``port`` (0: any free port) in a thread; return the URL."""
        if self._server is not None:
            raise RuntimeError("the local API is already being served")
        server = _GatewayServer(("127.0.0.1", port), self)
        thread = threading.Thread(
            target=server.serve_forever,
            # Polled this often for shutdown: Ctrl-C and test teardown stay quick.
            kwargs={"poll_interval": 0.1},
            name="local-apigateway",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self.url

    @property
    def url(self) -> str:
        """The base URL the API is served on."""
        if self._server is None:
            raise RuntimeError("the local API is not being served")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving; requests in progress finish on their own threads, unanswered."""
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    # -- one request -----------------------------------------------------------------

    def mounted(self, target: str) -> Callable[[HttpRequest], HttpResponse] | None:
        """The handler mounted at ``target``'s path, if one is."""
        path = unquote(urlsplit(target).path)
        for prefix, handler in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                return handler
        return None

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Authorize ``request``, run the function on its proxy event, answer as API Gateway."""
        handler = self.mounted(request.target)
        if handler is not None:
            return handler(request)
        admitted = self.admit(request.method, request.target, request.headers, len(request.body))
        if isinstance(admitted, HttpResponse):
            return admitted
        return self.forward(request, admitted)

    def admit(
        self, method: str, target: str, headers: list[tuple[str, str]], body_length: int
    ) -> Admission | HttpResponse:
        """What is checked before a body is read: the token, then the body's declared size.

        The refusal when either fails (401, 413), else what :meth:`forward` needs.
        """
        request_id = str(uuid.uuid4())
        extended_id = base64.b64encode(secrets.token_bytes(10)).decode()
        trace_id = _header(headers, "X-Amzn-Trace-Id") or _new_trace_id()
        gateway_headers = [
            ("x-amzn-RequestId", request_id),
            ("x-amz-apigw-id", extended_id),
            ("X-Amzn-Trace-Id", trace_id),
        ]
        path = unquote(urlsplit(target).path) or "/"
        # As API Gateway: the resource and method first, then the throttle, then the token.
        if self.routes is not None and self.routes.match(method, urlsplit(target).path) is None:
            logger.info("local API: 403 for %s %s: no such resource or method", method, path)
            return _error(
                403,
                MISSING_AUTHENTICATION_TOKEN,
                "MissingAuthenticationTokenException",
                gateway_headers,
            )
        refusal = None if self.limits is None else self.limits.check(_header(headers, "x-api-key"))
        if refusal is not None:
            logger.info("local API: %d for %s %s: %s", refusal.status, method, path, refusal.reason)
            return _error(refusal.status, refusal.body, refusal.error_type, gateway_headers)
        claims: dict[str, str] | None = None
        if not self._is_public(method, path):
            try:
                claims = _authorizer_claims(self._tokens.verify(_bearer(headers)))
            except InvalidToken as exc:
                logger.info("local API: 401 for %s %s: %s", method, path, exc)
                return _error(401, UNAUTHORIZED, "UnauthorizedException", gateway_headers)
        if body_length > self.max_body_bytes:
            logger.info("local API: 413 for %s %s: %d bytes", method, path, body_length)
            return _error(413, REQUEST_TOO_LARGE, None, gateway_headers)
        return Admission(request_id, extended_id, trace_id, gateway_headers, claims)

    def forward(self, request: HttpRequest, admitted: Admission) -> HttpResponse:
        """Run the function on ``request``'s proxy event; answer as API Gateway."""
        path = unquote(urlsplit(request.target).path) or "/"
        gateway_headers = admitted.headers
        event = self.proxy_event(
            request,
            request_id=admitted.request_id,
            extended_request_id=admitted.extended_request_id,
            trace_id=admitted.trace_id,
            claims=admitted.claims,
        )
        try:
            invocation = self._invoke_within_timeout(event)
            if invocation is None:
                logger.warning(
                    "local API: 504 for %s %s: no answer after %.0f s",
                    request.method,
                    path,
                    self.integration_timeout,
                )
                return _error(504, INTEGRATION_TIMED_OUT, None, gateway_headers)
            if invocation.function_error:
                raise _FunctionFailed(_error_summary(invocation.payload))
            response = proxy_response(invocation.json())
        except (KeyError, ValueError, MalformedProxyResponse, _FunctionFailed) as exc:
            logger.warning("local API: 502 for %s %s: %s", request.method, path, exc)
            return _error(
                502, INTERNAL_SERVER_ERROR, "InternalServerErrorException", gateway_headers
            )
        return HttpResponse(response.status, [*response.headers, *gateway_headers], response.body)

    def streams(self, method: str, target: str) -> bool:
        """Whether the route of ``method target`` is integrated with response streaming."""
        return (method, unquote(urlsplit(target).path) or "/") in self.streamed_routes

    def forward_stream(
        self, request: HttpRequest, admitted: Admission
    ) -> HttpResponse | StreamedAnswer:
        """Run the function on ``request``'s proxy event, its answer streamed."""
        assert self._invoke_stream is not None
        deadline = time.monotonic() + self.stream_timeout
        path = unquote(urlsplit(request.target).path) or "/"
        event = self.proxy_event(
            request,
            request_id=admitted.request_id,
            extended_request_id=admitted.extended_request_id,
            trace_id=admitted.trace_id,
            claims=admitted.claims,
        )
        invocation = self._invoke_stream(self.function, event)
        try:
            answer = open_stream(invocation, deadline, self.idle_timeout)
        except StreamRefused as refused:
            logger.warning(
                "local API: %d for %s %s: %s", refused.status, request.method, path, refused
            )
            if refused.status == 504:
                return _error(504, INTEGRATION_TIMED_OUT, None, admitted.headers)
            return _error(
                502, INTERNAL_SERVER_ERROR, "InternalServerErrorException", admitted.headers
            )
        answer.headers = [*answer.headers, *admitted.headers]
        return answer

    def _invoke_within_timeout(self, event: dict[str, Any]) -> Invocation | None:
        """The function's invocation, or None if it has not ended within the timeout.

        The function runs on a thread of its own and goes on after the timeout (its result is
        dropped), as on AWS, where the function runs to its end or its own timeout.
        """
        finished = threading.Event()
        outcome: list[Invocation | BaseException] = []

        def run() -> None:
            try:
                outcome.append(self._invoke(self.function, event))
            except BaseException as exc:  # the request's thread raises it
                outcome.append(exc)
            finally:
                finished.set()

        threading.Thread(target=run, name="local-apigateway-integration", daemon=True).start()
        if not finished.wait(self.integration_timeout):
            return None
        (result,) = outcome
        if isinstance(result, BaseException):
            raise result
        return result

    def proxy_event(
        self,
        request: HttpRequest,
        *,
        request_id: str,
        extended_request_id: str,
        trace_id: str,
        claims: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        """The Lambda proxy integration's event for ``request`` (REST API, payload v1)."""
        target = urlsplit(request.target)
        path = unquote(target.path) or "/"
        host = urlsplit(f"//{_header(request.headers, 'Host') or '127.0.0.1'}")
        domain = host.hostname or "127.0.0.1"
        try:
            port = host.port or 80
        except ValueError:  # a Host header with no number after its colon
            port = 80
        route = None if self.routes is None else self.routes.match(request.method, target.path)
        if route is not None:
            resource, path_parameters = route.resource, route.path_parameters
        elif self._is_public(request.method, path) or path == "/":
            resource, path_parameters = path, None
        else:
            resource, path_parameters = "/{proxy+}", {"proxy": path.removeprefix("/")}
        headers = _event_headers(request, trace_id, port=port)
        query = parse_qsl(target.query, keep_blank_values=True)
        now = time.time()
        context: dict[str, Any] = {
            "accountId": self.account_id,
            "apiId": self.api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "extendedRequestId": extended_request_id,
            "httpMethod": request.method,
            "identity": _identity(request),
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, self.api_id + resource).hex[:6],
            "resourcePath": resource,
            "stage": self.stage,
        }
        if claims is not None:
            context["authorizer"] = {"claims": dict(claims)}
        body, is_base64 = self._event_body(request)
        return {
            "resource": resource,
            "path": path,
            "httpMethod": request.method,
            "headers": _single(headers, fold_case=True),
            "multiValueHeaders": _multi(headers, fold_case=True),
            "queryStringParameters": _single(query),
            "multiValueQueryStringParameters": _multi(query),
            "pathParameters": path_parameters,
            "stageVariables": None,
            "requestContext": context,
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _is_public(self, method: str, path: str) -> bool:
        # The public paths are GET methods of their own resources, with no authorizer.
        return path in self.public_paths and method in {"GET", "HEAD"}

    def _event_body(self, request: HttpRequest) -> tuple[str | None, bool]:
        if not request.body:
            return None, False
        content_type = (_header(request.headers, "Content-Type") or "").split(";")[0].strip()
        binary = any(fnmatch.fnmatch(content_type, kind) for kind in self.binary_media_types)
        if not binary:
            try:
                return request.body.decode("utf-8"), False
            except UnicodeDecodeError:
                # API Gateway would mangle bytes it takes for text; keep them intact instead.
                pass
        return base64.b64encode(request.body).decode(), True


def proxy_response(payload: Any) -> HttpResponse:
    """The HTTP response a Lambda proxy response stands for.

    ``headers`` and ``multiValueHeaders`` are merged as API Gateway merges them: a name in
    both keeps the multi-value list, plus the single value if it is not in the list.

    Raises
    ------
    MalformedProxyResponse
        When ``payload`` is not a proxy response (API Gateway then answers 502).
    """
    if not isinstance(payload, dict):
        raise MalformedProxyResponse(f"not an object: {type(payload).__name__}")
    unknown = set(payload) - _PROXY_RESPONSE_KEYS
    if unknown:
        raise MalformedProxyResponse(f"unexpected keys {sorted(unknown)}")
    status = payload.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode {status!r}")
    headers = _response_headers(payload.get("headers"), payload.get("multiValueHeaders"))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, _response_body(payload))


def _response_headers(single: Any, multi: Any) -> list[tuple[str, str]]:
    if not isinstance(single or {}, dict) or not isinstance(multi or {}, dict):
        raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
    merged: dict[str, list[str]] = {}
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] is not a list")
        merged[name] = [_header_value(value) for value in values]
    for name, value in (single or {}).items():
        text = _header_value(value)
        if text not in merged.setdefault(name, []):
            merged[name].append(text)
    return [(name, value) for name, values in merged.items() for value in values]


def _response_body(payload: dict[str, Any]) -> bytes:
    body = payload.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResponse("body must be a string")
    if payload.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode()


class _FunctionFailed(Exception):
    """The function raised, timed out or could not start."""


def _error_summary(payload: bytes) -> str:
    # The stack trace is in the function's log group; one line says why the answer is 502.
    try:
        document = json.loads(payload)
        return f"{document['errorType']}: {document['errorMessage']}"
    except (ValueError, KeyError, TypeError):
        return payload.decode(errors="replace")


class _GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: LocalApiGateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is the client's business, not a server fault.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.1: keep-alive connections, as clients of API Gateway expect.
    protocol_version = "HTTP/1.1"
    # Small answers go out at once rather than wait ~40 ms for the client's ACK (Nagle).
    disable_nagle_algorithm = True
    server: _GatewayServer

    def _serve(self) -> None:
        gateway = self.server.gateway
        # Names as the client spelled them, repeats kept: what API Gateway passes on.
        headers = [(name, value) for name, value in self.headers.items()]
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        declared = 0 if chunked else int(self.headers.get("Content-Length") or 0)
        handler = gateway.mounted(self.path)
        if handler is not None:  # not the API's: its body, if any, is not read
            request = HttpRequest(self.command, self.path, headers, b"", self.client_address[0])
            self._answer(handler(request), unread_body=chunked or declared > 0)
            return
        # The token and the declared size first: a refused request's body is never read.
        admitted = gateway.admit(self.command, self.path, headers, declared)
        if isinstance(admitted, HttpResponse):
            self._answer(admitted, unread_body=chunked or declared > 0)
            return
        body = self._read_chunked(gateway.max_body_bytes) if chunked else self._read(declared)
        request = HttpRequest(self.command, self.path, headers, body, self.client_address[0])
        if len(body) > gateway.max_body_bytes:  # chunked: the size shows only while reading
            self._answer(gateway.handle(request), unread_body=True)
            return
        if gateway.streams(self.command, self.path):
            streamed = gateway.forward_stream(request, admitted)
            if isinstance(streamed, StreamedAnswer):
                self._answer_stream(streamed)
            else:
                self._answer(streamed, unread_body=False)
            return
        self._answer(gateway.forward(request, admitted), unread_body=False)

    def _answer_stream(self, answer: StreamedAnswer) -> None:
        """Send the head, then each chunk as the function writes it (chunked encoding)."""
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for piece in itertools.chain([answer.first], answer.rest):
                if piece:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
        except OSError:
            answer.abandon()
            self.close_connection = True
            return
        if answer.cut is not None:
            # As API Gateway ends a stream at its limit: the connection closes mid-body.
            logger.warning("local API: stream cut, %s %s: %s", self.command, self.path, answer.cut)
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    def _answer(self, response: HttpResponse, *, unread_body: bool) -> None:
        if self.server.gateway.stopping.is_set():
            # The runtime is being taken down under the request (its environment, its
            # emulation): what the function answered now is not the API's answer. The
            # connection closes unanswered, as when a server goes away.
            self.close_connection = True
            return
        # What is left of a body the gateway did not read would be taken for the next request.
        self.close_connection = self.close_connection or unread_body
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if unread_body:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _read(self, length: int) -> bytes:
        return self.rfile.read(length) if length else b""

    def _read_chunked(self, limit: int) -> bytes:
        """The chunks' bytes, or the first ``limit`` + 1 of them (the rest left unread)."""
        chunks, total = [], 0
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(min(size, limit + 1 - total)))
            total += len(chunks[-1])
            if total > limit:
                return b"".join(chunks)
            self.rfile.readline()
        trailer = self.rfile.readline()
        while trailer.strip():  # trailers, up to the empty line
            trailer = self.rfile.readline()
        return b"".join(chunks)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the gateway (``do_FOO``), which answers what the API lacks
        # as API Gateway does, not http.server's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        # One line per request would interleave with whatever the terminal shows.
        logger.debug("local API: " + format, *args)


for _method in _METHODS:
    setattr(_RequestHandler, f"do_{_method}", _RequestHandler._serve)


def _bearer(headers: list[tuple[str, str]]) -> str:
    value = (_header(headers, "Authorization") or "").strip()
    scheme, _, rest = value.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else value
    if not token:
        raise InvalidToken("no token in the Authorization header")
    return token


def _authorizer_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    # The Cognito authorizer hands claims over as strings, times as Java writes dates.
    converted = {}
    for name, value in claims.items():
        if name in {"exp", "iat"} and isinstance(value, int | float):
            converted[name] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        elif isinstance(value, bool):
            converted[name] = "true" if value else "false"
        elif isinstance(value, list):
            converted[name] = ",".join(str(item) for item in value)
        else:
            converted[name] = str(value)
    return converted


def _identity(request: HttpRequest) -> dict[str, str | None]:
    # A Cognito user pool authorizer fills none of the IAM or identity-pool fields.
    return {
        "accessKey": None,
        "accountId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.source_ip,
        "user": None,
        "userAgent": _header(request.headers, "User-Agent"),
        "userArn": None,
    }


def _event_headers(request: HttpRequest, trace_id: str, *, port: int) -> list[tuple[str, str]]:
    # What the client sent, with the headers API Gateway sets in place of the client's own.
    forwarded = _header(request.headers, "X-Forwarded-For")
    added = [
        ("X-Amzn-Trace-Id", trace_id),
        (
            "X-Forwarded-For",
            f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip,
        ),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", "http"),
    ]
    replaced = {name.lower() for name, _ in added}
    return [
        *((name, value) for name, value in request.headers if name.lower() not in replaced),
        *added,
    ]


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key.lower() == name.lower()]
    return values[-1] if values else None


def _single(pairs: list[tuple[str, str]], *, fold_case: bool = False) -> dict[str, str] | None:
    # The single-value map holds the last value of each name; null when there is none.
    if not pairs:
        return None
    return {name: values[-1] for name, values in _group(pairs, fold_case).items()}


def _multi(pairs: list[tuple[str, str]], *, fold_case: bool = False) -> dict[str, list[str]] | None:
    return _group(pairs, fold_case) if pairs else None


def _group(pairs: list[tuple[str, str]], fold_case: bool) -> dict[str, list[str]]:
    # Header names that differ only in case are one header, named by its first spelling;
    # query string names are case-sensitive.
    spelling: dict[str, str] = {}
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower() if fold_case else name, name)
        grouped.setdefault(key, []).append(value)
    return grouped


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _new_trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def _error(
    status: int, body: Mapping[str, str], error_type: str | None, headers: list[tuple[str, str]]
) -> HttpResponse:
    kind = [("x-amzn-ErrorType", error_type)] if error_type else []
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), *kind, *headers],
        json.dumps(body).encode(),
    )


__all__ = [
    "INTEGRATION_TIMED_OUT",
    "INTEGRATION_TIMEOUT_SECONDS",
    "INTERNAL_SERVER_ERROR",
    "MAX_PAYLOAD_BYTES",
    "MISSING_AUTHENTICATION_TOKEN",
    "REQUEST_TOO_LARGE",
    "TOO_MANY_REQUESTS",
    "UNAUTHORIZED",
    "Admission",
    "HttpRequest",
    "HttpResponse",
    "LocalApiGateway",
    "MalformedProxyResponse",
    "proxy_response",
]
