"""``maas local up`` serves the console on the API's port, and every command of docs/console.md
runs as written.

One ``maas local up`` process is started for the module (no saved state, no model servers);
the page's ``curl`` commands run in ``bash`` against it, its ``export`` commands set the
environment of what follows, and its ``maas console`` command is started as the page shows it,
pointed at that process's emulated account (ports 5000, 8000 and 8100 replaced by free ones).
Each command must succeed and print every line the page shows after it.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.docblocks import Example, runs
from tests.local.support import wait_until
from tests.local.test_local_cli import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

MAAS = Path(sys.executable).with_name("maas")
#: The ports the page names, each replaced by a free one.
DOCUMENTED_PORTS = ("5000", "8000", "8100")


@dataclass
class Process:
    """A ``maas`` process started by a test, and every line it printed so far."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, arguments: list[str], environment: dict[str, str]) -> Process:
        process = subprocess.Popen(
            arguments,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
        started = cls(process)
        threading.Thread(
            target=lambda: started.lines.extend(process.stdout or []), daemon=True
        ).start()
        return started

    def printed(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture(scope="module")
def ports() -> dict[str, str]:
    return {documented: str(free_port()) for documented in DOCUMENTED_PORTS}


@pytest.fixture(scope="module")
def local_up(ports: dict[str, str]) -> Iterator[Process]:
    environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
    arguments = ["--port", ports["5000"], "--api-port", ports["8000"]]
    process = Process.start(
        [str(MAAS), "local", "up", *arguments, "--no-keep-state", "--no-serve-models"],
        environment,
    )
    try:
        wait_until(lambda: process.printed("console:"), timeout=120)
        yield process
    finally:
        assert process.stop() == 0, process.lines


def fetch(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_local_up_serves_the_console_beside_the_api_without_a_token(
    local_up: Process, ports: dict[str, str]
) -> None:
    api = f"http://127.0.0.1:{ports['8000']}"
    assert local_up.printed(f"console: {api}/console")

    status, page = fetch(f"{api}/console/workflows")
    assert status == 200
    assert 'href="/console/workflows/maas-lifecycle"' in page
    status, page = fetch(f"{api}/console/executions/maas-lifecycle/acme_none")
    assert status == 404
    # The API beside it still wants a token; the console never invokes the API's function.
    assert fetch(f"{api}/v1/endpoints")[0] == 401
    assert fetch(f"{api}/console", Host="attacker.example")[0] == 403


EXAMPLES = [example for block in runs("docs/console.md", "console") for example in block.examples]


def test_the_page_shows_commands() -> None:
    programs = {example.program for example in EXAMPLES}
    assert {"maas", "curl", "export"} <= programs


def localized(text: str, ports: dict[str, str]) -> str:
    """``text`` with each port the page names replaced by the test's."""
    for documented, port in ports.items():
        text = text.replace(f":{documented}", f":{port}").replace(
            f"--port {documented}", f"--port {port}"
        )
    return text


def run_curl(example: Example, command: str, environment: dict[str, str]) -> None:
    ran = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    where = f"docs/console.md:{example.line}"
    assert ran.returncode == 0, (where, ran.stderr)
    for line in example.shown.splitlines():
        assert line.strip() in ran.stdout, (where, line, ran.stdout[:2000])


def start_maas(
    example: Example, command: str, environment: dict[str, str], port_map: dict[str, str]
) -> Process:
    process = Process.start(shlex.split(command), environment)
    expected = localized(example.shown.splitlines()[0].strip(), port_map)
    wait_until(lambda: process.printed(expected) or process.process.poll() is not None, timeout=60)
    assert process.printed(expected), (f"docs/console.md:{example.line}", process.lines)
    return process


def test_every_command_of_the_page_runs_as_shown(local_up: Process, ports: dict[str, str]) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
    environment["PATH"] = f"{MAAS.parent}{os.pathsep}{environment.get('PATH', '')}"
    started: list[Process] = []
    try:
        for example in EXAMPLES:
            command = localized(example.command, ports)
            if command.startswith("maas local up"):
                # The module's process, started with free ports: it printed what the page shows.
                for line in example.shown.splitlines():
                    assert local_up.printed(localized(line.strip(), ports)), (
                        example,
                        local_up.lines,
                    )
            elif example.program == "export":
                for assignment in shlex.split(command)[1:]:
                    name, _, value = assignment.partition("=")
                    environment[name] = value
            elif example.program == "maas":
                started.append(start_maas(example, command, environment, ports))
            else:
                run_curl(example, command, environment)
    finally:
        for process in started:
            assert process.stop() == 0, process.lines


def test_maas_console_on_a_taken_port_ends_at_once_naming_it(
    local_up: Process, ports: dict[str, str]
) -> None:
    ran = subprocess.run(
        [str(MAAS), "console", "--port", ports["8000"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ran.returncode == 1
    assert f"console not started: port {ports['8000']} on 127.0.0.1 is already in use" in ran.stdout
