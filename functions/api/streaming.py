"""The API function's streamed answers: the routes API Gateway streams, in its stream format.

A route answers a stream by :func:`offer`-ing its body's chunks while the resolver runs, and
returning the response's head (status, headers) as usual; :func:`answer` then makes the
handler's answer the stream API Gateway takes from a ``STREAM`` integration
(:class:`schemas.streaming.StreamMetadata`, 8 null bytes, the chunks as they are produced).
Every answer of a streamed route takes that form, errors included, since API Gateway reads
that route's answers only so; other routes answer as a buffered proxy integration does.

A handler answers a stream by returning an iterator of bytes: a runtime that streams (the
local runtime's Lambda; on AWS a runtime in streaming response mode) sends each as it comes.
Where the function's runtime does not (:data:`~schemas.streaming.RESPONSE_STREAMING_ENV`
unset), nothing is streamed and a request for a stream is refused (:func:`available`).
"""

from __future__ import annotations

import base64
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from schemas.streaming import RESPONSE_STREAMING_ENV, STREAMED_ROUTES, StreamMetadata

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: The chunks the route being resolved offered, for the handler to stream.
_OFFERED: ContextVar[Iterable[bytes] | None] = ContextVar("maas_streamed_body", default=None)


def available() -> bool:
    """Whether this function's runtime streams an answer (else a stream is refused)."""
    return os.environ.get(RESPONSE_STREAMING_ENV, "").lower() == "true"


def is_streamed(event: dict[str, Any]) -> bool:
    """Whether ``event``'s route is integrated with response streaming."""
    return available() and (event.get("httpMethod"), event.get("path")) in STREAMED_ROUTES


def offer(chunks: Iterable[bytes]) -> None:
    """Make ``chunks`` the body of the answer the route returns (its head)."""
    _OFFERED.set(chunks)


def forget() -> None:
    """Drop what an earlier request offered: a warm function serves many."""
    _OFFERED.set(None)


def answer(proxy: dict[str, Any]) -> Iterator[bytes]:
    """``proxy`` (the resolver's buffered answer) as a stream, with the offered body if any."""
    chunks = _OFFERED.get()
    forget()
    headers = {name: str(value) for name, value in (proxy.get("headers") or {}).items()}
    multi = {
        name: [str(value) for value in values]
        for name, values in (proxy.get("multiValueHeaders") or {}).items()
    }
    head = StreamMetadata(statusCode=proxy["statusCode"], headers=headers, multiValueHeaders=multi)
    return _stream(head, chunks if chunks is not None else [_buffered_body(proxy)])


def _stream(head: StreamMetadata, chunks: Iterable[bytes]) -> Iterator[bytes]:
    yield head.encode()
    yield from chunks


def _buffered_body(proxy: dict[str, Any]) -> bytes:
    body = proxy.get("body") or ""
    if proxy.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else bytes(body)


__all__ = ["answer", "available", "forget", "is_streamed", "offer"]
