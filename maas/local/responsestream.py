"""``InvokeEndpointWithResponseStream`` routed to the local runtime, its answer read as it comes.

Why this exists: moto knows no ``/endpoints/{name}/invocations-response-stream`` (botocore's
``requestUri`` for the operation), and its in-process stub hands botocore a body that is
whole bytes, so an event stream would arrive only once it ended. This adds the path to
moto's SageMaker runtime routes and lets a handler answer with an iterable body
(:class:`maas.local.inference.StreamedBody`): botocore reads it through the raw response's
``stream()``, as it reads an event stream from the network, one message at a time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from moto.core import botocore_stubber
from moto.sagemakerruntime import urls as sagemakerruntime_urls
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from maas.local.patching import add, extend, replace

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from contextlib import ExitStack

#: The operation's path, as botocore's service model has it.
STREAM_PATH = "{0}/endpoints/(?P<name>[^/]+)/invocations-response-stream$"


class IterableBody(ABC):
    """A response body produced as it is read; moto's other bodies stay whole bytes."""

    @abstractmethod
    def __iter__(self) -> Iterator[bytes]:
        """The body's chunks, as they are produced."""

    @abstractmethod
    def close(self) -> None:
        """Stop producing the body: its reader went away."""


class StreamingRawResponse:
    """A raw response whose body is produced while botocore reads it."""

    def __init__(self, body: IterableBody) -> None:
        self._body = body
        self._chunks: Iterator[bytes] = iter(body)

    def stream(self, **_: Any) -> Iterator[bytes]:
        """The body's chunks, as they come."""
        yield from self._chunks

    def read(self, *_: Any) -> bytes:
        """The rest of the body."""
        return b"".join(self._chunks)

    def close(self) -> None:
        """Stop producing the body."""
        self._body.close()


def install_response_stream(stack: ExitStack, handler: Callable[[Any], Any]) -> None:
    """Answer ``InvokeEndpointWithResponseStream`` with ``handler`` until ``stack`` closes.

    ``handler`` is called as a moto response method (with the request's
    ``SageMakerRuntimeResponse``) and returns ``(status, headers, body)``; an
    :class:`IterableBody` is iterated as it is read.
    """
    routes = {STREAM_PATH: sagemakerruntime_urls.response.dispatch}
    stack.enter_context(extend(sagemakerruntime_urls.url_paths, routes))
    operation = "invoke_endpoint_with_response_stream"
    stack.enter_context(add(SageMakerRuntimeResponse, operation, handler))
    whole: Callable[[Any], Any] = botocore_stubber.MockRawResponse

    def raw_response(body: Any) -> Any:
        if isinstance(body, IterableBody):
            return StreamingRawResponse(body)
        return whole(body)

    stack.enter_context(replace(botocore_stubber, "MockRawResponse", raw_response))


__all__ = ["STREAM_PATH", "IterableBody", "StreamingRawResponse", "install_response_stream"]
