"""One invocation: a request body in, the LMI answer and its token counts out.

This is ``POST /invocations`` without HTTP: validate the request, render a chat through the
tokenizer's template, refuse a prompt that does not fit ``max_model_len``, queue the
sequences for the batcher, and shape the answer as LMI does.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from maas.serving.batching import MicroBatcher
from maas.serving.exceptions import BadRequest
from maas.serving.protocol import (
    ChatCompletionRequest,
    Completion,
    chat_response,
    generation_response,
    parse_request,
)
from maas.serving.streaming import DONE_EVENT, ChunkWriter, TextDeltas

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maas.serving.model import ServedModel
    from maas.serving.protocol import SamplingParams


@dataclass(frozen=True)
class Invocation:
    """The answer to one request, and what it cost in tokens."""

    payload: dict[str, Any] | list[dict[str, Any]]
    kind: Literal["generate", "chat"]
    sequences: int
    input_tokens: int
    output_tokens: int


class InferenceService:
    """Answers ``/invocations`` bodies with a loaded model."""

    def __init__(self, model: ServedModel) -> None:
        self.model = model
        self.batcher = MicroBatcher(
            model.generate, model.properties.batch_size, generate_streamed=model.generate
        )

    def invoke(self, body: bytes, content_type: str | None) -> Invocation:
        """Answer one request body.

        Raises
        ------
        BadRequest
            The request is malformed, or a prompt plus its new tokens exceeds ``max_model_len``.
        """
        request = parse_request(body, content_type)
        params = request.sampling()
        if isinstance(request, ChatCompletionRequest):
            prompt = self.model.chat_prompt(request.conversation())
            # The template writes the special tokens itself.
            prompts = [self.model.encode(prompt, special_tokens=False)]
            self._check_length(prompts[0], params.max_new_tokens, "messages", "max_tokens")
        else:
            prompts = [self.model.encode(text) for text in request.prompts()]
            for tokens in prompts:
                self._check_length(tokens, params.max_new_tokens, "inputs", "max_new_tokens")
        completions = self.batcher.submit(prompts, params)
        if isinstance(request, ChatCompletionRequest):
            payload: dict[str, Any] | list[dict[str, Any]] = chat_response(
                self.model.name, completions[0]
            )
        else:
            payload = generation_response(request, completions)
        return Invocation(
            payload=payload,
            kind="chat" if isinstance(request, ChatCompletionRequest) else "generate",
            sequences=len(completions),
            input_tokens=sum(completion.prompt_tokens for completion in completions),
            output_tokens=sum(completion.generated_tokens for completion in completions),
        )

    def open_stream(self, body: bytes, content_type: str | None) -> TokenStream | None:
        """The stream that answers a chat request with ``stream: true``; None for any other.

        Raises
        ------
        BadRequest
            As :meth:`invoke`, before anything is generated.
        """
        request = parse_request(body, content_type)
        if not isinstance(request, ChatCompletionRequest) or not request.stream:
            return None
        prompt = self.model.chat_prompt(request.conversation())
        tokens = self.model.encode(prompt, special_tokens=False)
        params = request.sampling()
        self._check_length(tokens, params.max_new_tokens, "messages", "max_tokens")
        usage = request.stream_options is not None and request.stream_options.include_usage
        return TokenStream(self, tokens, params, include_usage=usage)

    def close(self) -> None:
        """Stop the batcher."""
        self.batcher.close()

    def _check_length(
        self, tokens: list[int], new_tokens: int, prompt_field: str, limit_field: str
    ) -> None:
        if not tokens:
            raise BadRequest(f"{prompt_field}: the prompt has no tokens")
        if len(tokens) + new_tokens > self.model.max_model_len:
            raise BadRequest(
                f"{prompt_field}: prompt tokens ({len(tokens)}) plus {limit_field} "
                f"({new_tokens}) exceed max_model_len ({self.model.max_model_len}); "
                "shorten the prompt or ask for fewer tokens"
            )


class _ClientGone(Exception):
    """The stream's reader stopped reading: the generation ends at its next step."""


class TokenStream:
    """One streamed chat completion: iterate it for its server-sent events.

    Generation runs on the batcher's worker; each step's tokens come through a queue, and
    the text they release goes out at once as a chunk. :meth:`close` (the client went away)
    ends the generation at its next step. Once the iteration ends, :attr:`completion` has
    the token counts.
    """

    def __init__(
        self,
        service: InferenceService,
        prompt: list[int],
        params: SamplingParams,
        *,
        include_usage: bool,
    ) -> None:
        self._service = service
        self._prompt = prompt
        self._params = params
        self._include_usage = include_usage
        self._steps: queue.Queue[list[int] | Completion | BaseException] = queue.Queue()
        self._gone = threading.Event()
        self.completion: Completion | None = None

    def __iter__(self) -> Iterator[bytes]:
        model = self._service.model
        writer = ChunkWriter(model.name)
        deltas = TextDeltas(
            lambda ids: str(model.tokenizer.decode(ids, skip_special_tokens=True)),
            self._params.stop,
        )
        threading.Thread(target=self._generate, name="stream", daemon=True).start()
        yield writer.role()
        while True:
            step = self._steps.get()
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, Completion):
                break
            if delta := deltas.add(step):
                yield writer.text(delta)
        self.completion = step
        if rest := deltas.finish(step.text):
            yield writer.text(rest)
        yield writer.finish(step)
        if self._include_usage:
            yield writer.usage(step)
        yield DONE_EVENT

    def close(self) -> None:
        """Stop generating: nobody reads the rest."""
        self._gone.set()

    def _generate(self) -> None:
        def on_tokens(tokens: list[int]) -> None:
            if self._gone.is_set():
                raise _ClientGone
            self._steps.put(tokens)

        try:
            self._steps.put(
                self._service.batcher.submit_streamed(self._prompt, self._params, on_tokens)
            )
        except BaseException as error:  # the reader raises it
            self._steps.put(error)


__all__ = ["InferenceService", "Invocation", "TokenStream"]
