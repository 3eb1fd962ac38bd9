"""X-Ray on the local runtime: a daemon's UDP port, feeding the emulated X-Ray.

Why this exists: the X-Ray SDK does not call the X-Ray API. It sends each finished segment
as a UDP datagram, ``{"format":"json","version":1}`` then a newline then the segment
document, to the daemon at ``AWS_XRAY_DAEMON_ADDRESS``, and the daemon calls
``PutTraceSegments``. There is no daemon here, so :class:`LocalXRay` is one:

- it listens on a free UDP port of 127.0.0.1 and puts every document it receives into the
  emulated account with ``PutTraceSegments``, through a boto3 client of the runtime, those
  that arrived together in one call (up to 50, as the daemon batches); a document X-Ray
  rejects is logged, as the daemon logs it;
- while the runtime is up, ``AWS_XRAY_DAEMON_ADDRESS`` names that port in this process's
  environment (so model servers and Batch jobs started from it inherit it), and the X-Ray
  SDK of this process is on, sends to it and traces every request (``sampling`` off);
- each local Lambda invocation is recorded as Lambda records it: a function segment
  (:func:`function_segment`), its id passed to the handler in ``_X_AMZN_TRACE_ID``;
- the read APIs answer as on AWS (:mod:`maas.local.xraytraces`), so ``maas traces`` and
  any boto3 ``xray`` client read the same traces locally and on AWS.

Not emulated: sampling rules (the daemon's ``GetSamplingRules``/``GetSamplingTargets``
proxy: an SDK outside this process falls back to its local rule, the first request each
second and 5% of the rest, unless the caller's trace header decided), the service graph,
groups, insights, encryption settings, and the daemon's buffering and retries (a datagram
lost is a segment lost, as with a daemon that is not running).
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import threading
import traceback
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.models.trace_header import TraceHeader

from maas.local import xraytraces

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from contextlib import ExitStack

    from aws_xray_sdk.core.models.entity import Entity

logger = logging.getLogger(__name__)

#: The environment variable the X-Ray SDKs read the daemon's address from.
DAEMON_ADDRESS_ENV = "AWS_XRAY_DAEMON_ADDRESS"

#: The environment variable that switches the X-Ray SDK on or off, over any call.
SDK_ENABLED_ENV = "AWS_XRAY_SDK_ENABLED"

#: What the SDK's emitter puts before each document.
PROTOCOL_HEADER = {"format": "json", "version": 1}

#: A UDP datagram's largest payload; the SDK never sends more in one.
_MAX_DATAGRAM = 65_535

#: The most documents one ``PutTraceSegments`` carries: the daemon's batch
#: (https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon.html: it "buffers segments
#: in a queue and uploads them to X-Ray in batches").
_BATCH = 50

#: How often the listener looks up from its socket to see whether the runtime stops.
_POLL_SECONDS = 0.2


class LocalXRay:
    """The local X-Ray daemon: a UDP listener that stores segments in the emulated X-Ray.

    Parameters
    ----------
    client
        Returns a boto3 client for a service of the emulated account (``"xray"`` here).
    """

    def __init__(self, client: Callable[[str], Any]) -> None:
        self._client = client
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._received = 0
        self._stored = 0
        self._counted = threading.Condition()
        self._stopping = threading.Event()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, the value of ``AWS_XRAY_DAEMON_ADDRESS`` for this runtime."""
        if self._socket is None:
            raise RuntimeError("the local X-Ray daemon is not running")
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    @property
    def stored(self) -> int:
        """How many segment documents were put into the emulated X-Ray so far."""
        return self._stored

    def install(self, stack: ExitStack) -> None:
        """Listen, point this process's X-Ray SDK here, fix moto's reads; until ``stack`` ends."""
        xraytraces.install(stack)
        listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(_POLL_SECONDS)
        self._socket = listener
        self._stopping.clear()
        client = self._client("xray")
        self._thread = threading.Thread(
            target=self._serve, args=(listener, client), name="xray-daemon", daemon=True
        )
        self._thread.start()
        stack.callback(self._stop)
        self._point_sdk_here(stack)

    def wait_stored(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` documents in all were stored; False if ``timeout`` passed first.

        UDP gives no acknowledgement: a test or a benchmark that must read what it just sent
        waits here, where a client on AWS would wait for X-Ray's processing delay.
        """
        with self._counted:
            return self._counted.wait_for(lambda: self._stored >= count, timeout)

    def _point_sdk_here(self, stack: ExitStack) -> None:
        previous_env = os.environ.get(DAEMON_ADDRESS_ENV)
        emitter = xray_recorder.emitter
        previous_address = f"{emitter.ip}:{emitter.port}"
        previous_sampling = xray_recorder.sampling
        # Powertools' Tracer switches the SDK off for the whole process when it is built
        # outside Lambda; the runtime is the daemon, so it wants the SDK on while it runs.
        # The variable wins over set_sdk_enabled(False), which each handler module's Tracer
        # calls at its cold start here (Powertools sees no Lambda); every local invocation
        # has its function segment open (function_segment), so the handler's subsegment
        # always has a parent, as under Lambda's facade segment.
        previous_enabled = global_sdk_config.sdk_enabled()
        previous_switch = os.environ.get(SDK_ENABLED_ENV)
        os.environ[SDK_ENABLED_ENV] = "true"
        global_sdk_config.set_sdk_enabled(True)
        os.environ[DAEMON_ADDRESS_ENV] = self.address
        # Set on the emitter, not through configure(), which also rebuilds the centralized
        # sampler's botocore clients (a quarter second, twice): with sampling off it is unused.
        emitter.set_daemon_address(self.address)
        xray_recorder.sampling = False

        def restore() -> None:
            if previous_env is None:
                os.environ.pop(DAEMON_ADDRESS_ENV, None)
            else:
                os.environ[DAEMON_ADDRESS_ENV] = previous_env
            emitter.set_daemon_address(previous_address)
            xray_recorder.sampling = previous_sampling
            if previous_switch is None:
                os.environ.pop(SDK_ENABLED_ENV, None)
            else:
                os.environ[SDK_ENABLED_ENV] = previous_switch
            global_sdk_config.set_sdk_enabled(previous_enabled)

        stack.callback(restore)

    def _serve(self, listener: socket.socket, client: Any) -> None:
        while not self._stopping.is_set():
            try:
                datagrams = [listener.recv(_MAX_DATAGRAM)]
            except TimeoutError:
                continue
            # As the daemon, in batches: what else has arrived goes in the same call (one
            # PutTraceSegments a request was the daemon's largest cost under load).
            while len(datagrams) < _BATCH and select.select([listener], [], [], 0)[0]:
                datagrams.append(listener.recv(_MAX_DATAGRAM))
            documents = [document for d in datagrams if (document := _document(d)) is not None]
            with self._counted:
                self._received += len(datagrams)
            if documents:
                self._put(client, documents)
            with self._counted:
                self._counted.notify_all()

    def _put(self, client: Any, documents: list[str]) -> None:
        try:
            response = client.put_trace_segments(TraceSegmentDocuments=documents)
        except Exception:
            logger.exception("X-Ray did not take %d segment documents", len(documents))
            return
        rejected = response.get("UnprocessedTraceSegments", [])
        for segment in rejected:
            logger.warning("X-Ray rejected segment %s: %s", segment.get("Id"), segment)
        with self._counted:
            self._stored += len(documents) - len(rejected)

    def _stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        listener, self._socket = self._socket, None
        if listener is not None:
            listener.close()


@contextmanager
def function_segment(
    name: str, *, function_arn: str, request_id: str, trace_header: str | None
) -> Iterator[Entity]:
    """The segment Lambda records for one invocation of a function, open on this thread.

    On AWS the Lambda service records the ``AWS::Lambda::Function`` segment and hands its
    trace id and segment id to the function in ``_X_AMZN_TRACE_ID``, whose SDK hangs its
    subsegments (Powertools' ``## handler``) under it. Here the adapter plays the service:
    the segment is a real one on the invocation's thread, so the handler's subsegments nest
    into it, and :func:`maas.tracing.trace_header_of` gives the variable's value. ``trace_header``
    continues the caller's trace (and its sampling decision) when the call carried one.

    An exception from the block marks the segment as a fault and goes on.
    """
    incoming = TraceHeader.from_header_str(trace_header) if trace_header else None
    sampled = None
    if incoming is not None and incoming.sampled is not None:
        sampled = int(incoming.sampled)
    segment = xray_recorder.begin_segment(
        name,
        traceid=incoming.root if incoming else None,
        parent_id=incoming.parent if incoming else None,
        sampling=sampled,
    )
    segment.origin = "AWS::Lambda::Function"
    segment.set_aws({"function_arn": function_arn, "request_id": request_id})
    try:
        yield segment
    except Exception as exc:
        segment.add_exception(exc, traceback.extract_tb(exc.__traceback__))
        raise
    finally:
        xray_recorder.end_segment()


def _document(datagram: bytes) -> str | None:
    header, _, body = datagram.decode("utf-8", errors="replace").partition("\n")
    try:
        if json.loads(header) != PROTOCOL_HEADER or not body:
            raise ValueError(header)
    except ValueError:
        logger.warning("dropped a datagram that is not an X-Ray segment: %.80r", datagram)
        return None
    return body


__all__ = [
    "DAEMON_ADDRESS_ENV",
    "PROTOCOL_HEADER",
    "LocalXRay",
    "function_segment",
]
