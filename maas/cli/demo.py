"""``maas demo``: deploy a SageMaker endpoint and tear it down, on the local runtime.

The demo runs the product's own ``deploy_endpoint`` and ``teardown`` state machines with
their real Lambda handlers on the embedded runtime, shows each state as it happens, then
prints the path each execution took, the events they published, and proof that nothing
was left behind.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.panel import Panel
from rich.table import Table

from maas.cli.progress import follow
from maas.endpoints.inventory import sagemaker_resources
from maas.events import read_event_log
from maas.local import LocalRuntime, LocalSettings

if TYPE_CHECKING:
    from rich.console import Console

    from maas.executions import ExecutionSnapshot

TENANT = "demo"
ENDPOINT = "smollm2-chat"
MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
MODEL_VERSION = "1"
LMI_IMAGE = "djl-inference:0.33.0-lmi15.0.0-cu128"


@dataclass(frozen=True)
class DemoResult:
    """What the demo did, for its exit code and its tests."""

    deployment: ExecutionSnapshot
    teardown: ExecutionSnapshot
    events: list[dict[str, Any]]
    leftovers: list[str]

    @property
    def succeeded(self) -> bool:
        """Both executions succeeded and nothing is left in SageMaker."""
        return (
            self.deployment.status == "SUCCEEDED"
            and self.teardown.status == "SUCCEEDED"
            and not self.leftovers
        )


def upload_artifact(runtime: LocalRuntime) -> str:
    """Put the demo model's serving configuration in the artifacts bucket; return its prefix."""
    # The serving configuration an LMI container reads. Packaging a real model into this
    # prefix is the packaging workflow's job; this demo deploys what is there.
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    prefix = f"{TENANT}/{MODEL_ID.rsplit('/', maxsplit=1)[-1].lower()}/{MODEL_VERSION}/"
    runtime.client("s3").put_object(
        Bucket=bucket,
        Key=f"{prefix}serving.properties",
        Body=f"engine=Python\noption.model_id={MODEL_ID}\noption.rolling_batch=disable\n".encode(),
    )
    return f"s3://{bucket}/{prefix}"


def deployment_request(runtime: LocalRuntime, model_data_url: str) -> dict[str, Any]:
    """The request a user would send: a small chat model on one GPU instance."""
    region = runtime.settings.region
    return {
        "tenant_id": TENANT,
        "endpoint_name": ENDPOINT,
        "instance_type": "ml.g5.xlarge",
        "instance_count": 1,
        "autoscaling": {"min_capacity": 1, "max_capacity": 2, "target_concurrent_requests": 4},
        "model": {
            "model_id": MODEL_ID,
            "version": MODEL_VERSION,
            # The DJL LMI serving image, as a user of the demo would name it.
            "image_uri": f"763104351884.dkr.ecr.{region}.amazonaws.com/{LMI_IMAGE}",
            "model_data_url": model_data_url,
        },
    }


def _print_path(console: Console, snapshot: ExecutionSnapshot) -> None:
    console.print(
        Panel(" → ".join(snapshot.path), title=f"path taken ({len(snapshot.path)} states)")
    )


def _print_events(console: Console, events: list[dict[str, Any]]) -> None:
    table = Table(title="events published on the bus (source maas)", title_justify="left")
    table.add_column("time")
    table.add_column("detail-type", style="bold")
    table.add_column("detail", overflow="fold")
    for event in events:
        detail = event.get("detail", {})
        facts = ", ".join(f"{key}={value}" for key, value in detail.items())
        table.add_row(str(event.get("time", ""))[11:19], event.get("detail-type", ""), facts)
    console.print(table)


def run_demo(console: Console, settings: LocalSettings | None = None) -> DemoResult:
    """Deploy, tear down and report; return what happened."""
    started = time.monotonic()
    with console.status("starting the local runtime (moto, adapters, provisioning)"):
        runtime = LocalRuntime(settings).start()
    try:
        resources = runtime.resources
        console.print(
            f"[bold]local runtime up[/] in {time.monotonic() - started:.1f}s: "
            f"{len(resources.functions)} functions, {len(resources.state_machines)} state "
            f"machines, bus [cyan]{resources.event_bus}[/], table "
            f"[cyan]{resources.tables['EndpointsTable']}[/]"
        )
        request = deployment_request(runtime, upload_artifact(runtime))
        console.print(
            f"deploying [bold]{MODEL_ID}[/] v{MODEL_VERSION} on [bold]{request['instance_type']}"
            f"[/] as endpoint [bold]{ENDPOINT}[/] for tenant [bold]{TENANT}[/]"
        )
        stepfunctions = runtime.client("stepfunctions")
        deployment = follow(
            console,
            stepfunctions,
            runtime.start_execution("DeployEndpoint", json.dumps(request)),
            "deploy_endpoint",
        )
        _print_path(console, deployment)
        if deployment.status == "SUCCEEDED":
            endpoint = runtime.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
            console.print(
                f"endpoint [bold]{ENDPOINT}[/] is [green]{endpoint['EndpointStatus']}[/] "
                f"({endpoint['EndpointArn']})"
            )
        else:
            console.print(f"[red]deployment failed:[/] {deployment.error}: {deployment.cause}")
        teardown = follow(
            console,
            stepfunctions,
            runtime.start_execution(
                "Teardown", json.dumps({"tenant_id": TENANT, "endpoint_name": ENDPOINT})
            ),
            "teardown",
        )
        _print_path(console, teardown)
        events = read_event_log(runtime.client("logs"), resources.log_groups["EventLog"])
        _print_events(console, events)
        leftovers = sagemaker_resources(runtime.client("sagemaker"))
        if leftovers:
            console.print(f"[red]left behind:[/] {', '.join(leftovers)}")
        else:
            console.print("[green]nothing left behind[/]: no endpoint, configuration or model")
    finally:
        runtime.stop()
    console.print(f"[dim]demo finished in {time.monotonic() - started:.1f}s[/]")
    return DemoResult(deployment, teardown, events, leftovers)


__all__ = ["DemoResult", "deployment_request", "run_demo", "upload_artifact"]
