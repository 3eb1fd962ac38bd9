"""What enforcing the tenant access role's statements costs per call, against not enforcing.

A tenant session (the API function's, ``maas.tenancy``) reads its own item (``GetItem``,
whose statement tests ``dynamodb:LeadingKeys``) and its own endpoint (``DescribeEndpoint``,
which reads the endpoint's tags for ``aws:ResourceTag``) many times, with enforcement off and
on, in one runtime of this run, the two alternating over several rounds. Prints the median
milliseconds per call of each and their ratio.

Run: ``python benchmarks/iam_enforcement.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.local import LocalRuntime, LocalSettings, iam_enforcement
from maas.manifest import MANIFEST
from maas.tenancy import TenantSessions

ROUNDS = 5
CALLS = 300
ROLE = "TenantAccessRole"


def ms_per_call(call: Any) -> float:
    """Milliseconds per call of ``call``, over :data:`CALLS` calls."""
    started = time.perf_counter()
    for _ in range(CALLS):
        call()
    return (time.perf_counter() - started) * 1000 / CALLS


def prepare(runtime: LocalRuntime) -> tuple[str, str]:
    """An item and an endpoint of tenant acme's; their table and endpoint names."""
    table = runtime.resources.tables["ModelsTable"]
    runtime.client("dynamodb").put_item(
        TableName=table, Item={"pk": {"S": "TENANT#acme"}, "sk": {"S": "MODEL#chat"}}
    )
    sagemaker = runtime.client("sagemaker")
    sagemaker.create_model(
        ModelName="bench",
        ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        PrimaryContainer={"Image": "image:latest"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="bench",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "bench",
                "InstanceType": "ml.g5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName="acme-chat",
        EndpointConfigName="bench",
        Tags=[{"Key": "maas:tenant", "Value": "acme"}],
    )
    return table, "acme-chat"


def measure(runtime: LocalRuntime, table: str, endpoint: str) -> dict[str, float]:
    """Milliseconds per call of each operation, with a tenant session made now."""
    tenant = TenantSessions(runtime.resources.roles[ROLE], runtime.client("sts")).for_tenant("acme")
    dynamodb, sagemaker = tenant.client("dynamodb"), tenant.client("sagemaker")
    key = {"pk": {"S": "TENANT#acme"}, "sk": {"S": "MODEL#chat"}}
    return {
        "GetItem": ms_per_call(lambda: dynamodb.get_item(TableName=table, Key=key)),
        "DescribeEndpoint": ms_per_call(lambda: sagemaker.describe_endpoint(EndpointName=endpoint)),
    }


def main() -> int:
    """Print the figures; 0."""
    settings = LocalSettings(serve_models=False, enforce_iam=False)
    manifest = MANIFEST.model_copy(update={"functions": (), "state_machines": (), "rules": ()})
    off: dict[str, list[float]] = {"GetItem": [], "DescribeEndpoint": []}
    on: dict[str, list[float]] = {"GetItem": [], "DescribeEndpoint": []}
    with LocalRuntime(settings, manifest) as runtime:
        table, endpoint = prepare(runtime)
        for _ in range(ROUNDS):
            for operation, value in measure(runtime, table, endpoint).items():
                off[operation].append(value)
            with ExitStack() as stack:
                enforcement = iam_enforcement.enforce_roles(runtime.resources, lambda _: None)
                iam_enforcement.install(stack, enforcement)
                for operation, value in measure(runtime, table, endpoint).items():
                    on[operation].append(value)
    print(f"{'tenant session call':20} {'off (ms)':>9} {'on (ms)':>9} {'ratio':>6}")
    for operation, baselines in off.items():
        baseline, enforced = statistics.median(baselines), statistics.median(on[operation])
        print(f"{operation:20} {baseline:9.3f} {enforced:9.3f} {enforced / baseline:6.2f}")
    print(f"(medians of {ROUNDS} rounds of {CALLS} calls, off and on alternating)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
