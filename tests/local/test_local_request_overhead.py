"""What the runtime leaves out of each request's cost, and what it keeps.

- In-process calls are not signed (:mod:`maas.local.signing`): SigV4's header form and
  credential scope stay (moto and the emulation server read the access key and the
  service from it), S3's and presigned URLs' signatures are computed, and who a call is
  from is still the credentials' role (IAM enforcement denies as before).
- The X-Ray daemon puts the documents that arrived together in one ``PutTraceSegments``
  (https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon.html: it "buffers segments
  in a queue and uploads them to X-Ray in batches"), and loses none of them.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from maas.local.signing import UNSIGNED
from maas.local.xray import PROTOCOL_HEADER
from maas.tenancy import TenantSessions

if TYPE_CHECKING:
    from maas.local import LocalRuntime

_SCOPE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/"
    r"aws4_request, SignedHeaders=[^,]+, Signature=(?P<signature>[0-9a-f]{64})$"
)


def _authorization(client: Any, call: str, **parameters: Any) -> str:
    """The ``Authorization`` header ``client`` sent for one call."""
    sent: list[str] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(request.headers["Authorization"].decode())

    client.meta.events.register("before-send", record)
    try:
        getattr(client, call)(**parameters)
    finally:
        client.meta.events.unregister("before-send", record)
    return sent[-1]


def test_an_in_process_call_keeps_sigv4_s_scope_without_computing_its_signature(
    runtime: LocalRuntime,
) -> None:
    header = _authorization(runtime.client("dynamodb"), "list_tables")

    matched = _SCOPE.match(header)
    assert matched is not None, header
    assert (matched["region"], matched["service"]) == (runtime.settings.region, "dynamodb")
    assert matched["signature"] == UNSIGNED


def test_s3_calls_and_presigned_urls_are_still_signed(runtime: LocalRuntime) -> None:
    s3 = runtime.client("s3")
    bucket = f"signed-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)

    header = _authorization(s3, "list_objects_v2", Bucket=bucket)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})

    matched = _SCOPE.match(header)
    assert matched is not None, header
    assert matched["signature"] != UNSIGNED
    signature = re.search(r"(X-Amz-Signature|Signature)=([^&]+)", url)
    assert signature is not None, url
    assert signature[2] != UNSIGNED


def test_who_calls_is_still_the_credentials_role(runtime: LocalRuntime) -> None:
    # The tenant access role, tagged for acme: globex's item is denied, as before.
    table = runtime.resources.tables["ModelsTable"]
    key = {"pk": {"S": "TENANT#globex"}, "sk": {"S": "MODEL#unsigned"}}
    runtime.client("dynamodb").put_item(TableName=table, Item=key)
    acme = TenantSessions(runtime.resources.roles["TenantAccessRole"], runtime.client("sts"))
    dynamodb = acme.for_tenant("acme").client("dynamodb")

    with pytest.raises(ClientError) as denied:
        dynamodb.get_item(TableName=table, Key=key)
    header = _authorization(runtime.client("dynamodb"), "get_item", TableName=table, Key=key)

    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert header.endswith(f"Signature={UNSIGNED}")


def _datagram(trace_id: str, index: int) -> bytes:
    now = time.time()
    segment = {
        "name": "burst",
        "id": f"{index:016x}",
        "trace_id": trace_id,
        "start_time": now,
        "end_time": now + 0.001,
    }
    return f"{json.dumps(PROTOCOL_HEADER)}\n{json.dumps(segment)}".encode()


def test_a_burst_of_segments_is_stored_whole_in_fewer_calls(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace_id = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    host, port = runtime.xray.address.split(":")
    before = runtime.xray.stored
    batches: list[int] = []
    put = runtime.xray._put

    def counted(client: Any, documents: list[str]) -> None:
        batches.append(len(documents))
        put(client, documents)

    monkeypatch.setattr(runtime.xray, "_put", counted)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for index in range(40):
            sender.sendto(_datagram(trace_id, index), (host, int(port)))

    assert runtime.xray.wait_stored(before + 40)
    (trace,) = runtime.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    assert len(trace["Segments"]) == 40
    assert sum(batches) == 40
    # Sent faster than one call answers: the daemon took several in a call at least once.
    assert len(batches) < 40
