"""The emulation over HTTP: other processes reach the same emulated account."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from maas.manifest import MANIFEST, Manifest
from tests.local.support import unique

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    """The whole product: its workflows are what another process should find."""
    return MANIFEST


LIST_STATE_MACHINES = """
import json, boto3
machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
print(json.dumps(sorted(machine["name"] for machine in machines)))
"""


def test_another_process_sees_the_same_account_through_the_endpoint_url(
    runtime: LocalRuntime, create_state_machine: Callable[[dict[str, Any]], str]
) -> None:
    created = create_state_machine(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    ).rsplit(":", 1)[1]

    listed = subprocess.run(
        [sys.executable, "-c", LIST_STATE_MACHINES],
        env={**os.environ, **runtime.aws_environment()},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    names = json.loads(listed.stdout)
    assert created in names
    assert {"maas-deploy-endpoint", "maas-teardown"} <= set(names)


def test_what_another_process_creates_is_seen_in_process(runtime: LocalRuntime) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    key = f"{unique('from-outside')}.txt"
    script = (
        "import boto3, sys; "
        "boto3.client('s3').put_object(Bucket=sys.argv[1], Key=sys.argv[2], Body=b'hello')"
    )

    subprocess.run(
        [sys.executable, "-c", script, bucket, key],
        env={**os.environ, **runtime.aws_environment()},
        timeout=60,
        check=True,
    )

    assert runtime.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"hello"


def test_the_endpoint_url_is_one_server_on_the_loopback(runtime: LocalRuntime) -> None:
    first = runtime.endpoint_url()

    assert runtime.endpoint_url() == first
    assert first.startswith("http://127.0.0.1:")
    assert runtime.aws_environment()["AWS_ENDPOINT_URL"] == first
