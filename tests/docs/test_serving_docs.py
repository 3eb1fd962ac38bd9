"""docs/serving.md's command starts the model server, which answers the page's two requests.

The command runs as written but for the page's placeholders: ``DIR`` is the tiny packaged
Llama, port 8080 a free one. Once ``/ping`` is healthy, the page's text-generation and chat
bodies (its ``json`` blocks) are sent to ``/invocations`` and answered in the shapes the page
describes.
"""

from __future__ import annotations

import json
import signal
import subprocess
from typing import TYPE_CHECKING, Any

import httpx

from tests.docblocks import ROOT, containing, page_blocks, runs
from tests.docs.support import environment
from tests.local.support import wait_until
from tests.local.test_local_cli import free_port

if TYPE_CHECKING:
    from pathlib import Path

PAGE = "docs/serving.md"
(COMMAND,) = runs(PAGE, "bash", containing("python -m maas.serving"))
(GENERATE,) = [b for b in page_blocks(PAGE) if b.info == "json" and '"inputs"' in b.text]
(CHAT,) = [b for b in page_blocks(PAGE) if b.info == "json" and '"messages"' in b.text]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ping", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _invoke(url: str, body: dict[str, Any]) -> Any:
    answer = httpx.post(f"{url}/invocations", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    assert int(answer.headers["X-Maas-Input-Tokens"]) > 0
    return answer.json()


def test_the_server_starts_and_answers_the_pages_requests(tiny_model_dir: Path) -> None:
    port = free_port()
    command = COMMAND.text.replace("DIR", str(tiny_model_dir)).replace("8080  ", f"{port}  ")
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _healthy(url) or server.poll() is not None, timeout=120)
        assert server.poll() is None, server.stderr.read() if server.stderr else ""

        generated = _invoke(url, json.loads(GENERATE.text))
        chat = _invoke(url, json.loads(CHAT.text))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert isinstance(generated["generated_text"], str)
    assert chat["object"] == "chat.completion"
    assert chat["choices"][0]["message"]["role"] == "assistant"
    assert chat["usage"]["completion_tokens"] <= 32
