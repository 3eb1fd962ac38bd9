"""The LMI request and response schemas: what is accepted, and how a refusal names its field."""

from __future__ import annotations

import json

import pytest

from maas.serving import BadRequest, ChatCompletionRequest, GenerateRequest, parse_request
from maas.serving.protocol import Completion, chat_response, generation_response


def parse(document: object, content_type: str | None = "application/json") -> object:
    return parse_request(json.dumps(document).encode(), content_type)


def refusal(document: object) -> str:
    with pytest.raises(BadRequest) as raised:
        parse(document)
    return raised.value.message


# Text generation


def test_a_text_request_carries_its_prompt_and_parameters() -> None:
    request = parse(
        {
            "inputs": "Hello",
            "parameters": {
                "max_new_tokens": 8,
                "do_sample": True,
                "temperature": 0.7,
                "top_p": 0.9,
                "stop": ["\n"],
                "seed": 1,
            },
        }
    )

    assert isinstance(request, GenerateRequest)
    assert request.prompts() == ["Hello"]
    sampling = request.sampling()
    assert (sampling.max_new_tokens, sampling.do_sample, sampling.temperature) == (8, True, 0.7)
    assert (sampling.top_p, sampling.stop, sampling.seed) == (0.9, ("\n",), 1)


def test_without_do_sample_generation_is_greedy_whatever_the_temperature() -> None:
    request = parse({"inputs": "Hello", "parameters": {"temperature": 0.7}})

    assert isinstance(request, GenerateRequest)
    assert request.sampling().do_sample is False


def test_a_zero_temperature_is_greedy() -> None:
    request = parse({"inputs": "Hi", "parameters": {"do_sample": True, "temperature": 0}})

    assert isinstance(request, GenerateRequest)
    assert request.sampling().do_sample is False


def test_a_plain_text_body_is_a_prompt() -> None:
    request = parse_request(b"Hello there", "text/plain; charset=utf-8")

    assert isinstance(request, GenerateRequest)
    assert request.prompts() == ["Hello there"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"inputs": "Hi", "parameters": {"max_tokens": 5}}, "parameters.max_tokens: Extra inputs"),
        ({"inputs": "Hi", "parameters": {"max_new_tokens": 0}}, "parameters.max_new_tokens: "),
        ({"inputs": "Hi", "parameters": {"temperature": -1}}, "parameters.temperature: "),
        ({"inputs": "Hi", "parameters": {"top_p": 0}}, "parameters.top_p: "),
        ({"inputs": "Hi", "parameters": {"stop": "x"}}, "parameters.stop: "),
        ({"inputs": ""}, "inputs: Input should be a non-empty string or a list"),
        ({"inputs": []}, "inputs: Input should be a non-empty string or a list"),
        ({"inputs": ["a", 3]}, "inputs: Input should be a non-empty string or a list"),
        ({"prompt": "Hi"}, "inputs: Field required"),
    ],
)
def test_a_bad_text_request_names_the_field(document: object, message: str) -> None:
    assert message in refusal(document)


def test_a_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_request(b"{inputs: Hi}", "application/json")

    assert raised.value.message.startswith("body: not valid JSON")


def test_a_json_body_that_is_not_an_object_is_refused() -> None:
    assert refusal(["Hi"]) == "body: expected a JSON object with 'inputs' or 'messages'"


def test_one_input_is_answered_with_one_object() -> None:
    request = GenerateRequest(inputs="Hi")

    answer = generation_response(request, [Completion(" there", "length", 1, 1)])

    assert answer == {"generated_text": " there"}


def test_a_list_of_inputs_is_answered_with_a_list_in_order() -> None:
    request = GenerateRequest.model_validate(
        {"inputs": ["a", "b"], "parameters": {"details": True, "return_full_text": True}}
    )

    answer = generation_response(
        request, [Completion("1", "eos_token", 1, 2), Completion("2", "length", 1, 3)]
    )

    assert answer == [
        {
            "generated_text": "a1",
            "details": {"finish_reason": "eos_token", "generated_tokens": 2, "inputs": "a"},
        },
        {
            "generated_text": "b2",
            "details": {"finish_reason": "length", "generated_tokens": 3, "inputs": "b"},
        },
    ]


# Chat completions


def test_a_chat_request_carries_its_conversation() -> None:
    request = parse(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            ],
            "max_tokens": 12,
            "temperature": 0,
            "stop": "\n",
        }
    )

    assert isinstance(request, ChatCompletionRequest)
    assert request.conversation() == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    sampling = request.sampling()
    assert (sampling.max_new_tokens, sampling.do_sample, sampling.stop) == (12, False, ("\n",))


def test_a_chat_request_samples_at_openais_default_temperature() -> None:
    request = parse({"messages": [{"role": "user", "content": "Hi"}]})

    assert isinstance(request, ChatCompletionRequest)
    assert request.sampling().do_sample is True


def test_neutral_openai_fields_are_accepted() -> None:
    request = parse(
        {
            "messages": [{"role": "user", "content": "Hi"}],
            "model": "anything",
            "n": 1,
            "stream": False,
            "frequency_penalty": 0.0,
            "presence_penalty": 0,
            "user": "someone",
        }
    )

    assert isinstance(request, ChatCompletionRequest)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"stream_options": {"include_tokens": True}}, "stream_options.include_tokens: "),
        ({"n": 2}, "n: Input should be 1"),
        ({"max_tokens": 0}, "max_tokens: "),
        ({"tools": []}, "tools: Extra inputs are not permitted"),
        ({"messages": []}, "messages: "),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role: "),
    ],
)
def test_a_bad_chat_request_names_the_field(extra: dict[str, object], message: str) -> None:
    document = {"messages": [{"role": "user", "content": "Hi"}], **extra}

    assert message in refusal(document)


def test_a_chat_answer_is_an_openai_chat_completion() -> None:
    answer = chat_response("lmi", Completion("Paris.", "eos_token", 20, 3))

    assert answer["object"] == "chat.completion"
    assert answer["id"].startswith("chatcmpl-")
    assert answer["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris."},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert answer["usage"] == {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23}


def test_a_chat_answer_cut_by_the_token_limit_says_length() -> None:
    answer = chat_response("lmi", Completion("Par", "length", 20, 3))

    assert answer["choices"][0]["finish_reason"] == "length"
