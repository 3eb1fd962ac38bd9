"""The emulation's HTTP server, which other processes (the Batch jobs) reach over
``AWS_ENDPOINT_URL``, with the roles' IAM statements enforced on what they call.

Why this exists: in this process :mod:`maas.local.iam_enforcement` evaluates each call in
botocore before moto sees it; a job is another process, whose calls arrive here as HTTP
requests. They are evaluated here instead, with the same enforcement: the request's SigV4
credential names the access key, whose role session the emulated STS issued (the job
role's session the job runs with, :mod:`maas.local.batch`, or the tenant session the job
assumes with it, :func:`maas.tenancy.act_as_tenant`), and :mod:`maas.local.http_operations`
reads the operation and its parameters back from the request. A refused call is answered as
the service answers AccessDenied, in its protocol's shape, and never reaches moto. Requests
signed with keys no enforced role's session holds (the runtime's own test credentials) pass
untouched, as in this process.

The server is moto's WSGI application on werkzeug's threaded server, as moto's
``ThreadedMotoServer`` runs it, but bound before :meth:`EmulationServer.start` returns: a
port already in use fails there, with the port in the message, instead of in a thread
nobody waits on.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import uuid
from typing import TYPE_CHECKING, Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from maas.local import iam_enforcement
from maas.local.http_operations import SignedRequest, read_call, signer

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.model import OperationModel

    from maas.local.iam_enforcement import Denial

logger = logging.getLogger(__name__)

#: The XML namespace of a query-protocol error (the service's API version's).
_QUERY_ERROR = (
    '<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code}</Code>'
    "<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
)
_REST_XML_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}'
    "</Message><RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
)


class EnforcingApplication:
    """A WSGI application: ``app``, behind the enforcement installed in this process."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        enforcement = iam_enforcement.active()
        # Only the Authorization header names the signer: the others are read for the calls
        # that are checked, not for every request the emulation serves.
        authorization = {"Authorization": str(environ.get("HTTP_AUTHORIZATION", ""))}
        signed = signer(authorization, environ.get("QUERY_STRING", ""))
        principal = None if signed is None else iam_enforcement.principal_of(signed[0])
        if enforcement is None or principal is None or not enforcement.enforces(principal):
            return self._app(environ, start_response)
        assert signed is not None
        request = _request(environ)
        call = read_call(signed[1], request)
        if call is None:
            # An enforced role's call that cannot be told is refused, never let through.
            logger.warning(
                "refused an unreadable call of %s: %s %s", signed[1], request.method, request.path
            )
            return _refuse_unreadable(start_response, principal.session_arn, signed[1])
        denial = enforcement.check(principal, call.model, call.params)
        if denial is not None:
            return _refuse(start_response, call.model, denial)
        return self._app(environ, start_response)


class EmulationServer:
    """moto's application behind :class:`EnforcingApplication`, served on 127.0.0.1."""

    def __init__(self, port: int = 0) -> None:
        app = EnforcingApplication(DomainDispatcherApplication(create_backend_app))
        # Bound here, not by werkzeug, which answers a port in use with sys.exit.
        with socket.socket() as listening:
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listening.bind(("127.0.0.1", port))
            except OSError as exc:
                message = f"cannot serve the emulation on port {port}: {exc.strerror}"
                raise OSError(exc.errno, message) from exc
            listening.listen(128)
            # werkzeug serves a duplicate of the descriptor; this one closes on leaving.
            self._server: BaseWSGIServer = make_server(
                "127.0.0.1",
                port,
                app,
                threaded=True,
                request_handler=MotoRequestHandler,
                fd=listening.fileno(),
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # Polled this often for shutdown (werkzeug's default, 0.5 s, is a stop's wait).
            kwargs={"poll_interval": 0.1},
            name="emulation-server",
            daemon=True,
        )

    def start(self) -> None:
        """Answer requests (in a thread) until :meth:`stop`."""
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        """Where it listens."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        """Stop answering and release the port."""
        self._server.shutdown()
        self._server.server_close()
        # The loop has ended once shutdown returns; requests in progress are daemon threads.
        self._thread.join(timeout=5)


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = str(environ["CONTENT_TYPE"])
    return headers


def _request(environ: dict[str, Any]) -> SignedRequest:
    """The request, its body read and put back for the application to read again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    # The raw path keeps a key's escapes (``%2F``), as the signature was computed over it.
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"])
    return SignedRequest(
        method=str(environ["REQUEST_METHOD"]),
        path=raw.partition("?")[0],
        query=str(environ.get("QUERY_STRING", "")),
        headers=_headers(environ),
        body=body,
    )


def _refuse(
    start_response: Callable[..., Any], model: OperationModel, denial: Denial
) -> list[bytes]:
    """The service's AccessDenied answer, in its protocol's shape (botocore's parsers read
    each: ``__type`` for JSON, ``x-amzn-ErrorType`` for REST-JSON, ``<Error><Code>`` for XML)."""
    protocol = model.service_model.protocol
    status, code = denial.error(protocol)
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    message = _xml_text(denial.message)
    if protocol == "query":
        namespace = model.service_model.metadata.get("xmlNamespace", "")
        body = _QUERY_ERROR.format(
            namespace=namespace, code=code, message=message, request_id=request_id
        )
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "rest-xml":
        body = _REST_XML_ERROR.format(code=code, message=message, request_id=request_id)
        headers.append(("Content-Type", "application/xml"))
    else:
        body = json.dumps({"__type": code, "message": denial.message})
        headers += [("x-amzn-ErrorType", code), ("Content-Type", "application/json")]
    start_response(f"{status} {'Forbidden' if status == 403 else 'Bad Request'}", headers)
    return [body.encode()]


def _refuse_unreadable(
    start_response: Callable[..., Any], session_arn: str, signing_name: str
) -> list[bytes]:
    message = (
        f"User: {session_arn} is not authorized: the local runtime cannot tell which "
        f"{signing_name} action this request is, so it cannot authorize it"
    )
    start_response(
        "403 Forbidden",
        [("x-amzn-ErrorType", "AccessDeniedException"), ("Content-Type", "application/json")],
    )
    return [json.dumps({"__type": "AccessDeniedException", "message": message}).encode()]


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["EmulationServer", "EnforcingApplication"]
