"""Upload a package under its version's prefix: whole, or not at all.

Files go up uncompressed (SageMaker reads an S3 prefix of model data as it is, with no
archive to unpack at start-up), several at once and each as a multipart upload of several
parts at once, with SHA-256 checksums that S3 checks on every part it receives. Then each
object's size, and a single-part object's SHA-256, is compared with the file's. The manifest
goes up last: its presence means every file is there. If anything fails once the upload has
begun, everything under the prefix is deleted before the error is passed on, so that no
version prefix is ever left half-written.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Any

from boto3.s3.transfer import ProgressCallbackInvoker, create_transfer_manager

from maas.aws import client, split_s3_uri
from maas.exceptions import IntegrityError
from maas.packaging.reporting import Stage
from maas.packaging.transfers import TransferSettings
from maas.registry.packaging_steps import delete_prefix
from schemas.packaging import MANIFEST_FILE

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from schemas.packaging import PackagedFile, PackageManifest

logger = logging.getLogger(__name__)

#: Every object is uploaded with a SHA-256 checksum, which S3 verifies on receipt.
CHECKSUM_ARGS = {"ChecksumAlgorithm": "SHA256"}


def _b64(sha256: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256)).decode()


def _check_uploaded(
    s3: Any, bucket: str, prefix: str, packaged: PackagedFile, part_size: int
) -> None:
    head = s3.head_object(Bucket=bucket, Key=f"{prefix}{packaged.path}", ChecksumMode="ENABLED")
    if head["ContentLength"] != packaged.size:
        raise IntegrityError(
            f"{packaged.path}: S3 holds {head['ContentLength']} bytes, the file has {packaged.size}"
        )
    # A multipart object's checksum is of its parts' checksums, each of which S3 checked as
    # it arrived; a single-part object's is of the whole file.
    multipart = packaged.size >= part_size
    if not multipart and head.get("ChecksumSHA256") != _b64(packaged.sha256):
        raise IntegrityError(f"{packaged.path}: S3's SHA-256 differs from the file's")


def _upload_files(
    s3: Any,
    files: Mapping[str, Path],
    *,
    bucket: str,
    prefix: str,
    progress: Progress,
    settings: TransferSettings,
) -> None:
    subscribers = [ProgressCallbackInvoker(progress.advance)]
    with create_transfer_manager(s3, settings.config()) as manager:
        futures = [
            manager.upload(
                str(path),
                bucket,
                f"{prefix}{name}",
                extra_args=CHECKSUM_ARGS,
                subscribers=subscribers,
            )
            for name, path in sorted(files.items())
        ]
        for future in futures:
            future.result()


def upload_package(
    files: Mapping[str, Path],
    manifest: PackageManifest,
    progress: Progress,
    *,
    settings: TransferSettings | None = None,
) -> None:
    """Upload ``files`` (package name to local path), then ``manifest``, to its artifact URI.

    Whatever an earlier attempt left under the prefix is deleted first.
    """
    settings = settings or TransferSettings()
    bucket, prefix = split_s3_uri(manifest.artifact_uri)
    s3 = client("s3")
    stale = delete_prefix(s3, bucket, prefix)
    if stale:
        logger.info("deleted %d objects an earlier attempt left under %s", stale, prefix)
    progress.stage(
        Stage.UPLOADING,
        total_bytes=manifest.total_bytes,
        message=f"{len(files)} files to {manifest.artifact_uri}",
    )
    try:
        _upload_files(s3, files, bucket=bucket, prefix=prefix, progress=progress, settings=settings)
        for packaged in manifest.files:
            _check_uploaded(s3, bucket, prefix, packaged, settings.part_size)
        body = manifest.model_dump_json(indent=2).encode()
        s3.put_object(
            Bucket=bucket,
            Key=f"{prefix}{MANIFEST_FILE}",
            Body=body,
            ContentType="application/json",
            **CHECKSUM_ARGS,
        )
    except BaseException:
        try:
            deleted = delete_prefix(s3, bucket, prefix)
            logger.info("upload failed: deleted the %d objects under %s", deleted, prefix)
        except Exception:
            logger.exception("upload failed, and deleting what it left under %s failed", prefix)
        raise


__all__ = ["CHECKSUM_ARGS", "upload_package"]
