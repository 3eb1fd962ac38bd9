"""One invocation on a tiny model: LMI's answers, stop sequences, and the length limit."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.serving import BadRequest, ModelLoadError
from maas.serving.model import ServedModel

if TYPE_CHECKING:
    from pathlib import Path

    from maas.serving.service import InferenceService, Invocation


def invoke(service: InferenceService, document: dict[str, Any]) -> Invocation:
    return service.invoke(json.dumps(document).encode(), "application/json")


def generate(service: InferenceService, prompt: str, **parameters: Any) -> dict[str, Any]:
    payload = invoke(service, {"inputs": prompt, "parameters": parameters}).payload
    assert isinstance(payload, dict)
    return payload


def test_a_prompt_is_answered_with_generated_text_of_at_most_max_new_tokens(
    service: InferenceService,
) -> None:
    invocation = invoke(
        service, {"inputs": "Hello, my name is", "parameters": {"max_new_tokens": 6}}
    )

    assert set(invocation.payload) == {"generated_text"}
    assert (invocation.kind, invocation.sequences) == ("generate", 1)
    assert invocation.input_tokens == len(service.model.encode("Hello, my name is"))
    assert 1 <= invocation.output_tokens <= 6


def test_greedy_generation_is_repeatable(service: InferenceService) -> None:
    first = generate(service, "The capital of France is", max_new_tokens=6)

    assert generate(service, "The capital of France is", max_new_tokens=6) == first


def test_a_list_of_prompts_is_answered_in_order(service: InferenceService) -> None:
    invocation = invoke(
        service,
        {"inputs": ["Hello", "The capital of France is"], "parameters": {"details": True}},
    )

    assert isinstance(invocation.payload, list)
    assert [answer["details"]["inputs"] for answer in invocation.payload] == [
        "Hello",
        "The capital of France is",
    ]
    assert invocation.sequences == 2


def test_a_stop_sequence_ends_the_text_before_it(service: InferenceService) -> None:
    full = generate(service, "Once upon a time", max_new_tokens=12, details=True)
    text = full["generated_text"]
    stop = text[len(text) // 2 :][:3]

    stopped = generate(service, "Once upon a time", max_new_tokens=12, stop=[stop], details=True)

    assert stopped["generated_text"] == text[: text.find(stop)]
    assert stopped["details"]["finish_reason"] == "stop_sequence"


def test_sampling_with_a_seed_is_repeatable(service: InferenceService) -> None:
    sampled = {"max_new_tokens": 6, "do_sample": True, "temperature": 0.9, "seed": 7}

    assert generate(service, "Hello", **sampled) == generate(service, "Hello", **sampled)


def test_a_chat_is_rendered_with_the_models_template(service: InferenceService) -> None:
    invocation = invoke(
        service,
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0},
    )

    assert isinstance(invocation.payload, dict)
    assert invocation.payload["object"] == "chat.completion"
    template = service.model.chat_prompt([{"role": "user", "content": "Hi"}])
    assert "<|im_start|>assistant" in template
    usage = invocation.payload["usage"]
    assert usage["prompt_tokens"] == len(service.model.encode(template, special_tokens=False))
    assert usage["completion_tokens"] == invocation.output_tokens


def test_a_prompt_and_new_tokens_beyond_max_model_len_are_refused(
    service: InferenceService,
) -> None:
    prompt_tokens = len(service.model.encode("Hello"))

    with pytest.raises(BadRequest) as raised:
        generate(service, "Hello", max_new_tokens=256)

    assert raised.value.message == (
        f"inputs: prompt tokens ({prompt_tokens}) plus max_new_tokens (256) exceed "
        "max_model_len (256); shorten the prompt or ask for fewer tokens"
    )


def test_a_chat_beyond_max_model_len_names_max_tokens(service: InferenceService) -> None:
    with pytest.raises(BadRequest) as raised:
        invoke(service, {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 256})

    assert raised.value.message.startswith("messages: prompt tokens (")
    assert "plus max_tokens (256) exceed max_model_len (256)" in raised.value.message


# Loading


def test_a_folder_without_a_model_does_not_load_and_says_nothing_is_downloaded(
    tmp_path: Path,
) -> None:
    (tmp_path / "serving.properties").write_text("option.model_id=org/model\n")

    with pytest.raises(ModelLoadError) as raised:
        ServedModel.load(tmp_path)

    assert "no config.json" in raised.value.message
    assert "option.model_id=org/model" in raised.value.message


def test_max_model_len_beyond_the_models_positions_does_not_load(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    for path in tiny_model_dir.iterdir():
        (tmp_path / path.name).symlink_to(path)
    (tmp_path / "serving.properties").unlink()
    (tmp_path / "serving.properties").write_text("option.max_model_len=4096\n")

    with pytest.raises(ModelLoadError) as raised:
        ServedModel.load(tmp_path)

    assert raised.value.message == (
        "option.max_model_len (4096) is greater than the model's max_position_embeddings (2048)"
    )


def test_without_max_model_len_the_models_positions_bound_a_request(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    for path in tiny_model_dir.iterdir():
        if path.name != "serving.properties":
            (tmp_path / path.name).symlink_to(path)

    assert ServedModel.load(tmp_path).max_model_len == 2048
