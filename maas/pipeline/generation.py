"""The generation stage: the rendered prompt sent to the SageMaker endpoint, the trace with it.

The prompt goes as one user message of a chat completion (the LMI container's chat schema,
which :class:`maas.serving.protocol.ChatCompletionRequest` validates): the model's chat
template applies, and the answer's ``usage`` gives the tokens read and written. The body is
written out here rather than built with that model because the API function's code asset
leaves the serving container's package out.

The request carries the trace: ``X-Amzn-Trace-Id`` set to the caller's header (the
generation stage's, from :meth:`maas.tracing.RequestTrace.header`) on ``InvokeEndpoint``, so
what the endpoint records nests under the stage. On AWS the X-Ray SDK's botocore patch sets
the same header from the subsegment it opens for the call, and it wins (it is set after this
one); locally, where nothing patches botocore, this one reaches the model server.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maas.aws import client as aws_client
from maas.pipeline.exceptions import ModelCallFailed
from maas.pipeline.streaming import server_sent_events
from maas.tracing import TRACE_HEADER

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from schemas.pipeline import GenerationSettings

#: The trace header the next ``InvokeEndpoint`` on this thread (or task) sends.
_OUTGOING_TRACE: ContextVar[str | None] = ContextVar("maas_outgoing_trace", default=None)


@dataclass(frozen=True)
class Generation:
    """The endpoint's answer and what it cost."""

    text: str
    tokens_in: int
    tokens_out: int
    finish_reason: str


def _send_trace_header(params: dict[str, Any], **_: Any) -> None:
    header = _OUTGOING_TRACE.get()
    if header:
        params.setdefault("headers", {})[TRACE_HEADER] = header


def chat_body(prompt: str, settings: GenerationSettings) -> dict[str, Any]:
    """The ``/invocations`` body that asks for ``prompt`` as one user message.

    Examples
    --------
    >>> from schemas.pipeline import GenerationSettings
    >>> chat_body("Hi", GenerationSettings(max_new_tokens=8))
    {'messages': [{'role': 'user', 'content': 'Hi'}], 'max_tokens': 8, 'temperature': 0.0}
    """
    return {
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": settings.max_new_tokens,
        "temperature": settings.temperature,
    }


class EndpointGenerator:
    """Generates on one SageMaker endpoint with ``InvokeEndpoint``.

    Parameters
    ----------
    endpoint_name
        The endpoint.
    client
        A ``sagemaker-runtime`` client (the process's own unless given: the API passes the
        tenant's, which IAM holds to the tenant's endpoints).
    """

    def __init__(self, endpoint_name: str, *, client: Any | None = None) -> None:
        self.endpoint_name = endpoint_name
        self._client = client or aws_client("sagemaker-runtime")
        # unique_id: registered once per client however many generators share it.
        self._client.meta.events.register(
            "before-call.sagemaker-runtime.InvokeEndpoint",
            _send_trace_header,
            unique_id="maas-pipeline-trace-header",
        )
        self._client.meta.events.register(
            "before-call.sagemaker-runtime.InvokeEndpointWithResponseStream",
            _send_trace_header,
            unique_id="maas-pipeline-stream-trace-header",
        )

    def request_body(self, prompt: str, settings: GenerationSettings) -> dict[str, Any]:
        """The ``/invocations`` body for ``prompt``: one user message (:func:`chat_body`).

        A subclass sends more around it (the API's OpenAI-compatible path: the conversation
        before it, and sampling options); the answer is read the same way.
        """
        return chat_body(prompt, settings)

    def generate(
        self, prompt: str, settings: GenerationSettings, *, trace_header: str | None = None
    ) -> Generation:
        """Ask the endpoint; :class:`ModelCallFailed` when it answers an error or nonsense."""
        body = json.dumps(self.request_body(prompt, settings))
        token = _OUTGOING_TRACE.set(trace_header)
        try:
            response = self._client.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType="application/json",
                Accept="application/json",
                Body=body,
            )
            answer = json.loads(response["Body"].read())
        except Exception as error:  # botocore's errors (ModelError, throttling), or not JSON
            raise ModelCallFailed(f"endpoint {self.endpoint_name}: {error}") from None
        finally:
            _OUTGOING_TRACE.reset(token)
        try:
            choice = answer["choices"][0]
            usage = answer.get("usage") or {}
            return Generation(
                text=str(choice["message"]["content"]),
                tokens_in=int(usage.get("prompt_tokens", 0)),
                tokens_out=int(usage.get("completion_tokens", 0)),
                finish_reason=str(choice.get("finish_reason") or "stop"),
            )
        except (KeyError, IndexError, TypeError, ValueError):
            raise ModelCallFailed(
                f"endpoint {self.endpoint_name} answered no chat completion: {str(answer)[:200]}"
            ) from None

    def generate_stream(
        self, prompt: str, settings: GenerationSettings, *, trace_header: str | None = None
    ) -> Iterator[str | Generation]:
        """Ask the endpoint for a streamed answer: its text as it comes, then the whole.

        ``InvokeEndpointWithResponseStream`` with the chat body and ``stream: true`` (and the
        usage asked for): each piece of text is yielded as its chunk arrives, and last the
        :class:`Generation` with the engine's token counts and finish reason. Failures, before
        the first piece or after, are :class:`ModelCallFailed`.
        """
        body = {
            **self.request_body(prompt, settings),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        token = _OUTGOING_TRACE.set(trace_header)
        try:
            response = self._client.invoke_endpoint_with_response_stream(
                EndpointName=self.endpoint_name,
                ContentType="application/json",
                Accept="text/event-stream",
                Body=json.dumps(body),
            )
        except Exception as error:  # botocore's errors (ModelError, validation, throttling)
            raise ModelCallFailed(f"endpoint {self.endpoint_name}: {error}") from None
        finally:
            _OUTGOING_TRACE.reset(token)
        stream = response["Body"]
        parts: list[str] = []
        usage: dict[str, Any] = {}
        finish_reason = "stop"
        try:
            for chunk in server_sent_events(_payload_parts(stream)):
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    finish_reason = choice.get("finish_reason") or finish_reason
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        parts.append(str(text))
                        yield str(text)
        except Exception as error:  # not JSON, an error event, ModelStreamError, a broken link
            raise ModelCallFailed(f"endpoint {self.endpoint_name}: {error}") from None
        finally:
            stream.close()
        yield Generation(
            text="".join(parts),
            tokens_in=int(usage.get("prompt_tokens", 0)),
            tokens_out=int(usage.get("completion_tokens", 0)),
            finish_reason=finish_reason,
        )


def _payload_parts(stream: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    # The event stream's PayloadPart bytes; its modeled errors are raised by botocore.
    for event in stream:
        part = event.get("PayloadPart")
        if part is not None:
            yield part["Bytes"]


__all__ = ["EndpointGenerator", "Generation", "chat_body"]
