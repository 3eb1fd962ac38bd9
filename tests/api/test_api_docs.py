"""Every ``curl`` example of docs/api.md, run as written against the local API over HTTP.

A newcomer copies the examples into a shell with ``maas local up`` running: here each console
block's ``curl`` and ``export`` commands run in ``bash`` with ``API`` and ``TOKEN`` set (what
the page asks the reader to set, with ``ARTIFACTS``), ``maas`` on the ``PATH`` and the API's
port where the page says 8000. The page's premises are set up first: the endpoint
``glm4-chat`` in service (the tiny random Llama), the corpus ``faq.jsonl`` in the tenant's
folder of the artifacts bucket. Each answer must be a success, JSON, with every key the page
shows in its answer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from maas.guardrails import GuardrailChecker, resolve_guardrail
from maas.local import LocalRuntime, LocalSettings
from maas.pipeline.local_embedder import LocalEmbedder
from tests.api.caller import ApiCaller, deploy_in_service
from tests.docblocks import ROOT, Block, Example, runs
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from tests.api.served import ServedApi

PAGE = "docs/api.md"
DOC = ROOT / PAGE
#: Where the page says ``maas local up`` serves the API.
DOCUMENTED_URL = "http://127.0.0.1:8000"
#: The programs of the commands run; the others (``maas local up``, ``npm``) are the fixture's
#: or another page's.
RUN = ("curl", "export")
CORPUS = [
    {"id": "warranty", "text": "The warranty covers manufacturing defects for two years."},
    {"id": "returns", "text": "Items can be returned within thirty days."},
]
_MARK = "@@example"
_STATUS = "@@status"


def _has_curl(block: Block) -> bool:
    return any(example.program == "curl" for example in block.examples)


#: The page's console blocks with a ``curl``: their ``curl`` and ``export`` commands run.
BLOCKS = runs(PAGE, "console", _has_curl)
EXAMPLES = [[item for item in block.examples if item.program in RUN] for block in BLOCKS]


def test_the_page_has_curl_examples() -> None:
    commands = [item.command for block in EXAMPLES for item in block if item.program == "curl"]
    assert len(commands) >= 3
    assert any("/invoke" in command for command in commands)


@pytest.fixture(scope="module")
def runtime(serving_runtime: LocalRuntime) -> LocalRuntime:
    """The model-serving runtime this module shares (its endpoint: ``glm4-chat``)."""
    return serving_runtime


@pytest.fixture(scope="module")
def state_dir(serving_state_dir: Path) -> Path:
    """Where ``maas local token`` finds the key the served API checks tokens with."""
    return serving_state_dir


@pytest.fixture(scope="module")
def served(
    runtime: LocalRuntime,
    serving_api: ServedApi,
    tiny_model_dir: Path,
) -> ServedApi:
    """The page's premises: ``glm4-chat`` in service, the tenant's corpus ``faq.jsonl``."""
    api = ApiCaller(runtime)
    version = register_served_version(runtime, "glm-4-9b-chat", tiny_model_dir)
    bucket = version.artifact_uri.removeprefix("s3://").partition("/")[0]
    s3 = runtime.client("s3")
    corpus = "\n".join(json.dumps(document) for document in CORPUS).encode()
    s3.put_object(Bucket=bucket, Key="acme/faq.jsonl", Body=corpus)
    deploy_in_service(api, "glm4-chat", "glm-4-9b-chat", version.version, lambda: _warm_up(runtime))
    return serving_api


def _warm_up(runtime: LocalRuntime) -> None:
    # As tests.api.test_api_invoke: a warm function has the embedder and the guardrail loaded;
    # a cold one would spend its first request's seconds loading them.
    LocalEmbedder().embed(["warm"], purpose="query")
    ref = resolve_guardrail(
        "acme", stage=LocalSettings().setting_values()["stage_name"], ssm=runtime.client("ssm")
    )
    assert ref is not None
    GuardrailChecker(ref, client=runtime.client("bedrock-runtime")).check("warm", "INPUT")


@pytest.mark.parametrize("block", EXAMPLES, ids=[f"line-{block[0].line}" for block in EXAMPLES])
def test_the_examples_answer_as_the_page_shows(
    runtime: LocalRuntime,
    served: ServedApi,
    state_dir: Path,
    tmp_path: Path,
    block: list[Example],
) -> None:
    variables = {
        "API": served.url,
        "TOKEN": served.token,
        "ARTIFACTS": runtime.resources.buckets["ArtifactsBucket"],
        "MAAS_LOCAL_STATE_DIR": str(state_dir),
    }
    outputs = _run(block, served.url, variables, tmp_path)

    for example, (status, body) in zip(block, outputs, strict=True):
        if example.program != "curl":
            continue
        where = f"docs/api.md:{example.line}"
        assert 200 <= status < 300, f"{where}: {status} {body}"
        answer = _answer(body)
        missing = _shown_keys(example.shown) - _keys(answer)
        assert not missing, f"{where}: the page shows {sorted(missing)}, not answered: {body}"


def _run(
    block: list[Example], url: str, variables: dict[str, str], home: Path
) -> list[tuple[int, str]]:
    """Run the block's commands in one shell; each one's status (0 if not curl) and output."""
    # curl reads its options from $CURL_HOME/.curlrc as well: the status comes after the body
    # without changing the commands the page shows.
    (home / ".curlrc").write_text(f'write-out = "\\n{_STATUS} %{{http_code}}\\n"\n')
    script = ["set -e"]
    for example in block:
        script.append(f"echo {_MARK}")
        script.append(example.command.replace(DOCUMENTED_URL, url))
    environment = {
        **os.environ,
        **variables,
        "CURL_HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    ran = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    outputs = []
    for part in ran.stdout.split(f"{_MARK}\n")[1:]:
        body, _, status = part.rpartition(f"\n{_STATUS} ")
        outputs.append((int(status.strip()), body) if status else (0, part))
    return outputs


def _answer(body: str) -> Any:
    """The JSON answer; a stream's (server-sent events, ``data: {...}``) as its events."""
    if body.startswith("data: "):
        events = [line.removeprefix("data: ") for line in body.splitlines() if line]
        assert events[-1] == "[DONE]", f"the stream did not end with [DONE]: {body}"
        return [json.loads(event) for event in events if event.startswith("{")]
    return json.loads(body)


def _shown_keys(shown: str) -> set[str]:
    return set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)":', shown))


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(item) for item in value))
    return set()
