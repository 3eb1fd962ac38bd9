"""A streamed OpenAI answer: the pipeline's events as OpenAI's server-sent chunks.

As https://platform.openai.com/docs/api-reference/chat-streaming lays a chat stream out:
``data: {chat.completion.chunk}`` events, the first with the assistant's role, then one per
piece of text, then one with the ``finish_reason`` (``content_filter`` where the guardrail
held content back), then, with ``stream_options.include_usage``, one with no choices and the
``usage``; last ``data: [DONE]``. A completion streams ``text_completion`` chunks the same
way. A failure once the stream has begun is an ``error`` event in OpenAI's error shape (the
status is sent already), and the stream ends without ``[DONE]``, as OpenAI's do.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from aws_lambda_powertools import Logger
from aws_xray_sdk.core.models.trace_header import TraceHeader

from maas.pipeline import ModelCallFailed
from maas.pipeline.streaming import StreamedAnswer
from schemas.openai import (
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatDelta,
    CompletionChunk,
    CompletionChunkChoice,
    ErrorDetail,
    OpenAIError,
    Usage,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from maas.pipeline.streaming import StreamedText
    from schemas.openai import FinishReason

logger = Logger(child=True)

#: The media type of a streamed answer.
STREAM_CONTENT_TYPE = "text/event-stream"
#: The event that ends a stream.
DONE = b"data: [DONE]\n\n"
_TRACE_ENV = "_X_AMZN_TRACE_ID"


class ChunkWriter(ABC):
    """The chunks of one streamed answer; a subclass per object OpenAI streams."""

    prefix: ClassVar[str]
    chunk_type: ClassVar[type[ChatCompletionChunk] | type[CompletionChunk]]

    def __init__(self, completion_id: str, model: str) -> None:
        self.id = completion_id
        self.model = model
        self.created = int(time.time())
        self.fingerprint: str | None = None

    def start(self) -> bytes | None:
        """The chunk before any text, if the object has one."""
        return None

    @abstractmethod
    def text(self, text: str) -> bytes:
        """A chunk with a piece of the answer."""

    @abstractmethod
    def finish(self, reason: FinishReason) -> bytes:
        """The chunk that says why the answer ended."""

    def usage(self, usage: Usage) -> bytes:
        """The last chunk: no choices, the request's usage."""
        return self._chunk([], usage)

    def _chunk(self, choices: list[Any], usage: Usage | None = None) -> bytes:
        chunk = self.chunk_type(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=choices,
            usage=usage,
            system_fingerprint=self.fingerprint,
        )
        return _event(chunk.model_dump_json())


class ChatChunks(ChunkWriter):
    """``chat.completion.chunk`` events."""

    prefix = "chatcmpl"
    chunk_type = ChatCompletionChunk

    def start(self) -> bytes:
        """The assistant's role, no text yet."""
        return self._chunk([ChatChunkChoice(delta=ChatDelta(role="assistant", content=""))])

    def text(self, text: str) -> bytes:
        """A piece of the answer."""
        return self._chunk([ChatChunkChoice(delta=ChatDelta(content=text))])

    def finish(self, reason: FinishReason) -> bytes:
        """An empty delta with the finish reason."""
        return self._chunk([ChatChunkChoice(delta=ChatDelta(), finish_reason=reason)])


class CompletionChunks(ChunkWriter):
    """``text_completion`` events."""

    prefix = "cmpl"
    chunk_type = CompletionChunk

    def text(self, text: str) -> bytes:
        """A piece of the continuation."""
        return self._chunk([CompletionChunkChoice(text=text)])

    def finish(self, reason: FinishReason) -> bytes:
        """No more text; the finish reason."""
        return self._chunk([CompletionChunkChoice(text="", finish_reason=reason)])


def server_sent_events(
    events: Iterable[StreamedText | StreamedAnswer], writer: ChunkWriter, *, include_usage: bool
) -> Iterator[bytes]:
    """The pipeline's ``events`` as the stream of chunks ``writer`` writes."""
    if (first := writer.start()) is not None:
        yield first
    try:
        for event in events:
            if not isinstance(event, StreamedAnswer):
                if event.text:
                    yield writer.text(event.text)
                continue
            answer = event.answer
            writer.fingerprint = f"{answer.model}:{answer.version}"
            yield writer.finish(_finish_reason(event.finish_reason))
            if include_usage:
                yield writer.usage(
                    Usage(
                        prompt_tokens=answer.tokens_in,
                        completion_tokens=answer.tokens_out,
                        total_tokens=answer.tokens_in + answer.tokens_out,
                    )
                )
    except ModelCallFailed as error:
        logger.warning("a streamed answer failed", extra={"error": str(error)})
        yield _error(str(error), "server_error", "model_call_failed")
        return
    except Exception:
        logger.exception("a streamed answer failed")
        yield _error("the stream could not be completed", "server_error", None)
        return
    yield DONE


def current_trace_id() -> str | None:
    """The X-Ray trace the function runs in: the request's, which its stages join."""
    header = os.environ.get(_TRACE_ENV)
    root = TraceHeader.from_header_str(header).root if header else None
    return str(root) if root else None


def _finish_reason(reason: str) -> FinishReason:
    if reason == "content_filter":
        return "content_filter"
    return "length" if reason == "length" else "stop"


def _error(message: str, kind: str, code: str | None) -> bytes:
    error = OpenAIError(error=ErrorDetail(message=message, type=kind, param=None, code=code))
    return _event(error.model_dump_json())


def _event(data: str) -> bytes:
    return b"data: " + data.encode() + b"\n\n"


__all__ = [
    "DONE",
    "STREAM_CONTENT_TYPE",
    "ChatChunks",
    "ChunkWriter",
    "CompletionChunks",
    "current_trace_id",
    "server_sent_events",
]
