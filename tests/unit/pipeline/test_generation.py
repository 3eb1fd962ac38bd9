"""The generation stage on the wire: the served protocol's body, the trace header, errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from maas.pipeline import EndpointGenerator, ModelCallFailed
from maas.serving.protocol import ChatCompletionRequest
from schemas.pipeline import GenerationSettings

if TYPE_CHECKING:
    from tests.unit.pipeline.conftest import FakeEndpoint

HEADER = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"


def test_the_prompt_goes_as_a_chat_completion_the_server_accepts(
    runtime_client: Any, endpoint: FakeEndpoint
) -> None:
    generated = EndpointGenerator("acme-chat", client=runtime_client).generate(
        "Where is Paris?", GenerationSettings(max_new_tokens=16, temperature=0.5)
    )

    (body,) = endpoint.bodies
    request = ChatCompletionRequest.model_validate(body)
    assert request.conversation() == [{"role": "user", "content": "Where is Paris?"}]
    assert (request.max_tokens, request.temperature) == (16, 0.5)
    assert "/endpoints/acme-chat/invocations" in endpoint.requests[0].url
    assert (generated.text, generated.tokens_in, generated.tokens_out) == ("Paris.", 42, 3)


def test_the_trace_header_is_sent_with_that_call_only(
    runtime_client: Any, endpoint: FakeEndpoint
) -> None:
    generator = EndpointGenerator("acme-chat", client=runtime_client)

    generator.generate("one", GenerationSettings(), trace_header=HEADER)
    generator.generate("two", GenerationSettings())

    assert endpoint.requests[0].headers["X-Amzn-Trace-Id"] == HEADER.encode()
    assert "X-Amzn-Trace-Id" not in endpoint.requests[1].headers


def test_a_model_error_is_a_failed_model_call(runtime_client: Any, endpoint: FakeEndpoint) -> None:
    endpoint.status = 424

    with pytest.raises(ModelCallFailed, match=r"endpoint acme-chat: .*ModelError"):
        EndpointGenerator("acme-chat", client=runtime_client).generate("x", GenerationSettings())


def test_an_answer_that_is_not_a_chat_completion_is_a_failed_model_call(
    runtime_client: Any, endpoint: FakeEndpoint
) -> None:
    endpoint.answer = {"generated_text": "hi"}

    with pytest.raises(ModelCallFailed, match="answered no chat completion"):
        EndpointGenerator("acme-chat", client=runtime_client).generate("x", GenerationSettings())
