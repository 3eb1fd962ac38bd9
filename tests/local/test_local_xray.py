"""X-Ray on the local runtime: what the SDK sends over UDP is read back as from AWS."""

from __future__ import annotations

import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from aws_xray_sdk.core.recorder import AWSXRayRecorder
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler

from maas.local.xray import DAEMON_ADDRESS_ENV
from maas.tracing import RequestTrace

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime
    from maas.local.awslambda import LocalFunction


def _serve_request(tenant: str) -> str:
    with RequestTrace(model="smollm2", version="3", tenant=tenant, endpoint="acme-ep") as trace:
        with trace.stage("prompt") as stage:
            stage.prompt("Answer: what is X-Ray?")
        with trace.stage("retrieval") as stage:
            stage.documents([("doc-1", 0.9), ("doc-4", 0.7)])
        with trace.stage("generation") as stage:
            stage.tokens(tokens_in=12, tokens_out=5)
        return str(trace.entity.trace_id)


def _summaries(runtime: LocalRuntime, **window: datetime) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    response = runtime.client("xray").get_trace_summaries(
        StartTime=window.get("since", now - timedelta(minutes=5)),
        EndTime=window.get("until", now + timedelta(minutes=1)),
    )
    return list(response["TraceSummaries"])


def _documents(runtime: LocalRuntime, trace_id: str) -> list[dict[str, Any]]:
    (trace,) = runtime.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    return [json.loads(segment["Document"]) for segment in trace["Segments"]]


def test_the_daemon_address_points_at_the_collector(runtime: LocalRuntime) -> None:
    host, port = os.environ[DAEMON_ADDRESS_ENV].split(":")
    assert host == "127.0.0.1"
    assert f"{host}:{port}" == runtime.xray.address


def test_traced_stages_come_back_through_batch_get_traces(runtime: LocalRuntime) -> None:
    before = runtime.xray.stored
    trace_id = _serve_request("acme")
    assert runtime.xray.wait_stored(before + 1)

    (segment,) = _documents(runtime, trace_id)
    assert segment["name"] == "maas-serving"
    assert [stage["name"] for stage in segment["subsegments"]] == [
        "prompt",
        "retrieval",
        "generation",
    ]
    prompt, retrieval, generation = segment["subsegments"]
    assert prompt["metadata"]["maas"]["prompt"] == "Answer: what is X-Ray?"
    assert retrieval["annotations"]["document_ids"] == "doc-1,doc-4"
    assert generation["annotations"]["tokens_out"] == 5


def test_a_trace_summary_carries_annotations_entry_point_and_times(
    runtime: LocalRuntime,
) -> None:
    before = runtime.xray.stored
    trace_id = _serve_request("globex")
    assert runtime.xray.wait_stored(before + 1)

    (summary,) = [item for item in _summaries(runtime) if item["Id"] == trace_id]
    assert summary["EntryPoint"]["Name"] == "maas-serving"
    assert summary["Annotations"]["tenant"][0]["AnnotationValue"] == {"StringValue": "globex"}
    tokens = summary["Annotations"]["tokens_in"][0]["AnnotationValue"]
    assert tokens == {"NumberValue": 12}
    assert 0 < summary["ResponseTime"] <= summary["Duration"] < 5
    assert summary["HasFault"] is False


def test_a_window_that_ends_before_the_trace_leaves_it_out(runtime: LocalRuntime) -> None:
    before = runtime.xray.stored
    trace_id = _serve_request("initech")
    assert runtime.xray.wait_stored(before + 1)

    now = datetime.now(UTC)
    earlier = _summaries(runtime, since=now - timedelta(hours=2), until=now - timedelta(hours=1))
    assert trace_id not in {item["Id"] for item in earlier}


def test_subsegments_sent_on_their_own_are_nested_into_their_parent(
    runtime: LocalRuntime,
) -> None:
    # A threshold of 0 streams every closed subsegment as its own document, as the SDK does
    # in Lambda; X-Ray returns them inside the segment they belong to.
    streaming = AWSXRayRecorder()
    streaming.configure(
        daemon_address=runtime.xray.address,
        sampling=False,
        sampler=LocalSampler(),
        streaming_threshold=0,
        plugins=(),
    )
    before = runtime.xray.stored
    with RequestTrace(model="m", version="1", tenant="acme", recorder=streaming) as trace:
        with trace.stage("embedding"):
            pass
        with trace.stage("guardrail"):
            pass
        trace_id = str(trace.entity.trace_id)
    assert runtime.xray.wait_stored(before + 3)

    (segment,) = _documents(runtime, trace_id)
    assert [stage["name"] for stage in segment["subsegments"]] == ["embedding", "guardrail"]
    assert all("parent_id" not in stage for stage in segment["subsegments"])


def test_an_unknown_trace_id_is_unprocessed(runtime: LocalRuntime) -> None:
    unknown = "1-00000000-000000000000000000000000"
    response = runtime.client("xray").batch_get_traces(TraceIds=[unknown])
    assert response["Traces"] == []
    assert response["UnprocessedTraceIds"] == [unknown]


@pytest.mark.parametrize(
    "datagram",
    [b"not a segment", b'{"format":"json","version":1}\n{"id": "no-trace-id"}'],
)
def test_a_datagram_that_is_not_a_valid_segment_is_not_stored(
    runtime: LocalRuntime, datagram: bytes
) -> None:
    before = runtime.xray.stored
    host, port = runtime.xray.address.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(datagram, (host, int(port)))
    trace_id = _serve_request("acme")
    assert runtime.xray.wait_stored(before + 1)
    assert runtime.xray.stored == before + 1
    assert _documents(runtime, trace_id)


def _header_fields(header: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in header.split(";"))


def test_a_lambda_invocation_is_a_function_segment_with_the_handler_under_it(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("handler")
    function = _traced(runtime, function)
    before = runtime.xray.stored
    response = runtime.client("lambda").invoke(
        FunctionName=function.name, Payload=json.dumps({"input": 1})
    )
    header = json.loads(response["Payload"].read())["trace_header"]
    assert runtime.xray.wait_stored(before + 1)

    fields = _header_fields(header)
    (segment,) = _documents(runtime, fields["Root"])
    assert segment["id"] == fields["Parent"]
    assert fields["Sampled"] == "1"
    assert segment["name"] == function.name
    assert segment["origin"] == "AWS::Lambda::Function"
    assert segment["aws"]["function_arn"] == function.arn
    (handler,) = segment["subsegments"]
    assert handler["name"] == "## handler"
    # Powertools keeps its cold-start flag per process, and a worker's process runs many
    # functions: only that the annotation is there is this sandbox's to promise.
    assert isinstance(handler["annotations"]["ColdStart"], bool)


def test_concurrent_invocations_are_separate_traces(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = _traced(runtime, deploy_function("handler"))
    before = runtime.xray.stored

    def invoke(number: int) -> str:
        response = runtime.client("lambda").invoke(
            FunctionName=function.name, Payload=json.dumps({"input": number})
        )
        return str(json.loads(response["Payload"].read())["trace_header"])

    with ThreadPoolExecutor(4) as pool:
        headers = list(pool.map(invoke, range(4)))
    assert runtime.xray.wait_stored(before + 4)

    roots = {_header_fields(header)["Root"] for header in headers}
    assert len(roots) == 4
    for header in headers:
        (segment,) = _documents(runtime, _header_fields(header)["Root"])
        assert segment["id"] == _header_fields(header)["Parent"]
        assert [sub["name"] for sub in segment["subsegments"]] == ["## handler"]


def _traced(runtime: LocalRuntime, function: LocalFunction) -> LocalFunction:
    # The same function served from the Powertools-traced test handler.
    traced = replace(function, handler="tests.local.traced_handlers.handler")
    runtime.lambda_.register(traced)
    return traced
