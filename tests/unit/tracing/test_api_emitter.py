"""Where no X-Ray daemon listens (an AWS Batch job), segments go through the X-Ray API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import boto3

from maas.tracing import RequestTrace
from maas.tracing.emitter import DAEMON_ADDRESS_ENV, ApiEmitter, send_without_daemon

if TYPE_CHECKING:
    import pytest
    from aws_xray_sdk.core.recorder import AWSXRayRecorder


def test_a_request_traced_without_a_daemon_is_put_in_xray(
    aws: None, recorder: AWSXRayRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DAEMON_ADDRESS_ENV, raising=False)
    xray = boto3.client("xray")
    assert send_without_daemon(xray, recorder)
    assert isinstance(recorder.emitter, ApiEmitter)

    with (
        RequestTrace(model="smollm2", version="1", tenant="acme", recorder=recorder) as trace,
        trace.stage("generation") as stage,
    ):
        stage.tokens(tokens_in=3, tokens_out=5)
        trace_id = str(trace.entity.trace_id)

    (found,) = xray.batch_get_traces(TraceIds=[trace_id])["Traces"]
    document = json.loads(found["Segments"][0]["Document"])
    assert document["annotations"]["tenant"] == "acme"
    assert [child["name"] for child in document["subsegments"]] == ["generation"]


def test_a_process_with_a_daemon_keeps_sending_to_it(
    recorder: AWSXRayRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DAEMON_ADDRESS_ENV, "127.0.0.1:2000")
    before = recorder.emitter

    assert not send_without_daemon(object(), recorder)
    assert recorder.emitter is before
