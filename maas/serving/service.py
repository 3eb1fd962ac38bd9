"""One invocation: a request body in, the LMI answer and its token counts out.

This is ``POST /invocations`` without HTTP: validate the request, render a chat through the
tokenizer's template, refuse a prompt that does not fit ``max_model_len``, queue the
sequences for the batcher, and shape the answer as LMI does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from maas.serving.batching import MicroBatcher
from maas.serving.exceptions import BadRequest
from maas.serving.protocol import (
    ChatCompletionRequest,
    chat_response,
    generation_response,
    parse_request,
)

if TYPE_CHECKING:
    from maas.serving.model import ServedModel


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
        self.batcher = MicroBatcher(model.generate, model.properties.batch_size)

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


__all__ = ["InferenceService", "Invocation"]
