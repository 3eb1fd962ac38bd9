"""The local API Gateway's streamed integration: a Lambda proxy integration in ``STREAM`` mode.

As https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html
has it, API Gateway invokes the function with ``InvokeWithResponseStream`` and begins the
answer once the function has written its metadata (a JSON object with ``statusCode``,
``headers``, ``multiValueHeaders``) and 8 null bytes, within the stream's first 16 KB; what
follows goes to the client as it comes. A stream without them, or a function that fails
before them, is a 502.

Timing, as https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html
describes the stream's limits: the integration timeout (29 s by default; a streamed
integration may set up to 15 minutes) runs from the request, and the first byte resets
nothing: a function that has not written its metadata by then is answered 504, and a stream
still running then is cut there (the connection closes without the chunked body's end, so
the client sees an incomplete answer), while the function goes on, as Lambda does when API
Gateway stops reading. Between two chunks the stream may be idle at most ``idle_timeout``
(5 minutes for a regional endpoint).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError

from schemas.streaming import STREAM_DELIMITER, STREAM_METADATA_LIMIT, StreamMetadata

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maas.local.awslambda import StreamedInvocation

#: A regional endpoint's idle timeout for a streamed answer.
STREAM_IDLE_TIMEOUT_SECONDS = 300.0


class StreamRefused(Exception):
    """The function's stream cannot be answered: a 502 (malformed, failed) or a 504."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class StreamedAnswer:
    """A streamed answer's head, what came with it, and the rest as it comes."""

    status: int
    headers: list[tuple[str, str]]
    first: bytes
    rest: Iterator[bytes] = field(repr=False)
    invocation: StreamedInvocation | None = field(default=None, repr=False)
    #: Set once the stream was cut at the deadline or went idle too long.
    cut: str | None = None

    def abandon(self) -> None:
        """The client went away: the function's stream is not read any more."""
        if self.invocation is not None:
            self.invocation.cancel()


def open_stream(
    invocation: StreamedInvocation, deadline: float, idle_timeout: float
) -> StreamedAnswer:
    """Read ``invocation`` up to its metadata and delimiter; the answer, the rest to come.

    ``deadline`` is a ``time.monotonic()`` moment: the end of the integration timeout.

    Raises
    ------
    StreamRefused
        504 when the metadata did not come by the deadline; 502 when the function failed
        or wrote something else first.
    """
    received = b""
    while STREAM_DELIMITER not in received:
        if len(received) > STREAM_METADATA_LIMIT:
            raise StreamRefused(502, "no metadata and delimiter in the first 16 KB")
        try:
            chunk = invocation.read(timeout=max(deadline - time.monotonic(), 0.0))
        except TimeoutError:
            raise StreamRefused(504, "no metadata within the integration timeout") from None
        if chunk is None:
            result = invocation.result
            if result is not None and result.function_error:
                raise StreamRefused(502, f"the function failed: {result.function_error}")
            raise StreamRefused(502, "the stream ended before its metadata and delimiter")
        received += chunk
    head, first = received.split(STREAM_DELIMITER, 1)
    if len(head) + len(STREAM_DELIMITER) > STREAM_METADATA_LIMIT:
        raise StreamRefused(502, "no metadata and delimiter in the first 16 KB")
    try:
        metadata = StreamMetadata.model_validate_json(head)
    except ValidationError as error:
        raise StreamRefused(502, f"malformed metadata: {error.errors()[0]['msg']}") from None
    answer = StreamedAnswer(metadata.statusCode, _headers(metadata), first, iter(()), invocation)
    answer.rest = _rest(invocation, answer, deadline, idle_timeout)
    return answer


def _rest(
    invocation: StreamedInvocation, answer: StreamedAnswer, deadline: float, idle_timeout: float
) -> Iterator[bytes]:
    while True:
        remaining = deadline - time.monotonic()
        wait = min(remaining, idle_timeout)
        try:
            chunk = invocation.read(timeout=max(wait, 0.0))
        except TimeoutError:
            answer.cut = (
                "the integration timeout passed"
                if remaining <= idle_timeout
                else f"the stream was idle for {idle_timeout:g} s"
            )
            return
        if chunk is None:
            return
        yield chunk


def _headers(metadata: StreamMetadata) -> list[tuple[str, str]]:
    merged: dict[str, list[str]] = {
        name: list(values) for name, values in metadata.multiValueHeaders.items()
    }
    for name, value in metadata.headers.items():
        if value not in merged.setdefault(name, []):
            merged[name].append(value)
    headers = [(name, value) for name, values in merged.items() for value in values]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    if metadata.cookies:
        headers.extend(("Set-Cookie", cookie) for cookie in metadata.cookies)
    return headers


__all__ = ["STREAM_IDLE_TIMEOUT_SECONDS", "StreamRefused", "StreamedAnswer", "open_stream"]
