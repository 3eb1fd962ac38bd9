"""S3 and local sources: a folder or one GGUF file, sizes and checksums checked."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

import pytest

from maas.aws import client
from maas.exceptions import IntegrityError, SourceNotFound, ValidationError
from maas.packaging.sources import fetch_local, fetch_s3, fetch_source
from schemas.packaging import LocalSource, S3Source

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging import Progress

pytestmark = pytest.mark.usefixtures("aws")

BUCKET = "models"


@pytest.fixture
def s3(aws: None) -> object:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


def put(s3: object, key: str, body: bytes, **extra: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, **extra)  # type: ignore[attr-defined]


def test_a_folder_under_a_prefix_is_downloaded_with_only_its_serving_files(
    s3: object, tmp_path: Path, progress: Progress
) -> None:
    put(s3, "acme/llama/config.json", b"{}", ChecksumAlgorithm="SHA256")
    put(s3, "acme/llama/model.safetensors", b"w" * 100, ChecksumAlgorithm="SHA256")
    put(s3, "acme/llama/original/consolidated.pth", b"x")
    put(s3, "acme/llama-other/config.json", b"{}")

    fetched = fetch_s3(S3Source(uri=f"s3://{BUCKET}/acme/llama"), tmp_path, progress)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    assert fetched.path == tmp_path
    assert fetched.sha256["model.safetensors"] == hashlib.sha256(b"w" * 100).hexdigest()


def test_one_gguf_object_is_downloaded_as_a_file(
    s3: object, tmp_path: Path, progress: Progress
) -> None:
    put(s3, "acme/smol.Q4.gguf", b"GGUF....")

    fetched = fetch_s3(S3Source(uri=f"s3://{BUCKET}/acme/smol.Q4.gguf"), tmp_path, progress)

    assert fetched.path == tmp_path / "smol.Q4.gguf"
    assert fetched.path.read_bytes() == b"GGUF...."


def test_an_object_whose_content_differs_from_its_checksum_is_an_integrity_error(
    s3: object, tmp_path: Path, progress: Progress
) -> None:
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    # S3 refuses such an upload; moto stores it, which stands in for a corrupted object.
    put(s3, "acme/smol.gguf", b"GGUF....", ChecksumAlgorithm="SHA256", ChecksumSHA256=wrong)

    with pytest.raises(IntegrityError, match="checksum does not match"):
        fetch_s3(S3Source(uri=f"s3://{BUCKET}/acme/smol.gguf"), tmp_path, progress)


@pytest.mark.usefixtures("s3")
def test_an_empty_prefix_is_source_not_found(tmp_path: Path, progress: Progress) -> None:
    with pytest.raises(SourceNotFound, match=r"s3://models/acme/none: no objects"):
        fetch_s3(S3Source(uri=f"s3://{BUCKET}/acme/none"), tmp_path, progress)


def test_a_missing_bucket_or_object_is_source_not_found(tmp_path: Path, progress: Progress) -> None:
    with pytest.raises(SourceNotFound, match=r"s3://nowhere/m\.gguf: not found in S3"):
        fetch_s3(S3Source(uri="s3://nowhere/m.gguf"), tmp_path, progress)


def test_a_prefix_without_weights_is_rejected(
    s3: object, tmp_path: Path, progress: Progress
) -> None:
    put(s3, "acme/cfg/config.json", b"{}")

    with pytest.raises(ValidationError, match="holds no safetensors or PyTorch weights"):
        fetch_s3(S3Source(uri=f"s3://{BUCKET}/acme/cfg/"), tmp_path, progress)


def test_a_local_folder_is_read_where_it_is(
    tiny_llama: Path, tmp_path: Path, progress: Progress
) -> None:
    fetched = fetch_source(
        LocalSource(path=str(tiny_llama)), tmp_path / "work", progress, tenant_id="acme"
    )

    assert fetched.path == tiny_llama
    assert not (tmp_path / "work").exists()


def test_a_local_path_that_does_not_exist_is_source_not_found() -> None:
    with pytest.raises(SourceNotFound, match=r"source\.path: /no/such/model does not exist"):
        fetch_local(LocalSource(path="/no/such/model"))


def test_a_local_file_must_be_gguf(tmp_path: Path) -> None:
    (tmp_path / "weights.pt").write_bytes(b"x")

    with pytest.raises(ValidationError, match=r"weights\.pt is a file but not a \.gguf model"):
        fetch_local(LocalSource(path=str(tmp_path / "weights.pt")))


def test_the_folders_small_files_arrive_before_its_weights_are_fetched(
    s3: object, tmp_path: Path, progress: Progress
) -> None:
    put(s3, "acme/llama/model.safetensors", b"w" * 100)
    put(s3, "acme/llama/config.json", b"{}")
    seen: list[list[str]] = []

    fetch_s3(
        S3Source(uri=f"s3://{BUCKET}/acme/llama/"),
        tmp_path,
        progress,
        before_weights=lambda folder: seen.append(sorted(p.name for p in folder.iterdir())),
    )

    assert seen == [["config.json"]]
