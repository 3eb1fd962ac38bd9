"""``import maas.sdk`` loads the client and the schemas it parses, not the server's code.

A client installed to call the API must not need what the control plane runs on (boto3,
the evaluation and registry packages, ragas, torch): each is checked in a fresh interpreter,
where nothing else has imported it first.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Packages of the server (or what they pull in) that a client import must leave unloaded.
SERVER_PACKAGES = (
    "boto3",
    "botocore",
    "aws_lambda_powertools",
    "maas.evaluation",
    "maas.registry",
    "maas.pipeline",
    "maas.advisor",
    "maas.local",
    "functions",
    "ragas",
    "torch",
    "transformers",
    "moto",
)

_PROBE = """
import json, sys
import maas.sdk
from maas.sdk import MaasClient
MaasClient("http://api.test", "t0ken").close()
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_sdk_loads_no_server_module() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(probe.stdout)

    server = [
        name
        for name in loaded
        if any(name == package or name.startswith(f"{package}.") for package in SERVER_PACKAGES)
    ]
    assert server == []
    assert "maas.sdk.client" in loaded
