"""Which bodies are read as JSON, over HTTP: JSON with no ``Content-Type`` is, a form is not.

API Gateway's REST APIs pass a body that came with no ``Content-Type`` to the function as it
is; clients that send JSON without naming it (``curl --data-binary @body.json -H
'Content-Type:'``, scripts) expect it read as JSON, so it is. A form (``curl -d`` without
``-H``) or any other declared type stays a 415 that says how to send JSON.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.served import ServedApi, serve

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime

#: A request the API answers without starting anything: the advisor on a config.json.
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "num_hidden_layers": 30,
    "vocab_size": 49152,
    "max_position_embeddings": 8192,
    "torch_dtype": "bfloat16",
}


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory) -> ServedApi:
    state: Path = tmp_path_factory.mktemp("state")
    return serve(runtime, state)


def _post(served: ServedApi, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{served.url}/v1/recommendations",
        content=body,
        headers={**served.headers, **headers},
        timeout=60,
    )


def test_json_without_a_content_type_is_read_as_json(served: ServedApi) -> None:
    answer = _post(served, json.dumps({"config": CONFIG}).encode(), {})

    assert "content-type" not in {name.lower() for name in answer.request.headers}
    assert answer.status_code == 200, answer.text
    assert answer.json()["recommendation"]["instance_type"]


def test_an_invalid_body_without_a_content_type_names_the_field(served: ServedApi) -> None:
    answer = _post(served, json.dumps({"config": CONFIG, "colour": "blue"}).encode(), {})

    assert answer.status_code == 422, answer.text
    assert [error["field"] for error in answer.json()["errors"]] == ["colour"]


@pytest.mark.parametrize("media_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_a_body_declared_as_another_type_is_unsupported(served: ServedApi, media_type: str) -> None:
    answer = _post(served, json.dumps({"config": CONFIG}).encode(), {"Content-Type": media_type})

    assert answer.status_code == 415, answer.text
    assert "Content-Type: application/json" in answer.json()["detail"]
