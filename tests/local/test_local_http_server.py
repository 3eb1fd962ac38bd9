"""The emulation's HTTP server: what it does with requests it cannot authorize, and a port
already taken."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

from maas.local.http_server import EmulationServer

if TYPE_CHECKING:
    from maas.local import LocalRuntime


def test_an_enforced_roles_request_that_names_no_known_operation_is_refused(
    runtime: LocalRuntime,
) -> None:
    """Never let through what cannot be authorized: AccessDenied, saying why."""
    session = runtime.client("sts").assume_role(
        RoleArn=runtime.resources.roles["PackagerJobRole"], RoleSessionName="unreadable"
    )
    key = session["Credentials"]["AccessKeyId"]
    request = urllib.request.Request(
        f"{runtime.endpoint_url()}/no/such/operation",
        method="PATCH",
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20261207/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=0"
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 403
    body = json.loads(raised.value.read())
    assert body["__type"] == "AccessDeniedException"
    assert "cannot tell which s3 action" in body["message"]


def test_a_port_already_in_use_fails_at_once_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"port {port}"):
            EmulationServer(port)


def test_a_stopped_server_releases_its_port() -> None:
    server = EmulationServer()
    server.start()
    port = server.get_host_and_port()[1]
    server.stop()
    again = EmulationServer(port)
    again.start()
    again.stop()
