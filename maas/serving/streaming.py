"""A chat completion streamed token by token: text deltas and OpenAI's chunks as SSE events.

What SageMaker's ``InvokeEndpointWithResponseStream`` carries from the LMI container's chat
schema with ``"stream": true``: server-sent events ``data: {chat.completion.chunk}``, the
first with the assistant's role, then one per new piece of text, then one with the finish
reason, then (when ``stream_options.include_usage``) one with ``choices: []`` and the usage,
and ``data: [DONE]``; the chunk format is OpenAI's
(https://platform.openai.com/docs/api-reference/chat-streaming).

Tokens do not map one to one onto text: a character can span several tokens (the decoded
text then ends in U+FFFD until it is whole), and a stop sequence can span several. So the
text is decoded from all the tokens so far, and only what can no longer change is released:
a trailing replacement character is held back, and so is any tail that could be the start
of a stop sequence. What the deltas add up to is the completion's final text.

Examples
--------
>>> deltas = TextDeltas(lambda ids: "".join(chr(i) for i in ids), stop=("ZZ",))
>>> deltas.add([72, 105]), deltas.add([90]), deltas.finish("HiZ")
('Hi', '', 'Z')
>>> sse_event({"a": 1})
b'data: {"a": 1}\\n\\n'
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from maas.serving.protocol import Completion

#: The event that ends a stream, as OpenAI's and LMI's streams end.
DONE_EVENT = b"data: [DONE]\n\n"

_REPLACEMENT = "\ufffd"


class TextDeltas:
    """The text that new tokens add, released only once it cannot change.

    Parameters
    ----------
    decode
        Token ids to text (the tokenizer's ``decode``, special tokens skipped).
    stop
        The request's stop sequences: a tail that could begin one is held back.
    """

    def __init__(self, decode: Callable[[list[int]], str], stop: Sequence[str] = ()) -> None:
        self._decode = decode
        self._stop = tuple(sequence for sequence in stop if sequence)
        self._tokens: list[int] = []
        self.released = ""

    def add(self, tokens: list[int]) -> str:
        """The new text that ``tokens`` release ('' while it is held back)."""
        self._tokens.extend(tokens)
        text = self._decode(self._tokens)
        safe = len(text.rstrip(_REPLACEMENT))
        for sequence in self._stop:
            found = text.find(sequence)
            if found >= 0:
                safe = min(safe, found)
            # The longest tail of the text that is a prefix of the sequence.
            for length in range(min(len(sequence) - 1, len(text)), 0, -1):
                if sequence.startswith(text[-length:]):
                    safe = min(safe, len(text) - length)
                    break
        return self._release(text[:safe])

    def finish(self, final_text: str) -> str:
        """What is left to send of the completion's ``final_text`` (cut at a stop sequence)."""
        return self._release(final_text)

    def _release(self, text: str) -> str:
        if not text.startswith(self.released) or len(text) <= len(self.released):
            return ""
        delta = text[len(self.released) :]
        self.released = text
        return delta


class ChunkWriter:
    """OpenAI's ``chat.completion.chunk`` events of one streamed chat completion."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def role(self) -> bytes:
        """The first chunk: the assistant's role, no text yet."""
        return self._chunk({"role": "assistant", "content": ""}, None)

    def text(self, delta: str) -> bytes:
        """A chunk of new text."""
        return self._chunk({"content": delta}, None)

    def finish(self, completion: Completion) -> bytes:
        """The chunk that says why the completion ended."""
        reason = "length" if completion.finish_reason == "length" else "stop"
        return self._chunk({}, reason)

    def usage(self, completion: Completion) -> bytes:
        """The usage chunk: no choices, the tokens read and written."""
        return sse_event(
            {
                **self._head(),
                "choices": [],
                "usage": {
                    "prompt_tokens": completion.prompt_tokens,
                    "completion_tokens": completion.generated_tokens,
                    "total_tokens": completion.prompt_tokens + completion.generated_tokens,
                },
            }
        )

    def _head(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }

    def _chunk(self, delta: dict[str, str], finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return sse_event({**self._head(), "choices": [choice]})


def sse_event(document: dict[str, Any]) -> bytes:
    """One server-sent event whose data is ``document`` as JSON."""
    return b"data: " + json.dumps(document).encode() + b"\n\n"


__all__ = ["DONE_EVENT", "ChunkWriter", "TextDeltas", "sse_event"]
