"""Models already in S3: a prefix holding a Hugging Face-style folder, or one GGUF object.

Objects are downloaded with multipart ranged GETs; each file's size is checked against the
listing and, where the object carries a whole-object SHA-256 (uploaded with one), its
digest against that checksum. ``ChecksumMode=ENABLED`` also lets botocore check whatever
checksum S3 returns with a whole-object GET.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from maas.aws import client, split_s3_uri
from maas.exceptions import IntegrityError, SourceNotFound, ValidationError
from maas.packaging.files import (
    disk_full_as_insufficient_storage,
    ensure_free_space,
    sha256_file,
)
from maas.packaging.reporting import Stage
from maas.packaging.selection import serving_files, split_weights
from maas.packaging.sources.fetched import FetchedSource
from maas.packaging.transfers import TransferSettings, source_error

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from schemas.packaging import S3Source


@dataclass(frozen=True)
class _Object:
    key: str
    size: int
    sha256: str | None  # hex, when S3 holds a whole-object SHA-256


def _describe(s3: Any, bucket: str, key: str, size: int | None = None) -> _Object:
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    checksum = head.get("ChecksumSHA256")
    # Only a whole-object checksum is of the file; a multipart object's is of its parts'.
    whole = checksum and head.get("ChecksumType") == "FULL_OBJECT"
    return _Object(
        key=key,
        size=head["ContentLength"] if size is None else size,
        sha256=base64.b64decode(checksum).hex() if whole else None,
    )


def _objects(s3: Any, bucket: str, key: str, uri: str) -> dict[str, _Object]:
    """The objects to download by file name: the GGUF object, or the folder's serving files."""
    if key.lower().endswith(".gguf"):
        return {PurePosixPath(key).name: _describe(s3, bucket, key)}
    prefix = key if not key or key.endswith("/") else f"{key}/"
    listed: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        listed.update(
            {item["Key"][len(prefix) :]: item["Size"] for item in page.get("Contents", [])}
        )
    if not listed:
        raise SourceNotFound(f"{uri}: no objects under this prefix")
    small, weights = split_weights(serving_files(listed))
    if not weights:
        raise ValidationError(
            f"source.uri: {uri} holds no safetensors or PyTorch weights at its top level "
            "(or give the URI of one .gguf object)"
        )
    # Small files first: the model can be sized from its config before its weights move.
    return {name: _describe(s3, bucket, prefix + name, listed[name]) for name in [*small, *weights]}


def fetch_s3(
    source: S3Source,
    destination: Path,
    progress: Progress,
    *,
    settings: TransferSettings | None = None,
    before_weights: Callable[[Path], None] | None = None,
) -> FetchedSource:
    """Download the source's objects into ``destination``.

    Returns the folder, or the GGUF file, as a :class:`FetchedSource`. A folder's small
    files come first; ``before_weights(destination)`` is called before its weights.
    """
    settings = settings or TransferSettings()
    bucket, key = split_s3_uri(source.uri)
    s3 = client("s3")
    progress.stage(Stage.RESOLVING, message=source.uri)
    try:
        objects = _objects(s3, bucket, key, source.uri)
        total = sum(item.size for item in objects.values())
        destination.mkdir(parents=True, exist_ok=True)
        ensure_free_space(destination, total)
        progress.stage(
            Stage.DOWNLOADING, total_bytes=total, message=f"{len(objects)} files of {source.uri}"
        )
        digests: dict[str, str] = {}
        with disk_full_as_insufficient_storage(destination, total):
            small = len(split_weights(objects)[0])
            for index, (name, item) in enumerate(objects.items()):
                if index == small and before_weights is not None:
                    before_weights(destination)
                target = destination / name
                s3.download_file(
                    bucket,
                    item.key,
                    str(target),
                    ExtraArgs={"ChecksumMode": "ENABLED"},
                    Callback=progress.advance,
                    Config=settings.config(),
                )
                digests[name] = _verify(target, item, f"s3://{bucket}/{item.key}")
    except Exception as exc:
        typed = source_error(exc, source.uri)
        if typed is None:
            raise
        raise typed from exc
    if key.lower().endswith(".gguf"):
        return FetchedSource(path=destination / PurePosixPath(key).name)
    return FetchedSource(path=destination, sha256=digests)


def _verify(path: Path, item: _Object, uri: str) -> str:
    size = path.stat().st_size
    if size != item.size:
        raise IntegrityError(f"{uri}: downloaded {size} bytes, S3 lists {item.size}")
    digest = sha256_file(path)
    if item.sha256 is not None and digest != item.sha256:
        raise IntegrityError(f"{uri}: SHA-256 {digest} differs from S3's checksum {item.sha256}")
    return digest


__all__ = ["fetch_s3"]
