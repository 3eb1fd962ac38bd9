"""Segments sent straight to the X-Ray API, for a process with no X-Ray daemon beside it.

A Lambda function has a daemon and the local runtime runs one (:mod:`maas.local.xray`), both
named by ``AWS_XRAY_DAEMON_ADDRESS``; an AWS Batch job has none, so the evaluator's segments
sent over UDP would be lost and an evaluation report's trace links would lead nowhere.
:func:`send_without_daemon` gives such a process an :class:`ApiEmitter`, which puts each
finished segment with ``PutTraceSegments`` (the evaluator's job role may).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from aws_xray_sdk.core import AWSXRayRecorder, xray_recorder
from aws_xray_sdk.core.context import Context
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from aws_xray_sdk.core.models.entity import Entity

logger = logging.getLogger(__name__)

#: Where an X-Ray daemon listens, when there is one.
DAEMON_ADDRESS_ENV = "AWS_XRAY_DAEMON_ADDRESS"


class ApiEmitter(UDPEmitter):  # type: ignore[misc]
    """Puts each segment the recorder finishes with the X-Ray API instead of a datagram."""

    def __init__(self, xray: Any) -> None:
        super().__init__()
        self._xray = xray

    def send_entity(self, entity: Entity) -> None:
        """Put ``entity``; a failure is logged, as a daemon would, and the work goes on."""
        try:
            answer = self._xray.put_trace_segments(TraceSegmentDocuments=[entity.serialize()])
        except (BotoCoreError, ClientError) as exc:
            logger.warning("segment %s not sent to X-Ray: %s", entity.id, exc)
            return
        for unprocessed in answer.get("UnprocessedTraceSegments", []):
            logger.warning("X-Ray refused segment %s: %s", unprocessed.get("Id"), unprocessed)


def send_without_daemon(xray: Any, recorder: AWSXRayRecorder | None = None) -> bool:
    """Give ``recorder`` an :class:`ApiEmitter` when no daemon address is set; whether it did."""
    if os.environ.get(DAEMON_ADDRESS_ENV):
        return False
    (recorder or xray_recorder).emitter = ApiEmitter(xray)
    return True


def standalone_recorder(xray: Any) -> AWSXRayRecorder:
    """A recorder of its own, for traces that start in this process, wherever it runs.

    Inside a Lambda function the SDK's global recorder may only add subsegments to the
    function's segment (a new segment is discarded), so an evaluator running there could
    not record each question as a trace of its own; a Batch job has no daemon. This
    recorder keeps its entities per thread whatever runs it, traces every request it is
    given (sampling is the caller's header's), and sends to the daemon where one listens
    (Lambda, the local runtime), through ``xray`` (the X-Ray API) where none does.
    """
    recorder = AWSXRayRecorder()
    recorder.configure(context=Context(), sampling=False)
    address = os.environ.get(DAEMON_ADDRESS_ENV)
    if address:
        recorder.emitter.set_daemon_address(address)
    else:
        send_without_daemon(xray, recorder)
    return recorder


__all__ = ["DAEMON_ADDRESS_ENV", "ApiEmitter", "send_without_daemon", "standalone_recorder"]
