"""OpenAI's inference schema, as the API's OpenAI-compatible path takes and answers it.

``/openai/v1/chat/completions``, ``/openai/v1/completions`` and ``/openai/v1/models`` speak
OpenAI's wire format, so that the ``openai`` clients work with ``base_url`` set to the API's
``/openai/v1``. A model is one of the tenant's endpoints, named as the tenant named it.

Requests are validated at the door and refused whole (400 in OpenAI's error shape, naming
the field) when they ask for what the path does not do: several choices, log probabilities,
penalties, tools. Unknown fields are refused too, as OpenAI refuses them, so a misspelt
parameter is found at once. ``stream: true`` is answered as server-sent events of
:class:`ChatCompletionChunk` (or :class:`CompletionChunk`) objects, where the API function's
runtime streams (:data:`STREAMING_REFUSAL` says why it is refused where it does not).

Examples
--------
>>> request = ChatCompletionRequest.model_validate(
...     {"model": "chat", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}
... )
>>> request.question(), request.max_tokens
('Hi', 8)
>>> CompletionRequest.model_validate({"model": "chat", "prompt": ["Once"]}).text()
'Once'
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.pipeline import GenerationSettings

#: Why ``stream: true`` is refused where the API function's runtime does not stream (see
#: docs/serving.md, "Streaming on AWS").
STREAMING_REFUSAL = (
    "stream: this stage's API function answers through a buffered Lambda proxy integration, "
    "which returns a response only once it is complete; token-by-token streaming needs the "
    "function behind API Gateway's response streaming (responseTransferMode STREAM) on a "
    "runtime that streams. Send stream: false (or leave it out)."
)

#: OpenAI's finish reasons this path gives: the model stopped, hit ``max_tokens``, or the
#: guardrail blocked or masked the prompt or the answer.
FinishReason = Literal["stop", "length", "content_filter"]

_REQUEST = ConfigDict(extra="forbid")

ModelId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        description="One of the tenant's endpoints, by the name the tenant gave it "
        "(GET /openai/v1/models lists those in service).",
        examples=["chat"],
    ),
]


class TextPart(BaseModel):
    """A text part of a message's content."""

    model_config = _REQUEST

    type: Literal["text"]
    text: str = Field(max_length=200_000)


class ChatMessage(BaseModel):
    """One message of the conversation. ``developer`` is OpenAI's newer name for ``system``."""

    model_config = _REQUEST

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] = Field(description="Text, or text parts.")
    name: str | None = Field(default=None, max_length=64)

    def text(self) -> str:
        """The content as one string."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)

    def engine_role(self) -> Literal["system", "user", "assistant"]:
        """The role as the serving engine's chat template knows it."""
        return "system" if self.role == "developer" else self.role


class StreamOptions(BaseModel):
    """``stream_options``: what a streamed answer carries besides the text."""

    model_config = _REQUEST

    include_usage: bool | None = Field(
        default=None,
        description="true: a last chunk, with no choices, gives the usage of the request.",
    )


class _Sampling(BaseModel):
    """What both request kinds share: the endpoint, sampling, and what is refused."""

    model_config = _REQUEST

    model: ModelId
    max_tokens: StrictInt | None = Field(
        default=None,
        ge=1,
        le=8192,
        description="New tokens at most; unset: the endpoint pipeline's max_new_tokens.",
    )
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Unset: the endpoint pipeline's (0, greedy)."
    )
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = Field(default=None, description="Up to 4 stop sequences.")
    seed: StrictInt | None = Field(default=None, ge=0)
    n: Literal[1] | None = Field(default=None, description="One choice per request.")
    stream: bool | None = Field(
        default=None,
        description="true: the answer comes as server-sent events, token by token, ending "
        "with data: [DONE].",
    )
    stream_options: StreamOptions | None = Field(
        default=None, description="With stream: true only."
    )
    presence_penalty: Literal[0] | None = None
    frequency_penalty: Literal[0] | None = None
    user: str | None = Field(default=None, max_length=256)

    @field_validator("stop")
    @classmethod
    def _at_most_four(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    @field_validator("stream_options")
    @classmethod
    def _options_of_a_stream(
        cls, value: StreamOptions | None, info: ValidationInfo
    ) -> StreamOptions | None:
        if value is not None and not info.data.get("stream"):
            raise ValueError("only allowed when stream is true")
        return value

    def include_usage(self) -> bool:
        """Whether a streamed answer ends with a usage chunk."""
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)

    def settings(self) -> GenerationSettings:
        """The fields the request sets, as the pipeline's generation settings override."""
        values: dict[str, object] = {}
        if self.max_tokens is not None:
            values["max_new_tokens"] = self.max_tokens
        if self.temperature is not None:
            values["temperature"] = self.temperature
        return GenerationSettings.model_validate(values)

    def engine_options(self) -> dict[str, object]:
        """What the serving engine's chat request takes beyond tokens and temperature."""
        options: dict[str, object] = {}
        if self.top_p is not None:
            options["top_p"] = self.top_p
        if self.stop is not None:
            options["stop"] = self.stop
        if self.seed is not None:
            options["seed"] = self.seed
        return options


class ChatCompletionRequest(_Sampling):
    """``POST /openai/v1/chat/completions``: the conversation ends with the user's message."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "chat",
                    "messages": [
                        {"role": "system", "content": "Answer in one sentence."},
                        {"role": "user", "content": "What is a tensor?"},
                    ],
                    "max_tokens": 64,
                    "temperature": 0,
                }
            ]
        },
    )

    messages: list[ChatMessage] = Field(min_length=1, max_length=256)
    max_completion_tokens: StrictInt | None = Field(
        default=None, ge=1, le=8192, description="OpenAI's newer name for max_tokens."
    )
    logprobs: Literal[False] | None = None

    @field_validator("messages")
    @classmethod
    def _ends_with_the_user(cls, value: list[ChatMessage]) -> list[ChatMessage]:
        if value and value[-1].role != "user":
            raise ValueError("the last message must be the user's")
        return value

    @model_validator(mode="after")
    def _newer_name(self) -> ChatCompletionRequest:
        if self.max_tokens is None and self.max_completion_tokens is not None:
            self.max_tokens = self.max_completion_tokens
        return self

    def question(self) -> str:
        """The last message: what the pipeline's template and guardrail take as the question."""
        return self.messages[-1].text()

    def history(self) -> list[ChatMessage]:
        """The messages before the question."""
        return self.messages[:-1]


class CompletionRequest(_Sampling):
    """``POST /openai/v1/completions``: one prompt to continue."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"model": "chat", "prompt": "Once upon a time", "max_tokens": 16}]
        },
    )

    prompt: (
        Annotated[str, Field(min_length=1)]
        | Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=1)]
    ) = Field(description="One prompt (a list of one is taken too).")
    echo: Literal[False] | None = None
    best_of: Literal[1] | None = None
    logprobs: None = None
    suffix: None = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _one_prompt(cls, value: object) -> object:
        # One message for the field, rather than one per member of the union.
        prompts = value if isinstance(value, list) else [value]
        if len(prompts) != 1 or not isinstance(prompts[0], str) or not prompts[0]:
            raise ValueError("one prompt per request: a non-empty string, or a list of one")
        return value

    def text(self) -> str:
        """The prompt."""
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]


class Usage(BaseModel):
    """Tokens, as the serving engine counted them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    """The answer of a chat completion."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    """One choice of a chat completion (there is one)."""

    index: int = 0
    message: AssistantMessage
    logprobs: None = None
    finish_reason: FinishReason


class ChatCompletion(BaseModel):
    """OpenAI's ``chat.completion`` object."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(description="Unix seconds.")
    model: str = Field(description="The endpoint, as the request named it.")
    choices: list[ChatChoice]
    usage: Usage
    system_fingerprint: str | None = Field(
        default=None, description="The model version the endpoint serves: <model>:<version>."
    )


class CompletionChoice(BaseModel):
    """One choice of a text completion (there is one)."""

    index: int = 0
    text: str
    logprobs: None = None
    finish_reason: FinishReason


class TextCompletion(BaseModel):
    """OpenAI's ``text_completion`` object."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    system_fingerprint: str | None = None


class ChatDelta(BaseModel):
    """What a chunk adds to the answer: the role (first chunk), then text."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatChunkChoice(BaseModel):
    """The one choice of a chunk; ``finish_reason`` only on the last with one."""

    index: int = 0
    delta: ChatDelta
    logprobs: None = None
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    """OpenAI's ``chat.completion.chunk``: one server-sent event of a streamed chat."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatChunkChoice]
    usage: Usage | None = Field(
        default=None, description="On the last chunk (no choices) with include_usage."
    )
    system_fingerprint: str | None = None


class CompletionChunkChoice(BaseModel):
    """The one choice of a streamed completion's chunk."""

    index: int = 0
    text: str
    logprobs: None = None
    finish_reason: FinishReason | None = None


class CompletionChunk(BaseModel):
    """A streamed completion's server-sent event: a ``text_completion`` with a piece of text."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChunkChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None


class ModelObject(BaseModel):
    """One of the tenant's endpoints in service, as OpenAI lists a model."""

    id: str = Field(description="The endpoint's name.")
    object: Literal["model"] = "model"
    created: int = Field(description="When the endpoint was created, Unix seconds.")
    owned_by: str = Field(description="The tenant.")


class ModelList(BaseModel):
    """OpenAI's model list."""

    object: Literal["list"] = "list"
    data: list[ModelObject]


class ErrorDetail(BaseModel):
    """What went wrong, as OpenAI says it."""

    message: str
    type: str = Field(description="invalid_request_error, authentication_error, server_error...")
    param: str | None = Field(description="The field at fault, when one is.")
    code: str | None


class OpenAIError(BaseModel):
    """OpenAI's error body: every error of the OpenAI-compatible path has this shape."""

    error: ErrorDetail


__all__ = [
    "STREAMING_REFUSAL",
    "AssistantMessage",
    "ChatChoice",
    "ChatChunkChoice",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatDelta",
    "ChatMessage",
    "CompletionChoice",
    "CompletionChunk",
    "CompletionChunkChoice",
    "CompletionRequest",
    "ErrorDetail",
    "FinishReason",
    "ModelList",
    "ModelObject",
    "OpenAIError",
    "StreamOptions",
    "TextCompletion",
    "TextPart",
    "Usage",
]
