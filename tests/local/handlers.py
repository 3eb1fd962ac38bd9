"""Lambda handlers for the local runtime's tests, each doing the one thing a test needs.

The runtime loads this file once per sandbox of a function (its own module instance, as
each execution environment has on AWS), so module-level state here is per sandbox. What concurrent
invocations must share (:data:`RENDEZVOUS`) is reached through the module as Python
imports it, ``tests.local.handlers``.
"""

from __future__ import annotations

import base64
import functools
import importlib
import json
import os
import time
import uuid
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from maas.exceptions import ValidationError
from maas.tenancy import TenantSessions

if TYPE_CHECKING:
    import threading

#: Which sandbox this module instance is.
SANDBOX_ID = uuid.uuid4().hex

#: The process environment as this function's module scope (its cold start) saw it.
COLD_START_ENVIRONMENT = dict(os.environ)

#: Barriers that concurrent invocations meet at, by name; a test puts them here.
RENDEZVOUS: dict[str, threading.Barrier] = {}


def _meet(name: str) -> None:
    shared = importlib.import_module("tests.local.handlers")
    shared.RENDEZVOUS[name].wait(timeout=5)


def echo(event: Any, context: Any) -> Any:
    """Return the event and the function's name."""
    return {"event": event, "function_name": context.function_name}


def environment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The variables named in ``event["names"]`` at cold start and in this invocation.

    With ``event["rendezvous"]``, first wait there for the other invocations.
    """
    if "rendezvous" in event:
        _meet(event["rendezvous"])
    names = event["names"]
    return {
        "input": event.get("input"),
        "cold_start": {name: COLD_START_ENVIRONMENT.get(name) for name in names},
        "invocation": {name: os.environ.get(name) for name in names},
    }


def call_aws(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Make the call ``event`` names (``service``, ``operation``, ``params``) with the
    function's own credentials, or acting for ``for_tenant`` through the role
    ``tenant_role_arn`` as the workflows' functions do; answer its result, or the error it
    met."""
    if "for_tenant" in event:
        sessions = TenantSessions(event["tenant_role_arn"], boto3.client("sts"), purpose="test")
        client = sessions.for_tenant(event["for_tenant"]).client(event["service"])
    else:
        client = boto3.client(event["service"])
    try:
        answer = getattr(client, event["operation"])(**event.get("params", {}))
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    answer.pop("ResponseMetadata", None)
    return dict(json.loads(json.dumps(answer, default=str)))


def raise_validation_error(event: dict[str, Any], context: Any) -> None:
    """Fail as a handler does on a bad request."""
    raise ValidationError(event.get("message", "endpoint_name: too long"))


def raise_value_error(event: dict[str, Any], context: Any) -> None:
    """Fail with a plain Python error."""
    raise ValueError(event.get("message", "not a number"))


def sleep(event: dict[str, Any], context: Any) -> dict[str, float]:
    """Sleep ``event["seconds"]``, longer than the function's timeout when a test wants."""
    time.sleep(event["seconds"])
    return {"slept": event["seconds"]}


def print_event(event: Any, context: Any) -> dict[str, str]:
    """Print the event as one JSON line, after meeting the test if it (or its detail) asks to."""
    rendezvous = event.get("rendezvous") or event.get("detail", {}).get("rendezvous")
    if rendezvous:
        _meet(rendezvous)
    print(json.dumps({"received": event}, sort_keys=True))
    return {"printed": context.aws_request_id}


def return_a_set(event: Any, context: Any) -> set[int]:
    """Answer with something JSON cannot encode."""
    return {1, 2}


def api_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer as an API function does: the proxy event back as JSON, with headers of each kind.

    ``/binary`` answers the request's body reversed, base64-encoded;
    ``/not-a-proxy-response`` answers something that is not a proxy response.
    """
    if event["path"] == "/not-a-proxy-response":
        return {"event": event}
    if event["path"] == "/binary":
        body = base64.b64decode(event["body"]) if event["isBase64Encoded"] else b""
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(body[::-1]).decode(),
            "isBase64Encoded": True,
        }
    return {
        "statusCode": int((event["queryStringParameters"] or {}).get("status", 200)),
        "headers": {"Content-Type": "application/json", "X-Single": "one"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Single": ["zero"]},
        "body": json.dumps({"event": event}),
        "isBase64Encoded": False,
    }


def api_crash(event: dict[str, Any], context: Any) -> None:
    """Fail as a buggy API function does."""
    raise RuntimeError("the API function broke")


@functools.cache
def _resolver() -> Any:
    # Built on first use: Powertools takes a while to import, and most handlers here don't.
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    resolver = APIGatewayRestResolver()

    @resolver.get("/whoami/<name>")
    def whoami(name: str) -> dict[str, str]:
        claims = resolver.current_event.request_context.authorizer.claims or {}
        return {"name": name, "tenant_id": claims["custom:tenant_id"]}

    return resolver


def api_resolver(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A Powertools REST resolver, as ``functions.api.app`` is, answering ``GET /whoami/<name>``."""
    return dict(_resolver().resolve(event, context))


def sandbox(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Which sandbox served the invocation, and its log stream; first meet at a rendezvous."""
    if "rendezvous" in event:
        _meet(event["rendezvous"])
    return {"sandbox": SANDBOX_ID, "log_stream": context.log_stream_name}
