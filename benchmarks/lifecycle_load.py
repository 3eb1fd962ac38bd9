"""Many lifecycles at once on the local runtime: throughput, the slowest one, no cross-talk.

Starts ``--count`` lifecycles (50 by default) together, each packaging its own tiny Llama
checkpoint under its own model name and deploying it on its own endpoint, then tearing it
down. Prints executions completed per minute, the slowest execution, and confirms that each
deployment served its own model (its ``EndpointInService`` names its own endpoint and the
version its own package registered) and that nothing is left in SageMaker.

What keeps it feasible on a laptop: the checkpoint is a two-layer Llama of a few hundred
kilobytes (packaging it is the real job, converting nothing), and endpoints serve no model
(``serve_models=False``: placeholder servers, so no inference process per endpoint). The
packaging jobs still run as one subprocess each, which is most of the cost.

Run: ``python benchmarks/lifecycle_load.py [--count 50]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.endpoints.inventory import sagemaker_resources
from maas.events import read_event_log
from maas.executions import wait_for_execution
from maas.local import LocalRuntime, LocalSettings
from tests.fixtures.models import write_tiny_llama

SETTINGS = LocalSettings(
    endpoint_create_seconds=1.0,
    endpoint_delete_seconds=0.5,
    endpoint_poll_seconds=1,
    serve_models=False,
)


def request(index: int, model_path: Path) -> dict[str, Any]:
    """Lifecycle ``index``: its own model name, endpoint and request id."""
    return {
        "tenant_id": "load",
        "request_id": f"load-{index}",
        "package": {
            "model_name": f"tiny-{index}",
            "source": {"kind": "local", "path": str(model_path)},
            "approval_status": "Approved",
        },
        "deployment": {"endpoint_name": f"load-{index}", "instance_type": "ml.g5.xlarge"},
    }


def main() -> int:
    """Run the load; exit non-zero when a lifecycle failed or talked across."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, LocalRuntime(SETTINGS) as runtime:
        model_path = write_tiny_llama(Path(folder) / "tiny-llama")
        stepfunctions = runtime.client("stepfunctions")
        started = time.monotonic()
        arns = [
            runtime.start_execution(
                "Lifecycle", json.dumps(request(index, model_path)), name=f"load-{index}"
            )
            for index in range(arguments.count)
        ]
        snapshots = [
            wait_for_execution(stepfunctions, arn, timeout_seconds=3600, poll_seconds=1)
            for arn in arns
        ]
        elapsed = time.monotonic() - started
        failed = [s.name for s in snapshots if s.status != "SUCCEEDED"]
        durations = {
            s.name: (described["stopDate"] - described["startDate"]).total_seconds()
            for s in snapshots
            for described in [stepfunctions.describe_execution(executionArn=s.arn)]
        }
        events = read_event_log(runtime.client("logs"), runtime.resources.log_groups["EventLog"])
        crossed = []
        for snapshot in snapshots:
            index = snapshot.name.removeprefix("load-")
            in_service = [
                event["detail"]
                for event in events
                if event["detail-type"] == "EndpointInService"
                and event["detail"]["correlation_id"] == f"{snapshot.name}-deploy"
            ]
            version = (snapshot.output or {}).get("version", {})
            if [detail["endpoint_name"] for detail in in_service] != [
                f"load-{index}"
            ] or version.get("model_name") != f"tiny-{index}":
                crossed.append(snapshot.name)
        leftovers = sagemaker_resources(runtime.client("sagemaker"))
    slowest = max(durations, key=lambda name: durations[name])
    print(f"lifecycles: {arguments.count} started together, {len(failed)} failed")
    for snapshot in snapshots:
        if snapshot.status != "SUCCEEDED":
            print(f"  {snapshot.name}: {snapshot.status} {snapshot.error}: {snapshot.cause}")
    print(f"wall time: {elapsed:.1f}s, {arguments.count / elapsed * 60:.1f} executions per minute")
    print(f"slowest: {slowest} in {durations[slowest]:.1f}s")
    print(f"cross-talk: {crossed or 'none'}; left in SageMaker: {leftovers or 'nothing'}")
    return 1 if failed or crossed or leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
