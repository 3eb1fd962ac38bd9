"""Uploads: checksummed, multipart when large, the manifest last, nothing left on failure."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from maas.aws import client
from maas.exceptions import IntegrityError
from maas.packaging import TransferSettings
from maas.packaging.manifest import packaged_files
from maas.packaging.transfers import MIB
from maas.packaging.upload import upload_package
from schemas.packaging import MANIFEST_FILE, LocalSource, PackageManifest

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging import Progress
    from tests.unit.packaging.conftest import RecordingReporter

pytestmark = pytest.mark.usefixtures("aws")

BUCKET = "artifacts"
PREFIX = "acme/tiny/3/"
#: S3's smallest part: a 12 MiB file goes up in three parts.
SMALL_PARTS = TransferSettings(part_size=5 * MIB, concurrency=4)


@pytest.fixture
def s3(aws: None) -> Any:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    (tmp_path / "model.safetensors").write_bytes(bytes(range(256)) * (12 * 4096))
    return {name: tmp_path / name for name in ("config.json", "model.safetensors")}


def manifest_for(files: dict[str, Path]) -> PackageManifest:
    packaged = packaged_files(files, {})
    return PackageManifest(
        tenant_id="acme",
        model_name="tiny",
        version=3,
        correlation_id="package-1",
        source=LocalSource(path="/models/tiny"),
        architecture="llama",
        artifact_uri=f"s3://{BUCKET}/{PREFIX}",
        files=packaged,
        total_bytes=sum(item.size for item in packaged),
        image_uri="image",
        instance_type="ml.g5.xlarge",
        serving_properties="engine=Python\n",
        advisor_report={},
        created_at=datetime.now(UTC),
    )


def keys(s3: Any) -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])
    return sorted(item["Key"].removeprefix(PREFIX) for item in listed)


def record_writes(s3: Any) -> list[tuple[str, str]]:
    """The (operation, key) of every write the client makes, in order."""
    writes: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in {"PutObject", "CompleteMultipartUpload"}:
            writes.append((model.name, params["Key"].removeprefix(PREFIX)))

    s3.meta.events.register("before-parameter-build.s3", record)
    return writes


def test_every_file_goes_up_with_a_sha256_and_the_manifest_goes_up_last(
    s3: Any, files: dict[str, Path], progress: Progress
) -> None:
    writes = record_writes(s3)
    manifest = manifest_for(files)

    upload_package(files, manifest, progress, settings=SMALL_PARTS)

    assert keys(s3) == ["config.json", MANIFEST_FILE, "model.safetensors"]
    assert writes[-1] == ("PutObject", MANIFEST_FILE)
    assert ("CompleteMultipartUpload", "model.safetensors") in writes
    config = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}config.json", ChecksumMode="ENABLED")
    expected = hashlib.sha256(files["config.json"].read_bytes()).digest()
    assert config["ChecksumSHA256"] == base64.b64encode(expected).decode()
    attributes = s3.get_object_attributes(
        Bucket=BUCKET, Key=f"{PREFIX}model.safetensors", ObjectAttributes=["Checksum"]
    )
    assert attributes["Checksum"]["ChecksumType"] == "COMPOSITE"  # three parts, each checked
    stored = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}{MANIFEST_FILE}")["Body"].read()
    assert PackageManifest.model_validate_json(stored) == manifest


def test_upload_progress_counts_every_byte_once(
    s3: Any, files: dict[str, Path], progress: Progress, reporter: RecordingReporter
) -> None:
    manifest = manifest_for(files)

    upload_package(files, manifest, progress, settings=SMALL_PARTS)

    uploading = [report for report in reporter.reports if report.stage == "uploading"]
    assert uploading[-1].done_bytes == uploading[-1].total_bytes == manifest.total_bytes


def test_what_an_earlier_attempt_left_under_the_prefix_is_deleted_first(
    s3: Any, files: dict[str, Path], progress: Progress
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}stale.safetensors", Body=b"old")

    upload_package(files, manifest_for(files), progress, settings=SMALL_PARTS)

    assert "stale.safetensors" not in keys(s3)


@pytest.mark.parametrize("failing", ["UploadPart", "PutObject"])
def test_a_failed_upload_leaves_nothing_under_the_prefix(
    failing: str, s3: Any, files: dict[str, Path], progress: Progress
) -> None:
    def fail(model: Any, params: dict[str, Any], **_: Any) -> None:
        # The manifest's PutObject when the parts went up; any part otherwise.
        if model.name == failing and params["Key"].endswith(("model.safetensors", MANIFEST_FILE)):
            raise ConnectionResetError("connection reset by peer")

    s3.meta.events.register("before-parameter-build.s3", fail)

    with pytest.raises(ConnectionResetError):
        upload_package(files, manifest_for(files), progress, settings=SMALL_PARTS)
    assert keys(s3) == []


def test_an_object_whose_sha256_is_not_the_manifests_fails_the_upload_and_is_deleted(
    s3: Any, files: dict[str, Path], progress: Progress
) -> None:
    manifest = manifest_for(files)
    files["config.json"].write_text('{"model_type": "other"}')  # changed after hashing

    with pytest.raises(IntegrityError, match=r"config\.json: S3's SHA-256 differs from the file's"):
        upload_package(files, manifest, progress, settings=SMALL_PARTS)
    assert keys(s3) == []
