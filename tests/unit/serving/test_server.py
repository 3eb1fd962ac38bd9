"""The hosting contract over HTTP: /ping, /invocations, token counts, and a model that fails."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from maas.serving.__main__ import main
from maas.serving.server import INPUT_TOKENS_HEADER, OUTPUT_TOKENS_HEADER, InferenceServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(url: str, body: bytes | None = None, content_type: str = "application/json") -> Any:
    """The status, headers and JSON body of a GET (no body) or POST."""
    sent = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with DIRECT.open(sent, timeout=30) as answer:
            return answer.status, answer.headers, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[InferenceServer]:
    """The server on a free port, not yet loaded."""
    running = InferenceServer(tiny_model_dir, host="127.0.0.1", port=0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def url(server: InferenceServer) -> str:
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def loaded(server: InferenceServer, url: str) -> str:
    """The server's address once its model is loaded."""
    if server.service is None:
        server.load()
    return url


def test_ping_answers_503_until_the_model_is_loaded_then_200(
    server: InferenceServer, url: str
) -> None:
    if server.service is None:
        assert request(f"{url}/ping")[0] == 503

    server.load()

    status, _, answer = request(f"{url}/ping")
    assert (status, answer) == (200, {"status": "Healthy"})


def test_an_invocation_answers_with_generated_text_and_its_token_counts(loaded: str) -> None:
    body = json.dumps({"inputs": "Hello", "parameters": {"max_new_tokens": 3}}).encode()

    status, headers, answer = request(f"{loaded}/invocations", body)

    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert set(answer) == {"generated_text"}
    assert int(headers[INPUT_TOKENS_HEADER]) >= 1
    assert 1 <= int(headers[OUTPUT_TOKENS_HEADER]) <= 3


def test_a_bad_request_is_a_400_whose_message_names_the_field(loaded: str) -> None:
    body = json.dumps({"inputs": "Hi", "parameters": {"temperature": "hot"}}).encode()

    status, _, answer = request(f"{loaded}/invocations", body)

    assert status == 400
    assert answer["code"] == 400
    assert answer["type"] == "BadRequest"
    assert answer["message"].startswith("parameters.temperature: ")


def test_a_body_that_is_not_json_is_a_400(loaded: str) -> None:
    status, _, answer = request(f"{loaded}/invocations", b"\xff\xfe")

    assert status == 400
    assert answer["message"].startswith("body: not valid JSON")


def test_an_unknown_path_is_a_404(loaded: str) -> None:
    assert request(f"{loaded}/predict", b"{}")[0] == 404


def test_the_server_exits_1_when_the_model_cannot_be_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "config.json").write_text("{not json")

    assert main(["--model-dir", str(tmp_path), "--host", "127.0.0.1", "--port", "0"]) == 1
    assert f"the model in {tmp_path} could not be loaded" in caplog.text
