"""``maas local up`` as a process: a taken port fails at once, a stop is prompt and complete.

The runtime stands in for AWS endpoints; the behaviour pinned here is the process's own
(issue 17): a port already in use ends the command at once with the port named and a
non-zero status; SIGTERM, as Ctrl-C, stops it within 5 s with no process it started left
running, a Batch job's command included (on AWS a job belongs to the service, never to the
caller's shell: "Job states", https://docs.aws.amazon.com/batch/latest/userguide/job_states.html).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import psutil

from tests.local.support import wait_until

MAAS = Path(sys.executable).with_name("maas")
#: A Batch job's command that runs until it is stopped; its marker finds the process.
SLEEPER_MARKER = "maas-conformance-sleeper"
SLEEPER = ["python", "-c", f"import time; time.sleep(120)  # {SLEEPER_MARKER}"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}


class _Running:
    """``maas local up`` started as a process, with its output collected line by line."""

    def __init__(self, *arguments: str) -> None:
        self.port, self.api_port = _free_port(), _free_port()
        self.process = subprocess.Popen(
            [
                str(MAAS),
                "local",
                "up",
                "--port",
                str(self.port),
                "--api-port",
                str(self.api_port),
                "--no-serve-models",
                *arguments,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_environment(),
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(self.process.stdout or []), daemon=True
        )
        self._reader.start()

    def wait_up(self) -> None:
        wait_until(lambda: any("Ctrl-C stops it" in line for line in self.lines), timeout=90)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=f"http://127.0.0.1:{self.port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)


def _sleepers() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(SLEEPER_MARKER in part for part in process.info["cmdline"] or []):
            found.append(process)
    return found


def test_a_port_in_use_fails_at_once_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()

        completed = subprocess.run(
            [str(MAAS), "local", "up", "--port", str(port), "--no-serve-models"],
            capture_output=True,
            text=True,
            env=_environment(),
            timeout=60,
            check=False,
        )

    elapsed = time.monotonic() - started
    output = " ".join((completed.stdout + completed.stderr).split())
    assert completed.returncode == 1, output
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output
    # Before the runtime provisions anything (that alone takes longer than this).
    assert elapsed < 8, elapsed


def test_sigterm_stops_within_5_seconds_and_leaves_no_job_running() -> None:
    running = _Running()
    try:
        running.wait_up()
        batch = running.client("batch")
        queue = batch.describe_job_queues()["jobQueues"][0]["jobQueueArn"]
        definition = batch.register_job_definition(
            jobDefinitionName="conformance-sleeper",
            type="container",
            containerProperties={"image": "sleeper", "vcpus": 1, "memory": 128, "command": SLEEPER},
        )["jobDefinitionArn"]
        batch.submit_job(jobName="sleeper", jobQueue=queue, jobDefinition=definition)
        sleepers = wait_until(_sleepers, timeout=30)
        assert all(
            running.process.pid in {parent.pid for parent in sleeper.parents()}
            for sleeper in sleepers
        )

        running.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        status = running.process.wait(timeout=5)

        assert status == 0
        assert time.monotonic() - started < 5
        _, alive = psutil.wait_procs(sleepers, timeout=1)
        assert not alive, [process.pid for process in alive]
        assert "local runtime stopped" in running.lines[-1]
    finally:
        running.close()
        for sleeper in _sleepers():
            sleeper.kill()


def test_a_second_signal_does_not_cut_the_stop_short() -> None:
    running = _Running()
    try:
        running.wait_up()

        running.process.send_signal(signal.SIGTERM)
        running.process.send_signal(signal.SIGINT)
        status = running.process.wait(timeout=5)

        assert status == 0
        running._reader.join(timeout=5)
        assert "local runtime stopped" in running.lines[-1]
        assert not any("Traceback" in line for line in running.lines)
    finally:
        running.close()
