"""The console's HTTP side: routes, answers, and the two ways it is served.

:class:`ConsoleApp` answers ``GET`` (and ``HEAD``) requests under ``/console`` with pages, a
404 page for what does not exist, 400 for a bad filter, 405 for any other method (it changes
nothing) and 403 for a request whose ``Host`` is not this machine's loopback: a page of another
site that resolves its own name to 127.0.0.1 (DNS rebinding) must not read the console. It is
served in two ways:

- by ``maas local up``, on the local API's port: :func:`gateway_mount` hands the local API
  Gateway the requests under ``/console`` (:mod:`maas.local.apigateway`);
- alone, against AWS with the default credentials (``maas console``): :func:`serve` runs it as
  a WSGI application (:meth:`ConsoleApp.__call__`) on 127.0.0.1.

Every answer forbids scripts, frames and foreign content (``Content-Security-Policy``) and is
never cached.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pydantic
from botocore.exceptions import BotoCoreError, ClientError

from maas.aws import error_code
from maas.cli.traces_html import render_html as render_trace
from maas.console import pages
from maas.console.data import EVENT_HOURS, ConsoleData, EventFilters, ExecutionFilters
from maas.exceptions import NotFound
from maas.validation import describe_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from maas.evaluation.report import ReportSummary
    from maas.local import LocalRuntime
    from maas.local.apigateway import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

#: Hosts a browser on this machine names the console by.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
#: Every answer's security headers: no script, no frame, nothing from elsewhere.
SECURITY_HEADERS: Final = (
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
#: Seconds between reloads of a running execution's page (the ``Refresh`` header).
REFRESH_SECONDS: Final = 3


@dataclass(frozen=True)
class ConsoleResponse:
    """A status, header lines and a body."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (any case), if present."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None

    @classmethod
    def html(cls, status: int, text: str, *extra: tuple[str, str]) -> ConsoleResponse:
        """An HTML page with the console's headers."""
        headers = [("Content-Type", "text/html; charset=utf-8"), *SECURITY_HEADERS, *extra]
        return cls(status, text.encode("utf-8"), headers)


class _BadRequest(Exception):
    """A request the console cannot answer as asked (400)."""


class ConsoleApp:
    """The console over ``data``: ``respond`` answers one request; the app is also WSGI."""

    def __init__(self, data: ConsoleData) -> None:
        self.data = data

    def respond(self, method: str, target: str, host: str | None = None) -> ConsoleResponse:
        """The answer to ``method target`` (``target``: path and query string)."""
        refused = _refusal(method, host)
        if refused is not None:
            return refused
        parts = urlsplit(target)
        path = parts.path.removeprefix(pages.PREFIX)
        segments = [unquote(part) for part in path.strip("/").split("/") if part]
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            return self._route(segments, query)
        except NotFound as exc:
            return ConsoleResponse.html(404, pages.error_page(404, exc.message))
        except _BadRequest as exc:
            return ConsoleResponse.html(400, pages.error_page(400, str(exc)))
        except ClientError as exc:
            # The credentials may not read this (AccessDenied): say so, as AWS said it.
            logger.warning("console: %s %s: %s", method, target, exc)
            code = error_code(exc) or ""
            status = 403 if "AccessDenied" in code else 502
            return ConsoleResponse.html(status, pages.error_page(status, f"AWS answered: {exc}"))
        except BotoCoreError as exc:  # no credentials, no connection
            logger.warning("console: %s %s: %s", method, target, exc)
            return ConsoleResponse.html(503, pages.error_page(503, f"AWS not reached: {exc}"))

    def _route(self, segments: list[str], query: dict[str, str]) -> ConsoleResponse:
        extra: list[tuple[str, str]] = []
        match segments:
            case [] | ["workflows"]:
                text = pages.workflows_page(self.data.state_machines())
            case ["workflows", name]:
                text = pages.workflow_page(self.data.state_machine(name))
            case ["executions"]:
                text = self._executions(query)
            case ["executions", workflow, name]:
                detail = self.data.execution(workflow, name)
                summaries: dict[str, ReportSummary | None] = {
                    record.evaluation_id: self.data.report_summary(record)
                    for record in detail.evaluations
                }
                text = pages.execution_page(detail, summaries)
                # A running execution's page reloads itself: no script needed to follow it.
                if not detail.snapshot.done:
                    extra.append(("Refresh", str(REFRESH_SECONDS)))
            case ["endpoints"]:
                tenant = _tenant(query)
                text = pages.endpoints_page(
                    self.data.endpoints(tenant),
                    tenant,
                    **_unknown("endpoints", self.data.endpoints_table),
                )
            case ["models"]:
                tenant = _tenant(query)
                text = pages.models_page(
                    self.data.versions(tenant), tenant, **_unknown("models", self.data.models_table)
                )
            case ["events"]:
                text = self._events(query)
            case ["reports", tenant, evaluation_id]:
                # The report the evaluation wrote, as it wrote it (maas.evaluation.report_html).
                text = self.data.report_html(tenant, evaluation_id).decode("utf-8", "replace")
            case ["traces", trace_id]:
                text = render_trace(self.data.trace(trace_id))
            case _:
                raise NotFound(f"no console page at {pages.PREFIX}/{'/'.join(segments)}")
        return ConsoleResponse.html(200, text, *extra)

    def _events(self, query: dict[str, str]) -> str:
        try:
            filters = EventFilters.model_validate(query)
        except pydantic.ValidationError as exc:
            raise _BadRequest(f"bad filter: {describe_errors(exc.errors())}") from None
        events = [
            event
            for event in self.data.events()
            if filters.tenant is None or _tenant_of_event(event) == filters.tenant
        ]
        empty = (
            "No event log given: set EVENT_LOG_GROUP (maas console --help)."
            if self.data.event_log_group is None
            else f"No events in the last {EVENT_HOURS} hours."
        )
        return pages.events_page(events, filters.type, filters.tenant, empty=empty)

    def _executions(self, query: dict[str, str]) -> str:
        try:
            filters = ExecutionFilters.model_validate(query)
        except pydantic.ValidationError as exc:
            raise _BadRequest(f"bad filter: {describe_errors(exc.errors())}") from None
        items, truncated = self.data.executions(filters)
        return pages.executions_page(
            items, filters, self.data.state_machines(), truncated=truncated
        )

    # -- WSGI --------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """The console as a WSGI application (PEP 3333)."""
        target = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME")
        response = self.respond(environ.get("REQUEST_METHOD", "GET"), target, host)
        start_response(
            f"{response.status} {HTTPStatus(response.status).phrase}",
            [*response.headers, ("Content-Length", str(len(response.body)))],
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]


def _tenant_of_event(event: dict[str, Any]) -> str | None:
    detail = event.get("detail")
    return detail.get("tenant_id") if isinstance(detail, dict) else None


def _unknown(kind: str, table: str | None) -> dict[str, str]:
    """The empty page's message when the console was given no table to read ``kind`` from."""
    if table is not None:
        return {}
    variable = f"{kind.upper()}_TABLE_NAME"
    return {"empty": f"No {kind} table given: set {variable} (maas console --help)."}


def _refusal(method: str, host: str | None) -> ConsoleResponse | None:
    """403 for a host other than the loopback, 405 for a method that is not a read."""
    if host is not None and _hostname(host) not in LOOPBACK_HOSTS:
        message = "the console answers only on this machine's loopback address"
        return ConsoleResponse.html(403, pages.error_page(403, message))
    if method not in {"GET", "HEAD"}:
        page = pages.error_page(405, "the console is read-only: GET only")
        return ConsoleResponse.html(405, page, ("Allow", "GET, HEAD"))
    return None


def _hostname(host: str) -> str:
    """The host of a ``Host`` header, without its port (``[::1]:8000`` -> ``::1``)."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _tenant(query: dict[str, str]) -> str | None:
    try:
        return ExecutionFilters.model_validate({"tenant": query.get("tenant", "")}).tenant
    except pydantic.ValidationError as exc:
        raise _BadRequest(f"bad tenant: {describe_errors(exc.errors())}") from None


def local_console(runtime: LocalRuntime) -> ConsoleApp:
    """The console over the local runtime's emulated account, as the runtime itself reads it."""
    return ConsoleApp(
        ConsoleData(
            runtime.client,
            endpoints_table=runtime.resources.tables.get("EndpointsTable"),
            models_table=runtime.resources.tables.get("ModelsTable"),
            event_log_group=runtime.resources.log_groups.get("EventLog"),
            local=True,
        )
    )


def aws_console(
    endpoints_table: str | None, models_table: str | None, event_log_group: str | None = None
) -> ConsoleApp:
    """The console over whatever account boto3's default credentials (or
    ``AWS_ENDPOINT_URL``) reach."""
    from maas.aws import client  # noqa: PLC0415 - boto3's session only when served

    return ConsoleApp(
        ConsoleData(
            client,
            endpoints_table=endpoints_table,
            models_table=models_table,
            event_log_group=event_log_group,
        )
    )


def gateway_mount(app: ConsoleApp) -> Callable[[HttpRequest], HttpResponse]:
    """What the local API Gateway calls for a request under ``/console``."""
    # The local runtime is loaded once the gateway exists: not at import, for `maas console`.
    from maas.local.apigateway import HttpResponse  # noqa: PLC0415

    def answer(request: HttpRequest) -> HttpResponse:
        host = next((value for name, value in request.headers if name.lower() == "host"), None)
        response = app.respond(request.method, request.target, host)
        return HttpResponse(response.status, response.headers, response.body)

    return answer


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("console: " + format, *args)


@dataclass
class ServedConsole:
    """A console being served on 127.0.0.1; :meth:`stop` ends it."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        """The console's address."""
        return f"http://127.0.0.1:{self.server.server_port}{pages.PREFIX}"

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(app: ConsoleApp, port: int = 0) -> ServedConsole:
    """Serve ``app`` on 127.0.0.1:``port`` (0: any free port) in a thread."""
    server = make_server("127.0.0.1", port, app, server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="console", daemon=True
    )
    thread.start()
    return ServedConsole(server, thread)


__all__ = [
    "LOOPBACK_HOSTS",
    "REFRESH_SECONDS",
    "SECURITY_HEADERS",
    "ConsoleApp",
    "ConsoleResponse",
    "ServedConsole",
    "aws_console",
    "gateway_mount",
    "local_console",
    "serve",
]
