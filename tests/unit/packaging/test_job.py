"""The packaging job end to end: from MAAS_PACKAGING_JOB to a package and its record."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from sagemaker.core import image_uris

from maas.aws import client
from maas.endpoints.records import table_arguments
from maas.packaging import Progress, main, run
from maas.packaging import job as packaging_job
from maas.packaging.images import IMAGE_VERSIONS
from maas.registry import ModelRegistry
from schemas.packaging import (
    MANIFEST_FILE,
    HuggingFaceSource,
    PackageManifest,
    PackagingJob,
    PackagingRequest,
    ServingPreferences,
)
from tests.factories import ARTIFACTS_BUCKET, packaging_request
from tests.unit.packaging.hub import COMMIT

if TYPE_CHECKING:
    from pathlib import Path

    from tests.unit.packaging.conftest import RecordingReporter
    from tests.unit.packaging.hub import FakeHub

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def s3(aws: None) -> Any:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    return s3


@pytest.fixture
def registry(aws: None) -> ModelRegistry:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments("models"))
    return ModelRegistry("models", dynamodb)


def job_for(source: dict[str, Any], **overrides: Any) -> PackagingJob:
    document: dict[str, Any] = {
        "tenant_id": "acme",
        "model_name": "tiny",
        "version": 1,
        "correlation_id": "package-tiny-1",
        "source": source,
        "serving": ServingPreferences().model_dump(),
        "artifact_uri": f"s3://{ARTIFACTS_BUCKET}/acme/tiny/1/",
    }
    return PackagingJob.model_validate(document | overrides)


def stored(s3: Any, job: PackagingJob, name: str) -> bytes:
    key = job.artifact_uri.removeprefix(f"s3://{ARTIFACTS_BUCKET}/") + name
    body: bytes = s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=key)["Body"].read()
    return body


def listed(s3: Any, prefix: str = "acme/") -> list[str]:
    contents = s3.list_objects_v2(Bucket=ARTIFACTS_BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in contents)


def test_main_packages_a_local_folder_and_every_file_matches_its_manifest(
    s3: Any, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    job = job_for({"kind": "local", "path": str(tiny_llama)})
    monkeypatch.setenv("MAAS_PACKAGING_JOB", job.model_dump_json())
    monkeypatch.setenv("ARTIFACTS_BUCKET_NAME", ARTIFACTS_BUCKET)
    monkeypatch.delenv("MODELS_TABLE_NAME", raising=False)

    assert main() == 0

    manifest = PackageManifest.model_validate_json(stored(s3, job, MANIFEST_FILE))
    assert [item.path for item in manifest.files] == [
        "README.md",
        "config.json",
        "model.safetensors",
        "serving.properties",
    ]
    for item in manifest.files:
        assert hashlib.sha256(stored(s3, job, item.path)).hexdigest() == item.sha256
    assert manifest.total_bytes == sum(item.size for item in manifest.files)
    assert (manifest.architecture, manifest.licence) == ("llama", "apache-2.0")
    assert stored(s3, job, "serving.properties").decode() == manifest.serving_properties
    recommendation = manifest.advisor_report["recommendation"]
    assert manifest.instance_type == recommendation["instance_type"]
    assert f"option.rolling_batch={recommendation['engine']}" in manifest.serving_properties
    stages = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert list(dict.fromkeys(stages)) == ["resolving", "sizing", "uploading", "done"]


def test_the_image_is_the_sdks_lmi_image_at_the_pinned_version(
    s3: Any, tiny_llama: Path, reporter: RecordingReporter
) -> None:
    job = job_for({"kind": "local", "path": str(tiny_llama)})

    assert run(job, Progress(reporter)) == 0

    manifest = PackageManifest.model_validate_json(stored(s3, job, MANIFEST_FILE))
    version = IMAGE_VERSIONS["djl-lmi"]
    expected = image_uris.retrieve(framework="djl-lmi", region="us-east-1", version=version)
    assert manifest.image_uri == expected
    assert manifest.image_uri.endswith(f"/djl-inference:{version}-lmi29.0.0-cu130")


def test_a_hub_model_is_pinned_to_its_commit_in_the_manifest_and_serving_properties(
    s3: Any, hub: FakeHub, tiny_llama: Path, reporter: RecordingReporter
) -> None:
    hub.files = {path.name: path.read_bytes() for path in tiny_llama.iterdir()}
    job = job_for(HuggingFaceSource(model_id="acme/tiny", revision="v1.0").model_dump())

    assert run(job, Progress(reporter)) == 0

    manifest = PackageManifest.model_validate_json(stored(s3, job, MANIFEST_FILE))
    assert manifest.resolved_revision == COMMIT
    assert f"option.revision={COMMIT}" in manifest.serving_properties
    assert manifest.advisor_report["model"] == "acme/tiny"
    assert reporter.stages() == ["resolving", "downloading", "sizing", "uploading", "done"]


def test_progress_and_failure_go_to_the_versions_record_when_the_table_is_named(
    s3: Any, registry: ModelRegistry, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = PackagingRequest.model_validate(packaging_request(model_name="tiny"))
    record = registry.open_version(
        request,
        model_name="tiny",
        correlation_id="package-tiny-1",
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    job = job_for(
        {"kind": "local", "path": str(tiny_llama / "missing")}, artifact_uri=record.artifact_uri
    )
    monkeypatch.setenv("MAAS_PACKAGING_JOB", job.model_dump_json())
    monkeypatch.setenv("MODELS_TABLE_NAME", "models")

    assert main() == 1

    failed = registry.get("acme", "tiny", record.version)
    assert failed.error == "Maas.SourceNotFound"
    assert failed.cause is not None
    assert failed.cause.endswith("missing does not exist on the packaging machine")
    assert failed.progress is not None
    assert failed.progress.stage == "resolving"


def test_a_failure_is_reported_with_its_error_name_and_leaves_nothing_in_s3(
    s3: Any, reporter: RecordingReporter, capsys: pytest.CaptureFixture[str]
) -> None:
    job = job_for({"kind": "local", "path": "/models/none.gguf"})

    assert run(job, Progress(reporter)) == 1

    assert reporter.failures == [
        (
            "Maas.SourceNotFound",
            "source.path: /models/none.gguf does not exist on the packaging machine",
        )
    ]
    assert capsys.readouterr().out.splitlines()[-1].startswith("failed  Maas.SourceNotFound: ")
    assert listed(s3) == []


def test_an_unexpected_exception_is_reported_as_packaging_failed(
    s3: Any, tiny_llama: Path, reporter: RecordingReporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> None:
        raise RuntimeError("the converter crashed")

    monkeypatch.setattr(packaging_job, "series_of", broken)

    assert run(job_for({"kind": "local", "path": str(tiny_llama)}), Progress(reporter)) == 1

    assert reporter.failures == [("Maas.PackagingFailed", "RuntimeError: the converter crashed")]


def test_a_job_writing_outside_its_tenants_prefix_is_refused(
    s3: Any, tiny_llama: Path, reporter: RecordingReporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIFACTS_BUCKET_NAME", ARTIFACTS_BUCKET)
    job = job_for(
        {"kind": "local", "path": str(tiny_llama)},
        artifact_uri=f"s3://{ARTIFACTS_BUCKET}/globex/tiny/1/",
    )

    assert run(job, Progress(reporter)) == 1

    assert reporter.failures[0][0] == "Maas.ValidationError"
    assert reporter.failures[0][1].startswith("artifact_uri: s3://")
    assert listed(s3, "") == []


def test_a_job_reading_another_tenants_files_is_refused_before_it_reads(
    s3: Any, reporter: RecordingReporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIFACTS_BUCKET_NAME", ARTIFACTS_BUCKET)
    s3.put_object(Bucket=ARTIFACTS_BUCKET, Key="acme-x/tiny/1/model.gguf", Body=b"GGUF")
    job = job_for({"kind": "s3", "uri": f"s3://{ARTIFACTS_BUCKET}/acme-x/tiny/1/model.gguf"})

    assert run(job, Progress(reporter)) == 1

    assert reporter.failures[0][0] == "Maas.ValidationError"
    assert reporter.failures[0][1].startswith("source.uri: in s3://")
    assert listed(s3, "") == ["acme-x/tiny/1/model.gguf"]


def test_without_a_readable_job_main_exits_2_and_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAAS_PACKAGING_JOB", '{"tenant_id": "acme"}')

    assert main() == 2

    assert capsys.readouterr().out.startswith("failed  Maas.ValidationError: MAAS_PACKAGING_JOB: ")


GIANT_LLAMA = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 32768,
    "intermediate_size": 131072,
    "num_hidden_layers": 160,
    "num_attention_heads": 256,
    "num_key_value_heads": 16,
    "vocab_size": 128256,
    "max_position_embeddings": 8192,
}


def test_a_hub_model_no_instance_can_hold_fails_before_its_weights_are_downloaded(
    s3: Any, hub: FakeHub, reporter: RecordingReporter
) -> None:
    hub.files["config.json"] = json.dumps(GIANT_LLAMA).encode()
    job = job_for(HuggingFaceSource(model_id="acme/giant").model_dump())

    assert run(job, Progress(reporter)) == 1

    assert reporter.failures[0][0] == "Maas.NoInstanceFits"
    downloaded = [call["filename"] for call in hub.downloads]
    assert "config.json" in downloaded
    assert "model.safetensors" not in downloaded


def test_an_architecture_the_advisor_cannot_size_fails_before_anything_is_converted(
    s3: Any, tmp_path: Path, reporter: RecordingReporter
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "mamba"}))
    job = job_for({"kind": "local", "path": str(tmp_path)})

    assert run(job, Progress(reporter)) == 1

    error, cause = reporter.failures[0]
    assert error == "Maas.UnsupportedArchitecture"
    assert "llama" in cause


def test_a_job_stopped_by_batch_reports_it_and_leaves_nothing_in_s3(
    s3: Any, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def stop(**_: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # Batch cancels the job, or its time runs out

    # Once the first file has landed.
    client("s3").meta.events.register("after-call.s3.PutObject", stop)
    job = job_for({"kind": "local", "path": str(tiny_llama)})
    monkeypatch.setenv("MAAS_PACKAGING_JOB", job.model_dump_json())
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert main() == 1
    finally:
        signal.signal(signal.SIGTERM, previous)

    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "failed  Maas.PackagingFailed: the job was stopped (SIGTERM)"
    assert listed(s3) == []
