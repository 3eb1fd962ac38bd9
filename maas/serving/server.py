"""The SageMaker hosting container contract over HTTP: ``GET /ping``, ``POST /invocations``.

SageMaker sends a container's health checks to ``/ping`` and requests to ``/invocations`` on
port 8080 (or ``SAGEMAKER_BIND_TO_PORT``). This server listens at once and answers
``/ping`` with 503 while the model loads, 200 once it can serve; a request it cannot serve
is a 4xx whose JSON body says why (``{"code": 400, "type": "BadRequest", "message": ...}``),
never a 500. Each answer carries its token counts in ``X-Maas-Input-Tokens`` and
``X-Maas-Output-Tokens``, and each invocation is one log line with the same counts. A chat
request with ``"stream": true`` is answered as server-sent events, token by token
(:mod:`maas.serving.streaming`), on a connection that closes at the end; its counts are in
its last event.

An invocation that carries an ``X-Amzn-Trace-Id`` joins that trace: the server records a
segment, ``maas-model-server``, under the caller's parent (the pipeline's ``generation``
stage), with the tokens it read and wrote, sent to the X-Ray daemon at
``AWS_XRAY_DAEMON_ADDRESS`` (the local runtime's collector, which model servers inherit).
Without the header nothing is recorded.

The standard library's threading server is enough: requests wait on the batcher, which
generates one batch at a time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.models.trace_header import TraceHeader

from maas.serving.exceptions import ServingError
from maas.serving.model import ServedModel
from maas.serving.service import InferenceService

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from aws_xray_sdk.core.models.entity import Entity

    from maas.serving.service import TokenStream

logger = logging.getLogger(__name__)

INPUT_TOKENS_HEADER = "X-Maas-Input-Tokens"
OUTPUT_TOKENS_HEADER = "X-Maas-Output-Tokens"
#: What a streamed answer is: server-sent events.
STREAM_CONTENT_TYPE = "text/event-stream"
#: The segment an invocation records when it carries a trace.
SEGMENT_NAME = "maas-model-server"
_TRACE_HEADER = "X-Amzn-Trace-Id"


@contextmanager
def traced_invocation(header: str | None) -> Iterator[Entity | None]:
    """A segment for one invocation in the caller's trace; None when no trace came with it.

    The caller's ``Sampled`` decision is kept, so an unsampled request records nothing.
    """
    incoming = TraceHeader.from_header_str(header) if header else None
    if incoming is None or not incoming.root:
        yield None
        return
    sampling = None if incoming.sampled is None else int(incoming.sampled)
    with xray_recorder.in_segment(
        SEGMENT_NAME, traceid=incoming.root, parent_id=incoming.parent, sampling=sampling
    ) as segment:
        yield segment


class InferenceServer:
    """An HTTP server for one model directory.

    Parameters
    ----------
    model_dir
        The packaged model (SageMaker's ``/opt/ml/model``).
    host, port
        Where to listen; port 0 picks a free one (see :attr:`port`).

    Examples
    --------
    .. code-block:: python

        server = InferenceServer(Path("/opt/ml/model"), port=8080)
        threading.Thread(target=server.load).start()  # /ping is 503 until it returns
        server.serve_forever()
    """

    def __init__(self, model_dir: Path, host: str = "0.0.0.0", port: int = 8080) -> None:
        self.model_dir = model_dir
        self.service: InferenceService | None = None
        self._http = _HTTPServer((host, port), _Handler)
        self._http.inference = self

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._http.server_address[1])

    def load(self) -> None:
        """Load the model; ``/ping`` answers 200 from then on."""
        started = time.monotonic()
        self.service = InferenceService(ServedModel.load(self.model_dir))
        logger.info("model loaded in %.1fs; ready", time.monotonic() - started)

    def serve_forever(self) -> None:
        """Answer requests until :meth:`shutdown`."""
        self._http.serve_forever(poll_interval=0.1)

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (from another thread) and close the socket."""
        self._http.shutdown()
        self._http.server_close()
        if self.service is not None:
            self.service.close()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    inference: InferenceServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "maas-serving"

    def do_GET(self) -> None:
        if self.path != "/ping":
            self._send(404, {"code": 404, "type": "NotFound", "message": f"no {self.path}"})
        elif self.server.inference.service is None:
            self._send(503, {"status": "Loading"})
        else:
            self._send(200, {"status": "Healthy"})

    def do_POST(self) -> None:
        if self.path != "/invocations":
            self._send(404, {"code": 404, "type": "NotFound", "message": f"no {self.path}"})
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        service = self.server.inference.service
        if service is None:
            self._send(503, {"code": 503, "type": "ServiceUnavailable", "message": "loading"})
            return
        started = time.monotonic()
        try:
            stream = service.open_stream(body, self.headers.get("Content-Type"))
            if stream is not None:
                self._stream(stream, started)
                return
            with traced_invocation(self.headers.get(_TRACE_HEADER)) as segment:
                invocation = service.invoke(body, self.headers.get("Content-Type"))
                if segment is not None:
                    segment.put_annotation("tokens_in", invocation.input_tokens)
                    segment.put_annotation("tokens_out", invocation.output_tokens)
        except ServingError as error:
            logger.info("invocation refused (%d): %s", error.status, error.message)
            self._send(
                error.status,
                {"code": error.status, "type": type(error).__name__, "message": error.message},
            )
            return
        except Exception:
            logger.exception("invocation failed")
            self._send(500, {"code": 500, "type": "InternalError", "message": "see the log"})
            return
        logger.info(
            "invocation %s: sequences=%d input_tokens=%d output_tokens=%d seconds=%.3f",
            invocation.kind,
            invocation.sequences,
            invocation.input_tokens,
            invocation.output_tokens,
            time.monotonic() - started,
        )
        self._send(
            200,
            invocation.payload,
            {
                INPUT_TOKENS_HEADER: str(invocation.input_tokens),
                OUTPUT_TOKENS_HEADER: str(invocation.output_tokens),
            },
        )

    def _stream(self, stream: TokenStream, started: float) -> None:
        """Write the stream's events as they come, then close the connection.

        The status is sent before the first token: a failure after it is an ``error`` event,
        as OpenAI's streams report one, and the end of the stream without ``[DONE]``.
        """
        with traced_invocation(self.headers.get(_TRACE_HEADER)) as segment:
            self.send_response(200)
            self.send_header("Content-Type", STREAM_CONTENT_TYPE)
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for event in stream:
                    self.wfile.write(event)
                    self.wfile.flush()
            except OSError:
                stream.close()
                logger.info("streamed invocation: the client went away")
                return
            except Exception as error:
                logger.exception("streamed invocation failed")
                message = error.message if isinstance(error, ServingError) else "see the log"
                failure = {"error": {"message": message, "type": "server_error", "code": 500}}
                with contextlib.suppress(OSError):
                    self.wfile.write(b"data: " + json.dumps(failure).encode() + b"\n\n")
                return
            completion = stream.completion
            assert completion is not None
            if segment is not None:
                segment.put_annotation("tokens_in", completion.prompt_tokens)
                segment.put_annotation("tokens_out", completion.generated_tokens)
        logger.info(
            "invocation chat (streamed): sequences=1 input_tokens=%d output_tokens=%d seconds=%.3f",
            completion.prompt_tokens,
            completion.generated_tokens,
            time.monotonic() - started,
        )

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # The access log would repeat every health check; invocations log their own line.
        logger.debug(format, *args)


__all__ = [
    "INPUT_TOKENS_HEADER",
    "OUTPUT_TOKENS_HEADER",
    "SEGMENT_NAME",
    "STREAM_CONTENT_TYPE",
    "InferenceServer",
    "traced_invocation",
]
