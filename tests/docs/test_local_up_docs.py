"""The README's and docs/api.md's ``maas local up`` blocks, run as written on free ports.

One ``maas local up`` process serves the module (the README's ``make up`` is ``.venv/bin/maas
local up``, which its comment names: ``make`` would first check the whole installation), with
a state directory of its own, so that the account starts empty as a newcomer's does. Ports
5000 and 8000 are replaced by free ones, in the commands and in what the pages show. It must
print what docs/api.md shows, and the README's commands must answer what the README shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.console.test_console_docs import Process
from tests.docblocks import ROOT, containing, runs
from tests.docs.support import bash, environment
from tests.local.support import wait_until
from tests.local.test_local_cli import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

(README,) = runs("README.md", "console", containing("make up"))
(API_PAGE,) = runs("docs/api.md", "console", containing("local API up at"))


@pytest.fixture(scope="module")
def ports() -> dict[str, str]:
    return {"5000": str(free_port()), "8000": str(free_port())}


def localized(text: str, ports: dict[str, str]) -> str:
    for documented, port in ports.items():
        text = text.replace(f":{documented}", f":{port}")
    return text


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    variables = environment(MAAS_LOCAL_STATE_DIR=str(tmp_path_factory.mktemp("state")))
    for variable in ("AWS_ENDPOINT_URL", "MAAS_API_URL", "MAAS_TOKEN"):
        variables.pop(variable, None)
    return variables


@pytest.fixture(scope="module")
def local_up(ports: dict[str, str], env: dict[str, str]) -> Iterator[Process]:
    (start,) = [e for e in README.examples if e.command.startswith("make up")]
    command = start.command.split("# or: ", 1)[1].split()
    assert command == [".venv/bin/maas", "local", "up"]
    process = Process.start(
        [
            str(ROOT / command[0]),
            *command[1:],
            "--port",
            ports["5000"],
            "--api-port",
            ports["8000"],
        ],
        env,
    )
    try:
        wait_until(lambda: process.printed("Swagger UI") or process.process.poll() is not None, 120)
        yield process
    finally:
        assert process.stop() == 0, process.lines


def test_local_up_prints_what_the_api_page_shows(local_up: Process, ports: dict[str, str]) -> None:
    (start,) = API_PAGE.examples
    assert start.command.split("#", 1)[0].strip() == "maas local up"
    for line in start.shown.splitlines():
        if line.strip() != "...":
            assert local_up.printed(localized(line.rstrip(), ports)), (line, local_up.lines)


def test_the_readmes_commands_answer_what_it_shows(
    local_up: Process, ports: dict[str, str], env: dict[str, str], tmp_path: Path
) -> None:
    commands = [e for e in README.examples if not e.command.startswith("make up")]
    script = "\n".join(localized(e.command, ports) for e in commands)

    printed = bash(script, env={**env, "HOME": str(tmp_path)}, where=README.where)

    assert printed.strip() == commands[-1].shown.strip()
