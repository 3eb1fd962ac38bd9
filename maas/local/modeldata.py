"""Model data for a local container: the artifact in emulated S3, laid out as SageMaker does.

Why this exists: moto stores a model's ``ModelDataUrl`` or ``ModelDataSource`` and never
reads it. Before SageMaker starts a model's container it puts the model data in
``/opt/ml/model``: every object under an ``S3Prefix`` source as is (``CompressionType``
``None``), or the ``.tar.gz`` object of a ``ModelDataUrl`` (or a ``Gzip`` ``S3Object``
source) extracted. This module does the same into a local folder, reading moto's S3 backend
in this process.

Examples
--------
>>> model_data_location({"ModelDataUrl": "s3://bucket/t/m/1/model.tar.gz"})
ModelDataLocation(bucket='bucket', key='t/m/1/model.tar.gz', prefix=False, compressed=True)
>>> model_data_location(
...     {"ModelDataSource": {"S3DataSource": {"S3Uri": "s3://b/t/m/1/", "CompressionType": "None"}}}
... )
ModelDataLocation(bucket='b', key='t/m/1/', prefix=True, compressed=False)
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from moto.s3.models import s3_backends

from maas.aws import split_s3_uri


class ModelDataError(Exception):
    """The model data cannot be laid out; the message is SageMaker's failure reason."""


@dataclass(frozen=True)
class ModelDataLocation:
    """Where a container's model data is in S3, and how SageMaker unpacks it."""

    bucket: str
    key: str
    prefix: bool
    compressed: bool

    @property
    def uri(self) -> str:
        """The S3 URI as the model names it."""
        return f"s3://{self.bucket}/{self.key}"


def model_data_location(container: dict[str, Any]) -> ModelDataLocation | None:
    """The model data of a model's container (``PrimaryContainer``), None if it has none."""
    source = (container.get("ModelDataSource") or {}).get("S3DataSource")
    if source:
        uri = source["S3Uri"]
        prefix = source.get("S3DataType", "S3Prefix") == "S3Prefix"
        compressed = source.get("CompressionType", "None") == "Gzip"
    elif container.get("ModelDataUrl"):
        uri, prefix, compressed = container["ModelDataUrl"], False, True
    else:
        return None
    bucket, key = split_s3_uri(uri)
    return ModelDataLocation(bucket=bucket, key=key, prefix=prefix, compressed=compressed)


def missing_model_data(location: ModelDataLocation, account_id: str, partition: str) -> str | None:
    """SageMaker's failure reason when the model data is not in S3, else None."""
    bucket = s3_backends[account_id][partition].buckets.get(location.bucket)
    keys = bucket.keys.keys() if bucket else []
    if location.prefix:
        present = any(key.startswith(location.key) for key in keys)
    else:
        present = location.key in keys
    return None if present else _missing(location)


def download_model_data(
    location: ModelDataLocation, account_id: str, partition: str, target: Path
) -> None:
    """Put the model data at ``location`` into ``target``, as SageMaker fills ``/opt/ml/model``.

    Raises
    ------
    ModelDataError
        An object is missing, or an archive is not a valid ``.tar.gz``.
    """
    bucket = s3_backends[account_id][partition].buckets.get(location.bucket)
    objects = dict(bucket.keys.items()) if bucket else {}
    target.mkdir(parents=True, exist_ok=True)
    if location.prefix:
        found = {
            key: stored
            for key, stored in objects.items()
            if key.startswith(location.key) and not key.endswith("/")
        }
        if not found:
            raise ModelDataError(_missing(location))
        for key, stored in found.items():
            _write(target, key.removeprefix(location.key), stored.value)
        return
    if location.key not in objects:
        raise ModelDataError(_missing(location))
    data: bytes = objects[location.key].value
    if not location.compressed:
        _write(target, PurePosixPath(location.key).name, data)
        return
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            archive.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise ModelDataError(
            f'Failed to extract model data archive for container "container_1" from URL '
            f'"{location.uri}". Please ensure that the object located at the URL is a valid '
            "tar.gz file."
        ) from error


def _missing(location: ModelDataLocation) -> str:
    return (
        f"Failed to download model data (bucket: {location.bucket}, key: {location.key}). "
        "Ensure that there is an object at the URL and that the role passed to CreateModel "
        "can read it."
    )


def _write(target: Path, relative: str, data: bytes) -> None:
    path = (target / relative.lstrip("/")).resolve()
    if not path.is_relative_to(target.resolve()):
        raise ModelDataError(f"Model data key {relative!r} points outside the model directory.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


__all__ = [
    "ModelDataError",
    "ModelDataLocation",
    "download_model_data",
    "missing_model_data",
    "model_data_location",
]
