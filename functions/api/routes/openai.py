"""``/openai/v1``: OpenAI-compatible inference on the tenant's own endpoints.

``GET /models`` lists the tenant's endpoints in service as OpenAI models;
``POST /chat/completions`` and ``POST /completions`` answer in OpenAI's schema, so the
``openai`` clients work with ``base_url`` set to ``<API>/openai/v1`` and the tenant's token
as the API key. Under ``/openai/v1`` rather than ``/v1``: ``GET /v1/models`` is the model
registry already.

A request runs the endpoint's pipeline as ``invoke`` does
(:func:`functions.api.routes.pipelines.run_pipeline`): the guardrail on the prompt and on
the answer, each stage an X-Ray subsegment, the request metered. The conversation goes to
the endpoint in the serving engine's chat schema (LMI's OpenAI chat completions on
``/invocations``), and the tokens are the ones the engine reports. What the client wrote is
sent as written: the pipeline's prompt template (and knowledge) apply to the last user
message only where the tenant configured the endpoint's pipeline, and its generation
settings fill in ``max_tokens`` and ``temperature`` when the request leaves them out. A
completion is generated the same way, its prompt as the one user message, since LMI's text
generation form does not report prompt tokens.

``stream: true`` runs the same pipeline streamed (:func:`~functions.api.routes.pipelines.
stream_pipeline`): what can be refused is refused first, as an error; then the answer is
server-sent events (:mod:`functions.api.routes.openai_chunks`) that the handler streams
(:mod:`functions.api.streaming`), the guardrail checking the answer in windows as it comes.

Every error here has OpenAI's shape (:func:`openai_error`), not a problem document:
clients of this path parse ``{"error": {...}}``.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from functions.api import streaming
from functions.api.context import services, tenant_of
from functions.api.problems import InvalidFields
from functions.api.routes.openai_chunks import (
    STREAM_CONTENT_TYPE,
    ChatChunks,
    ChunkWriter,
    CompletionChunks,
    current_trace_id,
    server_sent_events,
)
from functions.api.routes.pipelines import run_pipeline, stream_pipeline
from maas.exceptions import NotFound
from maas.guardrails import GuardrailVerdict
from maas.pipeline import EndpointGenerator
from schemas.api import FieldProblem
from schemas.endpoint import EndpointStatus
from schemas.openai import (
    STREAMING_REFUSAL,
    AssistantMessage,
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    CompletionChoice,
    CompletionRequest,
    ErrorDetail,
    FinishReason,
    ModelList,
    ModelObject,
    OpenAIError,
    TextCompletion,
    Usage,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.guardrails import Source
    from maas.pipeline import Generation, Guard, PipelineAnswer
    from schemas.endpoint import EndpointRecord
    from schemas.pipeline import EndpointPipeline, GenerationSettings, PipelineSpec

#: Where the OpenAI-compatible path is mounted: the ``base_url`` of an ``openai`` client.
OPENAI_PREFIX = "/openai/v1"
#: The answer's header naming the request's X-Ray trace (``maas traces show <id>``).
TRACE_ID_HEADER = "x-maas-trace-id"

router = APIGatewayRouter()

ModelName = Annotated[str, Path(max_length=256, description="The endpoint's name.")]

#: The answer to ``stream: true``, as the route's head leaves it: the body is the events the
#: handler streams after it (``text/event-stream``).
ServerSentEvents = Annotated[
    str,
    Field(
        description="With stream: true (Content-Type: text/event-stream): data: {chunk} "
        "events, token by token, then data: [DONE]."
    ),
]


class Conversation:
    """The messages before the question, as the engine's chat template takes them.

    Shared by the guard (which masks what its guardrail masks) and the generator (which sends
    them), so the endpoint sees the conversation as the guardrail left it.
    """

    def __init__(self, request: ChatCompletionRequest | None) -> None:
        history = request.history() if request is not None else []
        self.messages = [
            {"role": message.engine_role(), "content": message.text()} for message in history
        ]


class ConversationGenerator(EndpointGenerator):
    """Generates the question after the conversation, with the request's sampling options.

    Keeps the engine's answer (:attr:`last`), whose finish reason the OpenAI answer gives.
    """

    def __init__(
        self,
        endpoint_name: str,
        *,
        client: Any,
        conversation: Conversation,
        options: dict[str, object],
    ) -> None:
        super().__init__(endpoint_name, client=client)
        self._conversation = conversation
        self._options = options
        self.last: Generation | None = None

    def request_body(self, prompt: str, settings: GenerationSettings) -> dict[str, Any]:
        """The conversation, then ``prompt`` as the user's message, in the chat schema."""
        body = super().request_body(prompt, settings)
        body["messages"] = [*self._conversation.messages, *body["messages"]]
        return {**body, **self._options}

    def generate(
        self, prompt: str, settings: GenerationSettings, *, trace_header: str | None = None
    ) -> Generation:
        """Generate, and keep the answer."""
        self.last = super().generate(prompt, settings, trace_header=trace_header)
        return self.last


class ConversationGuard:
    """The tenant's guardrail over the whole conversation, not only its last message.

    On the prompt (``INPUT``), each earlier message is checked first: one that is blocked
    stops the request (its verdict is the answer), a masked one is sent masked; then the
    question. The pipeline records the one verdict this returns, with every finding.
    """

    def __init__(self, guard: Guard, conversation: Conversation) -> None:
        self._guard = guard
        self._conversation = conversation

    def check(self, text: str, source: Source) -> GuardrailVerdict:
        """The verdict on ``text``, and on the conversation before it when it is the prompt."""
        if source == "OUTPUT":
            return self._guard.check(text, source)
        verdicts = []
        for index, message in enumerate(self._conversation.messages):
            checked = self._guard.check(message["content"], "INPUT")
            verdicts.append(checked)
            if checked.blocked:
                return _merged(verdicts, text=checked.text)
            self._conversation.messages[index] = {**message, "content": checked.text}
        question = self._guard.check(text, "INPUT")
        return _merged([*verdicts, question], text=question.text)


def _merged(verdicts: list[GuardrailVerdict], *, text: str) -> GuardrailVerdict:
    intervened = any(verdict.intervened for verdict in verdicts)
    return GuardrailVerdict(
        action="GUARDRAIL_INTERVENED" if intervened else "NONE",
        source="INPUT",
        text=text,
        intervened=intervened,
        blocked=any(verdict.blocked for verdict in verdicts),
        reasons=tuple(reason for verdict in verdicts for reason in verdict.reasons),
        assessments=[item for verdict in verdicts for item in verdict.assessments],
    )


@router.get("/models", summary="List the tenant's endpoints as OpenAI models", tags=["OpenAI"])
def list_models() -> ModelList:
    """The tenant's endpoints in service, each an OpenAI model named as the endpoint."""
    tenant = tenant_of(router)
    records = services(tenant).endpoints.tenant_records(tenant)
    serving = sorted(
        (record for record in records if record.status is EndpointStatus.IN_SERVICE),
        key=lambda record: record.endpoint_name,
    )
    return ModelList(data=[_model(record) for record in serving])


@router.get("/models/<model>", summary="Describe an endpoint as an OpenAI model", tags=["OpenAI"])
def get_model(model: ModelName) -> ModelObject:
    """One endpoint in service, as an OpenAI model; 404 for any other name."""
    tenant = tenant_of(router)
    record = services(tenant).endpoints.get(tenant, model)
    if record.status is not EndpointStatus.IN_SERVICE:
        raise NotFound(f"model {model!r} is not in service")
    return _model(record)


@router.post(
    "/chat/completions", summary="Chat with an endpoint (OpenAI's schema)", tags=["OpenAI"]
)
def create_chat_completion(
    body: ChatCompletionRequest,
) -> Response[ChatCompletion | ServerSentEvents]:
    """The endpoint's answer to the conversation, through its pipeline, with its token usage.

    With ``stream: true``, server-sent events of ``chat.completion.chunk`` objects, token by
    token, ending with ``data: [DONE]``.
    """
    conversation = Conversation(body)
    if body.stream:
        return _streamed(body, body.question(), conversation, ChatChunks)
    answer, finish_reason = _answer(body, body.question(), conversation)
    completion = ChatCompletion(
        id=f"chatcmpl-{_request_id()}",
        created=int(time.time()),
        model=body.model,
        choices=[
            ChatChoice(message=AssistantMessage(content=answer.answer), finish_reason=finish_reason)
        ],
        usage=_usage(answer),
        system_fingerprint=f"{answer.model}:{answer.version}",
    )
    return _answered(completion, answer)


@router.post("/completions", summary="Complete a prompt (OpenAI's schema)", tags=["OpenAI"])
def create_completion(body: CompletionRequest) -> Response[TextCompletion | ServerSentEvents]:
    """The endpoint's continuation of the prompt, through its pipeline, with its token usage.

    With ``stream: true``, server-sent events of ``text_completion`` chunks, token by token.
    """
    if body.stream:
        return _streamed(body, body.text(), Conversation(None), CompletionChunks)
    answer, finish_reason = _answer(body, body.text(), Conversation(None))
    completion = TextCompletion(
        id=f"cmpl-{_request_id()}",
        created=int(time.time()),
        model=body.model,
        choices=[CompletionChoice(text=answer.answer, finish_reason=finish_reason)],
        usage=_usage(answer),
        system_fingerprint=f"{answer.model}:{answer.version}",
    )
    return _answered(completion, answer)


def _streamed(
    body: ChatCompletionRequest | CompletionRequest,
    question: str,
    conversation: Conversation,
    chunks: type[ChunkWriter],
) -> Response[Any]:
    if not streaming.available():
        raise InvalidFields(
            [FieldProblem(field="stream", message=STREAMING_REFUSAL.removeprefix("stream: "))]
        )
    made: list[ConversationGenerator] = []
    events = stream_pipeline(
        tenant_of(router),
        body.model,
        question,
        parameters=body.settings(),
        spec_of=_as_sent,
        generator_of=_generator_of(body, conversation, made),
        guard_of=lambda guard: ConversationGuard(guard, conversation),
    )
    writer = chunks(f"{chunks.prefix}-{_request_id()}", body.model)
    streaming.offer(server_sent_events(events, writer, include_usage=body.include_usage()))
    headers = {"Cache-Control": "no-cache"}
    if trace_id := current_trace_id():
        headers[TRACE_ID_HEADER] = trace_id
    return Response(200, STREAM_CONTENT_TYPE, body="", headers=headers)


def _generator_of(
    body: ChatCompletionRequest | CompletionRequest,
    conversation: Conversation,
    made: list[ConversationGenerator],
) -> Callable[[str, Any], EndpointGenerator]:
    def generator(sagemaker_name: str, runtime: Any) -> EndpointGenerator:
        made.append(
            ConversationGenerator(
                sagemaker_name,
                client=runtime,
                conversation=conversation,
                options=body.engine_options(),
            )
        )
        return made[0]

    return generator


def _answer(
    body: ChatCompletionRequest | CompletionRequest, question: str, conversation: Conversation
) -> tuple[PipelineAnswer, FinishReason]:
    made: list[ConversationGenerator] = []
    answer = run_pipeline(
        tenant_of(router),
        body.model,
        question,
        parameters=body.settings(),
        spec_of=_as_sent,
        generator_of=_generator_of(body, conversation, made),
        guard_of=lambda guard: ConversationGuard(guard, conversation),
    )
    generated = made[0].last if made else None
    # Content was held back: the prompt blocked (nothing generated), or the answer blocked or
    # masked. A masked prompt was answered in full: the engine's reason stands.
    filtered = any(finding.intervened for finding in answer.guardrail if finding.source == "OUTPUT")
    finish: FinishReason = "stop"
    if answer.blocked or filtered or generated is None:
        finish = "content_filter"
    elif generated.finish_reason == "length":
        finish = "length"
    return answer, finish


def _as_sent(stored: EndpointPipeline) -> PipelineSpec:
    # A configured pipeline's template (and knowledge) is the tenant's choice for every
    # request; the default one is for invoke's questions, and would rewrite the client's.
    if stored.configured:
        return stored.pipeline
    return stored.pipeline.model_copy(update={"prompt_template": "{question}"})


def _usage(answer: PipelineAnswer) -> Usage:
    return Usage(
        prompt_tokens=answer.tokens_in,
        completion_tokens=answer.tokens_out,
        total_tokens=answer.tokens_in + answer.tokens_out,
    )


def _answered(completion: ChatCompletion | TextCompletion, answer: PipelineAnswer) -> Response[Any]:
    headers = {TRACE_ID_HEADER: answer.trace_id} if answer.trace_id else None
    return Response(200, "application/json", body=completion, headers=headers)


def _model(record: EndpointRecord) -> ModelObject:
    return ModelObject(
        id=record.endpoint_name,
        created=int(record.created_at.timestamp()),
        owned_by=record.tenant_id,
    )


def _request_id() -> str:
    return str(router.current_event.request_context.request_id or "")


def is_openai_path(path: str | None) -> bool:
    """Whether ``path`` is on the OpenAI-compatible path, whose errors have OpenAI's shape."""
    return bool(path) and (path == OPENAI_PREFIX or str(path).startswith(f"{OPENAI_PREFIX}/"))


#: OpenAI's error type and code per status; a field's problem is a 400, as OpenAI's are.
_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "quota_exceeded"),
    404: ("invalid_request_error", "model_not_found"),
    409: ("invalid_request_error", "model_not_in_service"),
    413: ("invalid_request_error", "request_too_large"),
    415: ("invalid_request_error", "unsupported_media_type"),
    422: ("invalid_request_error", None),
    500: ("server_error", None),
    502: ("server_error", "model_call_failed"),
}


def openai_error(
    status: HTTPStatus,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
    no_route: bool = False,
) -> Response[str]:
    """An error of the OpenAI-compatible path, in OpenAI's shape.

    A field that does not validate (Powertools' 422) is a 400 naming it in ``param``, as
    OpenAI answers; ``request_id`` goes in ``x-request-id``, where OpenAI's clients read it.
    """
    if status is HTTPStatus.UNPROCESSABLE_ENTITY:
        status = HTTPStatus.BAD_REQUEST
    kind, code = _KINDS.get(int(status), ("invalid_request_error", None))
    if no_route:
        code = "unknown_url"
    param = errors[0].field if errors else None
    if code == "model_not_found":
        param = "model"
    elif param == "stream":
        code = "streaming_not_supported"
    elif errors and "Extra inputs are not permitted" in errors[0].message:
        code = "unknown_parameter"
    body = OpenAIError(error=ErrorDetail(message=detail, type=kind, param=param, code=code))
    all_headers = {**(headers or {}), **({"x-request-id": request_id} if request_id else {})}
    return Response(
        status_code=int(status),
        content_type="application/json",
        body=body.model_dump_json(),
        headers=all_headers or None,
    )


__all__ = [
    "OPENAI_PREFIX",
    "TRACE_ID_HEADER",
    "ConversationGenerator",
    "ConversationGuard",
    "is_openai_path",
    "openai_error",
    "router",
]
