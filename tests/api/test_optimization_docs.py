"""Every command and request of docs/optimization.md, run as written against the local API.

The page's premise, version 1 of ``smollm2`` registered, is the tiny random Llama (with
SmolLM2's tokenizer, its positions raised to SmolLM2's 8192 so that the default serving
preferences fit it): each quantization then runs whole in seconds. The ``curl`` block runs
in ``bash`` as ``tests/api/test_api_docs.py`` runs docs/api.md's (``API`` and ``TOKEN`` set)
and must succeed with every key the page shows; the ``maas`` commands run with the connection
in the environment and must exit 0. The ``python`` block runs with the connection in the
environment. The benchmark's command runs as written on the tiny model (``--model-dir``, and
fewer tokens: the demo model's run takes minutes).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maas.executions import wait_for_execution
from maas.registry import ModelRegistry
from schemas.packaging import VersionStatus
from tests.api.served import serve
from tests.api.test_api_docs import _answer, _keys, _run, _shown_keys
from tests.docblocks import ROOT, containing, runs
from tests.serving_models import tiny_model_dir
from tests.workflows.conftest import FAST
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from maas.local import LocalRuntime
    from tests.api.served import ServedApi
    from tests.docblocks import Example

__all__ = ["tiny_model_dir"]

PAGE = "docs/optimization.md"
DOC = ROOT / PAGE
BLOCKS = [block.examples for block in runs(PAGE, "console")]
CURL_BLOCKS = [block for block in BLOCKS if block[0].program == "curl"]
CLI_BLOCKS = [block for block in BLOCKS if block[0].command.startswith("maas versions")]
#: The advisor's commands (sizing a quantized version, speculative decoding): offline.
RECOMMEND = [
    item for block in BLOCKS for item in block if item.command.startswith("maas recommend")
]
(QUANTIZE,) = runs(PAGE, "python", containing("quantize_version"))
(NEURON,) = runs(PAGE, "python", containing("check_neuron_compilation"))
[BENCHMARK] = [item for block in BLOCKS for item in block if item.program == "python"]


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    from maas.local import LocalRuntime

    with LocalRuntime(FAST) as local:
        yield local


@pytest.fixture(scope="module")
def smollm2(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, holding SmolLM2's 8192 positions."""
    folder = Path(shutil.copytree(tiny_model_dir, tmp_path_factory.mktemp("smollm2") / "m"))
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "max_position_embeddings": 8192}))
    return folder


@pytest.fixture(scope="module")
def served(
    runtime: LocalRuntime, smollm2: Path, tmp_path_factory: pytest.TempPathFactory
) -> ServedApi:
    register_served_version(runtime, "smollm2", smollm2)
    return serve(runtime, tmp_path_factory.mktemp("state"))


def test_the_page_shows_the_api_the_cli_the_sdk_and_the_benchmark() -> None:
    programs = {item.program for block in BLOCKS for item in block}
    assert {"curl", "maas", "python"} <= programs
    assert "quantize_version" in DOC.read_text()


def test_the_curl_request_answers_as_the_page_shows_and_makes_a_version(
    runtime: LocalRuntime, served: ServedApi, tmp_path: Path
) -> None:
    (block,) = CURL_BLOCKS
    variables = {"API": served.url, "TOKEN": served.token}
    outputs = _run(block, served.url, variables, tmp_path)
    for example, (status, body) in zip(block, outputs, strict=True):
        where = f"docs/optimization.md:{example.line}"
        assert 200 <= status < 300, f"{where}: {status} {body}"
        missing = _shown_keys(example.shown) - _keys(_answer(body))
        assert not missing, f"{where}: the page shows {sorted(missing)}: {body}"
        execution = wait_for_execution(
            runtime.client("stepfunctions"), json.loads(body)["execution_arn"], timeout_seconds=300
        )
        assert execution.status == "SUCCEEDED", f"{where}: {execution.cause}"
    assert_latest_version_measured(runtime)


def test_the_cli_commands_quantize_and_show_the_lineage(
    runtime: LocalRuntime, served: ServedApi, tmp_path: Path
) -> None:
    (block,) = CLI_BLOCKS
    environment = {
        **os.environ,
        "MAAS_API_URL": served.url,
        "MAAS_TOKEN": served.token,
        "MAAS_CONFIG": str(tmp_path / "no-profiles.toml"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "200",
    }
    outputs = _outputs(block, environment, timeout=600)
    # The show command prints the version's lineage with its measurements.
    assert "W8A16 quantization of version 1 (compressed-tensors 0." in outputs[-1]
    assert "perplexity" in outputs[-1]
    assert_latest_version_measured(runtime)


def assert_latest_version_measured(runtime: LocalRuntime) -> None:
    """The newest version of smollm2 is REGISTERED with its measured lineage."""
    registry = ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    latest = registry.list_versions("acme", "smollm2")[-1]
    assert latest.status is VersionStatus.REGISTERED
    assert latest.lineage is not None and latest.lineage.measurements is not None


def test_the_sdk_example_starts_a_quantization(
    served: ServedApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    block = QUANTIZE.text
    monkeypatch.setenv("MAAS_API_URL", served.url)
    monkeypatch.setenv("MAAS_TOKEN", served.token)
    monkeypatch.setenv("MAAS_CONFIG", str(tmp_path / "no-profiles.toml"))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, QUANTIZE.where, "exec"), {})  # the page's own code
    assert printed.getvalue().startswith("/v1/executions/quantize-model/acme_")


def test_the_benchmark_command_prints_each_scheme(smollm2: Path) -> None:
    command = [sys.executable, *BENCHMARK.command.split()[1:]]
    ran = subprocess.run(
        [*command, "--model-dir", str(smollm2), "--tokens", "4", "--rounds", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TQDM_DISABLE": "1"},
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    rows = [line for line in ran.stdout.splitlines() if " | " in line]
    assert rows[0].startswith("scheme")
    assert [row.split(" | ")[0].strip() for row in rows[1:]] == ["W8A16", "W4A16", "FP8_DYNAMIC"]
    assert all("tokens/s" not in row and "->" in row for row in rows[1:])


def _outputs(examples: Iterable[Example], environment: dict[str, str], timeout: float) -> list[str]:
    """What each of the page's commands printed, run in ``bash`` from the checkout; each must
    exit 0."""
    outputs = []
    for example in examples:
        ran = subprocess.run(
            ["bash", "-c", example.command],
            capture_output=True,
            text=True,
            env=environment,
            cwd=ROOT,
            timeout=timeout,
            check=False,
        )
        assert ran.returncode == 0, f"docs/optimization.md:{example.line}: {ran.stderr}"
        outputs.append(ran.stdout)
    return outputs


def test_the_advisor_commands_size_a_quantized_version_and_choose_a_draft() -> None:
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "400",
    }
    outputs = _outputs(RECOMMEND, environment, timeout=120)
    quantized, speculative = outputs
    assert "compressed-tensors W4A16: the checkpoint is already quantized" in quantized
    assert "ml.g5.xlarge" in quantized
    assert "Qwen/Qwen3-0.6B drafts 3 tokens per step" in speculative
    assert "an estimated x1.68 decode speed-up" in speculative
    assert "Neuron compiles 12 graphs" in speculative
    # What the page says of the bf16 version with the same options.
    bf16 = RECOMMEND[0].command.replace(
        "docs/examples/llama-3.1-8b-instruct-w4a16.config.json",
        "tests/unit/advisor/configs/llama-3.1-8b-instruct.json",
    )
    ran = subprocess.run(
        ["bash", "-c", bf16],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 1
    assert "none of ml.g5.xlarge can serve 4 sequence(s) of 8192 tokens" in ran.stderr


def test_the_neuron_compilation_check_runs_as_the_page_shows() -> None:
    block = NEURON.text
    printed = io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(printed):
        exec(compile(block, NEURON.where, "exec"), {})  # the page's own code
    first, message = printed.getvalue().splitlines()
    graphs, seconds, runs_here = first.split()
    assert (graphs, runs_here) == ("12", "False")
    assert int(seconds) > 0
    assert message.startswith("compiling it needs Neuron hardware")
