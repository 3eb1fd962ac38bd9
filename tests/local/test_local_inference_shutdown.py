"""Stopping the local runtime leaves no inference server behind, even one still starting."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from maas.local import LocalRuntime, LocalSettings
from maas.manifest import MANIFEST
from tests.local.support import wait_until

# A fixture shared with the serving tests, made visible here by importing it.

if TYPE_CHECKING:
    from maas.local.modelserver import ModelServer

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"


def serving_processes(marker: str) -> list[int]:
    """Ids of live processes whose command line mentions ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):  # gone meanwhile, or not ours to read
            continue
        if "maas.serving" in command and marker in command and state != "Z":
            found.append(int(entry.name))
    return found


def test_stopping_the_runtime_stops_every_inference_server(
    tiny_model_dir: Path,
) -> None:
    # This module's only runtime: the other local modules' runtimes are stopped by now.
    manifest = MANIFEST.model_copy(update={"functions": (), "state_machines": (), "rules": ()})
    runtime = LocalRuntime(LocalSettings(endpoint_create_seconds=0.1), manifest).start()
    try:
        bucket = runtime.resources.buckets["ArtifactsBucket"]
        for path in tiny_model_dir.iterdir():
            runtime.client("s3").put_object(
                Bucket=bucket, Key=f"acme/tiny/1/{path.name}", Body=path.read_bytes()
            )
        sagemaker = runtime.client("sagemaker")
        sagemaker.create_model(
            ModelName="tiny",
            PrimaryContainer={
                "Image": IMAGE,
                "ModelDataSource": {
                    "S3DataSource": {
                        "S3Uri": f"s3://{bucket}/acme/tiny/1/",
                        "S3DataType": "S3Prefix",
                        "CompressionType": "None",
                    }
                },
            },
            ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="tiny",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "tiny",
                    "InstanceType": "ml.g5.xlarge",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName="tiny", EndpointConfigName="tiny")
        server: ModelServer = wait_until(lambda: runtime.inference.server("tiny"))
        assert serving_processes(str(server.workdir)) == [server.pid]
    finally:
        runtime.stop()

    assert serving_processes(str(server.workdir)) == []
    assert not server.workdir.parent.exists()
