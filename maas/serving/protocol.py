"""The LMI request and response schemas: text generation and chat completions.

Two request forms reach ``POST /invocations``, as on the SageMaker LMI container:

- text generation, ``{"inputs": "...", "parameters": {"max_new_tokens": 32, ...}}``, answered
  with ``{"generated_text": "..."}``; a list of inputs is answered with a list, in order;
- chat completions, ``{"messages": [...], "max_tokens": 32, ...}`` (OpenAI's schema),
  answered with a ``chat.completion`` object.

Every request is validated before it reaches the model; a bad one is a :class:`BadRequest`
whose message names the field (``parameters.temperature: Input should be ...``). Unknown
fields are refused rather than ignored, so a misspelt parameter is found at once.

Examples
--------
>>> request = parse_request(b'{"inputs": "Hi", "parameters": {"max_new_tokens": 4}}', None)
>>> request.prompts(), request.sampling().max_new_tokens
(['Hi'], 4)
>>> parse_request(b'{"inputs": "Hi", "parameters": {"top_p": 2}}', "application/json")
Traceback (most recent call last):
...
maas.serving.exceptions.BadRequest: parameters.top_p: Input should be less than or equal to 1
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from maas.serving.exceptions import BadRequest

#: New tokens generated when a request does not say (LMI's default).
DEFAULT_MAX_NEW_TOKENS = 30

FinishReason = Literal["length", "eos_token", "stop_sequence"]


@dataclass(frozen=True)
class SamplingParams:
    """How to generate; requests with equal parameters can share a batch."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class Completion:
    """One generated sequence: its text, why it ended, and its token counts."""

    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    generated_tokens: int


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenerationParameters(_Strict):
    """``parameters`` of a text generation request (LMI's names)."""

    max_new_tokens: int = Field(default=DEFAULT_MAX_NEW_TOKENS, ge=1)
    do_sample: bool = False
    temperature: float = Field(default=1.0, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    top_k: int = Field(default=0, ge=-1, description="0 or -1: no top-k filtering")
    repetition_penalty: float = Field(default=1.0, gt=0)
    stop: list[str] = Field(default_factory=list)
    seed: int | None = Field(default=None, ge=0)
    return_full_text: bool = False
    details: bool = False


class GenerateRequest(_Strict):
    """``{"inputs": ..., "parameters": {...}}``."""

    inputs: str | list[str]
    parameters: GenerationParameters = Field(default_factory=GenerationParameters)

    @field_validator("inputs", mode="before")
    @classmethod
    def _one_or_more_prompts(cls, value: object) -> object:
        # One message for the field, rather than one per member of the union.
        prompts = value if isinstance(value, list) else [value]
        if not prompts or not all(isinstance(prompt, str) and prompt for prompt in prompts):
            raise PydanticCustomError(
                "prompts", "Input should be a non-empty string or a list of non-empty strings"
            )
        return value

    def prompts(self) -> list[str]:
        """The inputs as a list."""
        return [self.inputs] if isinstance(self.inputs, str) else list(self.inputs)

    def sampling(self) -> SamplingParams:
        """The generation parameters, as the model takes them."""
        given = self.parameters
        return SamplingParams(
            max_new_tokens=given.max_new_tokens,
            # As LMI does: sampling only when asked, and a zero temperature is greedy.
            do_sample=given.do_sample and given.temperature > 0,
            temperature=given.temperature,
            top_p=given.top_p,
            top_k=max(given.top_k, 0),
            repetition_penalty=given.repetition_penalty,
            stop=tuple(given.stop),
            seed=given.seed,
        )


class TextPart(_Strict):
    """A text part of a message's content."""

    type: Literal["text"]
    text: str


class ChatMessage(_Strict):
    """One message of a conversation."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[TextPart]
    name: str | None = None

    def text(self) -> str:
        """The message's content as one string."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(_Strict):
    """``stream_options``: whether the stream ends with a usage chunk."""

    include_usage: bool = False


class ChatCompletionRequest(_Strict):
    """OpenAI's chat completion request, as LMI's chat schema accepts it on ``/invocations``.

    ``stream: true`` answers as server-sent events (:mod:`maas.serving.streaming`), as the
    container answers ``InvokeEndpointWithResponseStream``. Fields that ask for what this
    server does not do (several choices, log probabilities, penalties) are accepted at their
    neutral value only.
    """

    messages: list[ChatMessage] = Field(min_length=1)
    model: str | None = None
    max_tokens: int = Field(default=DEFAULT_MAX_NEW_TOKENS, ge=1)
    temperature: float = Field(default=1.0, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    stop: str | list[str] = Field(default_factory=list)
    seed: int | None = Field(default=None, ge=0)
    n: Literal[1] = 1
    stream: bool = False
    stream_options: StreamOptions | None = None
    logprobs: Literal[False] = False
    frequency_penalty: Literal[0] = 0
    presence_penalty: Literal[0] = 0
    user: str | None = None

    def conversation(self) -> list[dict[str, str]]:
        """The messages as a chat template takes them."""
        return [{"role": message.role, "content": message.text()} for message in self.messages]

    def sampling(self) -> SamplingParams:
        """The generation parameters; OpenAI's default temperature of 1 samples."""
        return SamplingParams(
            max_new_tokens=self.max_tokens,
            do_sample=self.temperature > 0,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=(self.stop,) if isinstance(self.stop, str) else tuple(self.stop),
            seed=self.seed,
        )


Request = GenerateRequest | ChatCompletionRequest


def describe_validation_error(error: ValidationError) -> str:
    """``field.path: problem`` for each problem, as one line.

    Examples
    --------
    >>> try:
    ...     GenerationParameters.model_validate({"max_new_tokens": 0})
    ... except ValidationError as error:
    ...     describe_validation_error(error)
    'max_new_tokens: Input should be greater than or equal to 1'
    """
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
        for item in error.errors(include_url=False)
    )


def parse_request(body: bytes, content_type: str | None) -> Request:
    """Validate an ``/invocations`` body: a text generation or a chat completion request.

    ``text/plain`` is a prompt on its own, as LMI takes it; anything else must be JSON.

    Raises
    ------
    BadRequest
        The body is not JSON, not an object, or a field is missing, unknown or out of range.
    """
    if (content_type or "").split(";")[0].strip().lower() == "text/plain":
        return GenerateRequest(inputs=body.decode("utf-8", errors="replace"))
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"body: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise BadRequest("body: expected a JSON object with 'inputs' or 'messages'")
    model = ChatCompletionRequest if "messages" in document else GenerateRequest
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise BadRequest(describe_validation_error(error)) from None


def generation_response(
    request: GenerateRequest, completions: list[Completion]
) -> dict[str, Any] | list[dict[str, Any]]:
    """LMI's answer to a text generation request: one object, or a list for a list."""
    answers = []
    for prompt, completion in zip(request.prompts(), completions, strict=True):
        answer: dict[str, Any] = {
            "generated_text": (prompt if request.parameters.return_full_text else "")
            + completion.text
        }
        if request.parameters.details:
            answer["details"] = {
                "finish_reason": completion.finish_reason,
                "generated_tokens": completion.generated_tokens,
                "inputs": prompt,
            }
        answers.append(answer)
    return answers[0] if isinstance(request.inputs, str) else answers


def chat_response(model_name: str, completion: Completion) -> dict[str, Any]:
    """OpenAI's ``chat.completion`` object for one generated message."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_name,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": completion.text},
                "logprobs": None,
                "finish_reason": "length" if completion.finish_reason == "length" else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.generated_tokens,
            "total_tokens": completion.prompt_tokens + completion.generated_tokens,
        },
    }


__all__ = [
    "DEFAULT_MAX_NEW_TOKENS",
    "ChatCompletionRequest",
    "ChatMessage",
    "Completion",
    "FinishReason",
    "GenerateRequest",
    "GenerationParameters",
    "Request",
    "SamplingParams",
    "StreamOptions",
    "chat_response",
    "describe_validation_error",
    "generation_response",
    "parse_request",
]
