"""S3 transfers of model files: addresses, transfer settings, and what their errors mean.

Model files are large (shards of up to 5 GB and more) and few; they move as multipart
transfers, several parts at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    FlexibleChecksumError,
    ReadTimeoutError,
)

from maas.aws import error_code
from maas.exceptions import (
    IntegrityError,
    MaasError,
    SourceAccessDenied,
    SourceNotFound,
    SourceUnavailable,
)

MIB = 1024 * 1024

_NOT_FOUND = frozenset({"NoSuchBucket", "NoSuchKey", "404", "NotFound"})
_DENIED = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})
# botocore has already retried these with backoff when they reach us.
_UNREACHABLE = (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)


@dataclass(frozen=True)
class TransferSettings:
    """Part size and parallelism of multipart transfers.

    The defaults were chosen with ``benchmarks/packaging_upload.py``; see
    ``benchmarks/README.md`` for what they reach.
    """

    part_size: int = 64 * MIB
    concurrency: int = 8

    def config(self) -> TransferConfig:
        """The boto3 transfer configuration: files above one part go multipart."""
        return TransferConfig(
            multipart_threshold=self.part_size,
            multipart_chunksize=self.part_size,
            max_concurrency=self.concurrency,
        )


def source_error(exc: Exception, uri: str) -> MaasError | None:
    """The ``Maas.*`` error an S3 error reading a model source means, or None."""
    if isinstance(exc, FlexibleChecksumError):
        return IntegrityError(f"{uri}: the object's checksum does not match its content: {exc}")
    if isinstance(exc, _UNREACHABLE):
        return SourceUnavailable(f"{uri}: S3 could not be reached: {exc}")
    code = error_code(exc)
    if code in _NOT_FOUND:
        return SourceNotFound(f"{uri}: not found in S3 ({code})")
    if code in _DENIED:
        return SourceAccessDenied(f"{uri}: the packaging job may not read it ({code})")
    return None


__all__ = ["MIB", "TransferSettings", "source_error"]
