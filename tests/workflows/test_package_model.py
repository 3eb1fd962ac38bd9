"""package_model on the local runtime: a registered version, a FAILED one and nothing else, or
a complete package whose registration failed and can be registered again."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.executions import ExecutionSnapshot, wait_for_execution
from maas.registry import ModelRegistry, model_package_group_name
from schemas import ModelPackaged, ModelPackagingFailed, PackageManifest
from schemas.packaging import MANIFEST_FILE, VersionStatus
from tests.factories import packaging_request
from tests.fixtures.models import tiny_llama_tensors, write_tiny_llama
from tests.workflows.conftest import events_of, run

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime


#: The packaging job imports torch and transformers: seconds, more on a busy machine.
PACKAGING_TIMEOUT_SECONDS = 300


def package(runtime: LocalRuntime, document: dict[str, Any]) -> ExecutionSnapshot:
    arn = runtime.start_execution("PackageModel", json.dumps(document))
    return wait_for_execution(
        runtime.client("stepfunctions"), arn, timeout_seconds=PACKAGING_TIMEOUT_SECONDS
    )


def registry(runtime: LocalRuntime) -> ModelRegistry:
    return ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))


def objects_under(runtime: LocalRuntime, uri: str) -> dict[str, bytes]:
    s3 = runtime.client("s3")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        item["Key"].removeprefix(prefix): s3.get_object(Bucket=bucket, Key=item["Key"])[
            "Body"
        ].read()
        for item in listed
    }


@pytest.fixture(scope="module")
def packaged(runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory) -> ExecutionSnapshot:
    """A tiny Llama packaged once, shared by the tests below.

    The demo's GGUF file takes the same path end to end in ``tests/e2e/test_demo.py``; its
    conversion is tested in ``tests/unit/packaging``.
    """
    model = write_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
    document = packaging_request(
        model_name="smollm2",
        source={"kind": "local", "path": str(model)},
        serving={"context_tokens": 2048, "concurrent_requests": 4},
    )
    return package(runtime, document)


def test_a_local_model_becomes_a_registered_version(
    runtime: LocalRuntime, packaged: ExecutionSnapshot
) -> None:
    assert packaged.status == "SUCCEEDED", packaged.cause
    record = registry(runtime).get("acme", "smollm2", packaged.output["version"])
    assert record.status is VersionStatus.REGISTERED
    assert record.correlation_id == packaged.name
    assert record.image_uri and "djl-inference" in record.image_uri
    # bf16: two bytes a parameter.
    parameters = sum(tensor.size for tensor in tiny_llama_tensors().values())
    assert record.advisor_report and record.advisor_report["weight_bytes"] == 2 * parameters
    assert record.instance_type and record.instance_type.startswith("ml.")
    assert packaged.path[-2:] == ["Announce the version", "Version registered"]


def test_the_version_shows_what_batch_said_of_its_packaging_job(
    runtime: LocalRuntime, packaged: ExecutionSnapshot
) -> None:
    record = registry(runtime).get("acme", "smollm2", packaged.output["version"])
    # Batch's events reach the record while the version packages; the last one kept is the
    # running job, or its success when that came before the registration.
    assert record.packaging_job is not None
    assert record.packaging_job.status in {"RUNNING", "SUCCEEDED"}
    assert record.packaging_job.reason is None


def test_every_packaged_file_is_in_s3_as_the_manifest_lists_it(
    runtime: LocalRuntime, packaged: ExecutionSnapshot
) -> None:
    stored = objects_under(runtime, packaged.output["artifact_uri"])
    manifest = PackageManifest.model_validate_json(stored.pop(MANIFEST_FILE))
    assert {entry.path for entry in manifest.files} == set(stored)
    for entry in manifest.files:
        assert hashlib.sha256(stored[entry.path]).hexdigest() == entry.sha256, entry.path
    assert {"config.json", "model.safetensors", "serving.properties"} <= set(stored)
    assert "option.rolling_batch=" in stored["serving.properties"].decode()
    assert manifest.licence == "apache-2.0" or manifest.licence is None


def test_the_version_is_a_model_package_and_an_event(
    runtime: LocalRuntime, packaged: ExecutionSnapshot
) -> None:
    [detail] = events_of(runtime, "ModelPackaged", packaged.name)
    announced = ModelPackaged.model_validate(detail)
    package = runtime.client("sagemaker").describe_model_package(
        ModelPackageName=announced.model_package_arn
    )
    assert package["ModelPackageGroupName"] == model_package_group_name("acme", "smollm2")
    assert package["ModelApprovalStatus"] == "Approved"
    assert announced.version == packaged.output["version"]


def test_an_unknown_source_fails_its_version_with_the_jobs_reason(runtime: LocalRuntime) -> None:
    snapshot = package(
        runtime,
        packaging_request(model_name="ghost", source={"kind": "local", "path": "/nowhere/m.gguf"}),
    )
    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.SourceNotFound"
    assert "/nowhere/m.gguf" in (snapshot.cause or "")
    [record] = registry(runtime).list_versions("acme", "ghost")
    assert (record.status, record.error) == (VersionStatus.FAILED, "Maas.SourceNotFound")
    [detail] = events_of(runtime, "ModelPackagingFailed", snapshot.name)
    assert ModelPackagingFailed.model_validate(detail).error == "Maas.SourceNotFound"
    assert objects_under(runtime, record.artifact_uri) == {}


def config_only_model(tmp_path: Path, **config: Any) -> str:
    (tmp_path / "config.json").write_text(json.dumps(config))
    return str(tmp_path)


def test_an_unsupported_architecture_is_named_with_the_supported_ones(
    runtime: LocalRuntime, tmp_path: Path
) -> None:
    path = config_only_model(tmp_path, model_type="mamba", architectures=["MambaForCausalLM"])
    snapshot = package(
        runtime, packaging_request(model_name="mamba", source={"kind": "local", "path": path})
    )
    assert snapshot.error == "Maas.UnsupportedArchitecture", snapshot.cause
    assert "llama" in (snapshot.cause or "").lower()
    [record] = registry(runtime).list_versions("acme", "mamba")
    assert record.status is VersionStatus.FAILED
    assert objects_under(runtime, record.artifact_uri) == {}


def test_a_model_no_instance_can_hold_says_what_would(
    runtime: LocalRuntime, tmp_path: Path
) -> None:
    path = config_only_model(
        tmp_path,
        model_type="llama",
        architectures=["LlamaForCausalLM"],
        hidden_size=32768,
        intermediate_size=131072,
        num_hidden_layers=160,
        num_attention_heads=256,
        num_key_value_heads=16,
        vocab_size=128256,
        max_position_embeddings=8192,
    )
    snapshot = package(
        runtime, packaging_request(model_name="giant", source={"kind": "local", "path": path})
    )
    assert snapshot.error == "Maas.NoInstanceFits", snapshot.cause
    [record] = registry(runtime).list_versions("acme", "giant")
    assert record.status is VersionStatus.FAILED


def test_a_malformed_request_opens_no_version(runtime: LocalRuntime) -> None:
    snapshot = run(
        runtime, "PackageModel", packaging_request(model_name="Bad Name!", tenant_id="acme")
    )
    assert (snapshot.status, snapshot.error) == ("FAILED", "Maas.ValidationError")
    assert "model_name" in (snapshot.cause or "")
    assert snapshot.path == REJECTED
    assert registry(runtime).list_versions("acme", "Bad Name!") == []


#: The states of an execution refused before anything was opened or registered.
REJECTED = [
    "Package or register again",
    "Open a version",
    "Explain the rejection",
    "Request rejected",
]


@pytest.mark.parametrize(
    "source",
    [
        {"kind": "s3", "uri": "s3://{bucket}/acme/smollm2/1/"},
        {
            "kind": "huggingface",
            "model_id": "acme/private",
            "token_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
            "maas/acme/hub-token-AbCdEf",
        },
    ],
)
def test_another_tenants_files_or_secret_open_no_version(
    runtime: LocalRuntime, packaged: ExecutionSnapshot, source: dict[str, Any]
) -> None:
    """globex names acme's packaged model (or acme's Hub token) as its source."""
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    if "uri" in source:
        source = {**source, "uri": source["uri"].format(bucket=bucket)}
    before = objects_under(runtime, packaged.output["artifact_uri"])

    snapshot = run(
        runtime,
        "PackageModel",
        packaging_request(tenant_id="globex", model_name="stolen", source=source),
    )

    assert (snapshot.status, snapshot.error) == ("FAILED", "Maas.ValidationError")
    assert (snapshot.cause or "").startswith(("source.uri: ", "source.token_secret_arn: "))
    assert snapshot.path == REJECTED
    assert registry(runtime).tenant_versions("globex") == []
    assert objects_under(runtime, packaged.output["artifact_uri"]) == before
    record = registry(runtime).get("acme", "smollm2", packaged.output["version"])
    assert record.status is VersionStatus.REGISTERED


def test_a_failed_registration_keeps_the_package_and_is_registered_again(
    runtime: LocalRuntime, tmp_path: Path
) -> None:
    model = write_tiny_llama(tmp_path / "tiny-llama")
    fault = runtime.faults.inject("sagemaker", "CreateModelPackage", "ResourceLimitExceeded")
    snapshot = package(
        runtime,
        packaging_request(model_name="unlucky", source={"kind": "local", "path": str(model)}),
    )

    assert fault.fired == 1
    assert snapshot.status == "FAILED"
    assert "Mark the registration failed" in snapshot.path
    assert "Mark the version failed" not in snapshot.path
    [record] = registry(runtime).list_versions("acme", "unlucky")
    assert record.status is VersionStatus.REGISTRATION_FAILED
    assert "ResourceLimitExceeded" in (record.cause or "")
    assert "stackTrace" not in (record.cause or "")
    stored = objects_under(runtime, record.artifact_uri)
    assert MANIFEST_FILE in stored
    assert "model.safetensors" in stored
    [failed] = events_of(runtime, "ModelPackagingFailed", snapshot.name)
    assert failed["version"] == record.version

    # Another tenant cannot register it (it is not found for them); acme's stays as it is.
    retry = {"model_name": "unlucky", "version": record.version}
    stolen = run(runtime, "PackageModel", {"tenant_id": "globex", **retry})
    assert (stolen.status, stolen.error) == ("FAILED", "Maas.NotFound")
    assert registry(runtime).get("acme", "unlucky", record.version) == record

    again = package(runtime, {"tenant_id": "acme", **retry})

    assert again.status == "SUCCEEDED", again.cause
    assert "Package the model" not in again.path
    registered = registry(runtime).get("acme", "unlucky", record.version)
    assert registered.status is VersionStatus.REGISTERED
    assert registered.artifact_uri == record.artifact_uri
    assert objects_under(runtime, record.artifact_uri) == stored
    [announced] = events_of(runtime, "ModelPackaged", again.name)
    assert announced["model_package_arn"] == registered.model_package_arn
