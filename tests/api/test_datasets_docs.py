"""docs/datasets.md, run as written against the local API served over HTTP.

The ``console`` blocks run in ``bash`` from the repository's folder, in the page's order, with
``API``, ``TOKEN`` and ``ARTIFACTS`` set as the page asks (and ``MAAS_API_URL``/``MAAS_TOKEN``
for the ``maas`` commands). The page's premises are set up first: the tenant's file
``acme/support/questions.jsonl`` in the artifacts bucket (a copy of
``docs/examples/support-questions.jsonl``), and the endpoint ``glm4-chat`` it evaluates, in
service. A ``curl`` answer must have the status the page shows (``"status": 422``), else a
success, and every key the page shows, with every value it spells out (``"version": 2``); a
``maas`` command must exit 0 and print each line the page shows after it. The Python block
runs as written.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from maas.local import LocalRuntime
from tests.api.caller import ApiCaller
from tests.api.served import serve
from tests.docblocks import ROOT, containing, runs
from tests.local.support import wait_until
from tests.workflows.conftest import FAST
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.api.served import ServedApi
    from tests.docblocks import Example

PAGE = "docs/datasets.md"
CONSOLE = runs(PAGE, "console")
(PYTHON,) = runs(PAGE, "python", containing("create_dataset"))
DOCUMENTED_URL = "http://127.0.0.1:8000"
#: The page's premise: this file is the tenant's ``acme/support/questions.jsonl``.
QUESTIONS = ROOT / "docs" / "examples" / "support-questions.jsonl"
_MARK = "@@example"
_STATUS = "@@status"
#: ``"key": value`` pairs the page spells out (a string with ``...`` or ``<`` is elided).
_PAIR = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)": ("[^"]*"|-?\d+|true|false|null)')


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(FAST) as local:
        yield local


@pytest.fixture(scope="module")
def served(
    runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ServedApi, str]:
    state_dir = tmp_path_factory.mktemp("state")
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    runtime.client("s3").put_object(
        Bucket=bucket, Key="acme/support/questions.jsonl", Body=QUESTIONS.read_bytes()
    )
    # The endpoint the page evaluates, in service (a placeholder model: the page shows the
    # evaluation accepted, planned from the dataset version, not its scores).
    register_version(runtime, "glm-4-9b-chat")
    api = ApiCaller(runtime)
    deployed = api(
        "POST",
        "/v1/endpoints",
        body={"endpoint_name": "glm4-chat", "model": {"model_name": "glm-4-9b-chat", "version": 1}},
    )
    assert deployed.status == 202, deployed.body
    wait_until(
        lambda: api("GET", "/v1/endpoints/glm4-chat").body.get("status") == "IN_SERVICE",
        timeout=60,
        interval=0.5,
    )
    return serve(runtime, state_dir), bucket


def test_the_page_shows_each_operation() -> None:
    commands = " ".join(example.command for block in CONSOLE for example in block.examples)
    for operation in ("-X POST $API/v1/datasets ", "/versions", "-X DELETE", "maas datasets"):
        assert operation in commands


def test_the_console_examples_answer_as_the_page_shows(
    served: tuple[ServedApi, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    api, bucket = served
    home = tmp_path_factory.mktemp("curl")
    (home / ".curlrc").write_text(f'write-out = "\\n{_STATUS} %{{http_code}}\\n"\n')
    variables = _environment(
        API=api.url,
        TOKEN=api.token,
        ARTIFACTS=bucket,
        MAAS_API_URL=api.url,
        MAAS_TOKEN=api.token,
        MAAS_CONFIG=str(home / "no-profiles.toml"),
        CURL_HOME=str(home),
    )
    for block in CONSOLE:
        for example, (status, output) in zip(
            block.examples, _run(block.examples, api.url, variables), strict=True
        ):
            where = f"{PAGE}:{example.line}"
            if example.program == "curl":
                _check_curl(where, example.shown, status, output)
            else:
                assert status == 0, f"{where}: exit {status}\n{output}"
                _check_printed(where, example.shown, output)


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment, the project's programs (``maas``) first, wide tables."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "COLUMNS": "200", **extra}


def _run(examples: list[Example], url: str, variables: dict[str, str]) -> list[tuple[int, str]]:
    """Each command's status (curl: HTTP; others: exit) and output, run in one shell."""
    script = []
    for example in examples:
        command = example.command.replace(DOCUMENTED_URL, url)
        script.append(f"echo {_MARK}")
        if example.program == "curl":
            script.append(command)
        else:
            script.append(f"{{ {command}\n}} 2>&1 && echo {_STATUS} 0 || echo {_STATUS} $?")
    ran = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=variables,
        timeout=180,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    outputs = []
    for part in ran.stdout.split(f"{_MARK}\n")[1:]:
        body, _, status = part.rpartition(f"{_STATUS} ")
        outputs.append((int(status.strip()), body.rstrip("\n")))
    return outputs


def _check_curl(where: str, shown: str, status: int, body: str) -> None:
    answer = json.loads(body)
    expected = re.search(r'"status": (\d+)', shown)
    if expected:
        assert status == int(expected[1]), f"{where}: {status} {body}"
    else:
        assert 200 <= status < 300, f"{where}: {status} {body}"
    pairs = _pairs(answer)
    for name, value in _PAIR.findall(shown):
        if value.startswith('"') and ("..." in value or "<" in value):
            assert any(key == name for key, _ in pairs), f"{where}: no {name} in {body}"
        else:
            shown_pair = (name, json.loads(value))
            assert shown_pair in pairs, f"{where}: the page shows {name}: {value}, not: {body}"


def _pairs(value: Any) -> list[tuple[str, Any]]:
    """Every (key, value) of a JSON document, however deep."""
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in [(key, item), *_pairs(item)]]
    if isinstance(value, list):
        return [pair for item in value for pair in _pairs(item)]
    return []


def _check_printed(where: str, shown: str, output: str) -> None:
    printed = " ".join(output.split())
    for line in shown.splitlines():
        if line.strip() and line.strip() != "...":
            assert " ".join(line.split()) in printed, f"{where}: {line!r} not in:\n{output}"


def test_the_python_example_runs_as_written(
    served: tuple[ServedApi, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    api, _ = served
    monkeypatch.setenv("MAAS_API_URL", api.url)
    monkeypatch.setenv("MAAS_TOKEN", api.token)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path_factory.mktemp("cfg") / "none.toml"))
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(PYTHON.text, PYTHON.where, "exec"), {})  # the page's own code

    lines = printed.getvalue().splitlines()
    assert lines[0] == "1 1 True"
    assert "prefs" in lines[1]
    assert lines[2] == "1"
