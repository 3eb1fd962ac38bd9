"""``maas local up``: the emulation served to other processes until Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import boto3

from tests.local.support import wait_until

MAAS = Path(sys.executable).with_name("maas")


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_local_up_serves_the_runtime_until_interrupted() -> None:
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
    process = subprocess.Popen(
        [str(MAAS), "local", "up", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("local runtime up" in line for line in lines), timeout=60)
        url = f"http://127.0.0.1:{port}"
        assert any(url in line for line in lines if "local runtime up" in line), lines

        stepfunctions = boto3.client(
            "stepfunctions",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        names = {
            machine["name"] for machine in stepfunctions.list_state_machines()["stateMachines"]
        }
        assert {"maas-deploy-endpoint", "maas-teardown"} <= names

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    assert "local runtime stopped" in lines[-1]
