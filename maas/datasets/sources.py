"""Read a version's rows from an S3 prefix of the tenant's own.

In the artifacts bucket a tenant names only its own folder (``<tenant>/...``): another
tenant's prefix is answered exactly as a prefix with nothing under it (404), before any call,
so that a name never tells whether another tenant has files there (the API's session could
not list it anyway: the tenant access role lists only under ``${aws:PrincipalTag/maas:tenant}/``).
A bucket the tenant's session may not list is a 403 (:class:`~maas.exceptions.SourceAccessDenied`).
Every object under the prefix is read, in key order, as JSONL; the listing's sizes are checked
against the limits before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from maas.aws import error_code, split_s3_uri
from maas.datasets.validation import DEFAULT_LIMITS, DatasetLimits, RawRow, jsonl_rows
from maas.exceptions import Conflict, InvalidRows, RowProblem, SourceAccessDenied, SourceNotFound
from schemas.datasets import DatasetSource, SourceObject

if TYPE_CHECKING:
    from collections.abc import Iterator

#: What S3 answers a session that may not list or read (ListObjectsV2, GetObject).
_DENIED = {"AccessDenied", "AllAccessDisabled", "AccessDeniedException"}
_MISSING = {"NoSuchBucket", "NoSuchKey", "404"}


def owns_prefix(uri: str, bucket: str, tenant_id: str) -> bool:
    """Whether ``uri`` may name a source for ``tenant_id``: anything outside the artifacts
    bucket ``bucket`` (IAM decides there), and inside it only under ``<tenant>/``.

    >>> owns_prefix("s3://art/acme/qa/", "art", "acme")
    True
    >>> owns_prefix("s3://art/acme-x/qa/", "art", "acme")
    False
    >>> owns_prefix("s3://art/acme", "art", "acme")
    False
    >>> owns_prefix("s3://art/acme/../globex/", "art", "acme")
    False
    """
    named_bucket, key = split_s3_uri(uri)
    # S3 keys are literal, but a client or proxy that resolves ``..`` would leave the folder.
    if {".", ".."} & set(key.split("/")):
        return False
    return named_bucket != bucket or key.startswith(f"{tenant_id}/")


@dataclass(frozen=True)
class PrefixSource:
    """The rows under an S3 prefix, and what was read for them."""

    source: DatasetSource
    texts: list[tuple[str, str]]

    def rows(self) -> Iterator[RawRow]:
        """Every line of every object, each located as ``s3://bucket/key line N``."""
        for where, text in self.texts:
            yield from jsonl_rows(text, where)


def read_prefix(
    s3: Any,
    uri: str,
    *,
    bucket: str,
    tenant_id: str,
    limits: DatasetLimits = DEFAULT_LIMITS,
) -> PrefixSource:
    """The JSONL objects under ``uri``, read with the tenant's session ``s3``.

    Raises
    ------
    SourceNotFound
        Nothing under the prefix, or it is another tenant's (``source_uri: ...``).
    SourceAccessDenied
        The tenant's session may not list or read there.
    InvalidRows
        Too many objects or bytes, or an object that is not UTF-8 text.
    """
    missing = SourceNotFound(f"source_uri: no objects under {uri}")
    if not owns_prefix(uri, bucket, tenant_id):
        raise missing
    named_bucket, prefix = split_s3_uri(uri)
    listed = _list(s3, named_bucket, prefix, uri, limits)
    if not listed:
        raise missing
    total = sum(item.size for item in listed)
    if total > limits.max_bytes:
        raise InvalidRows(
            f"{total} bytes under {uri}: a version reads at most {limits.max_bytes}",
            [],
            limit=True,
        )
    texts = []
    for item in listed:
        where = f"s3://{named_bucket}/{item.key}"
        body = _get(s3, named_bucket, item, uri)
        try:
            texts.append((where, body.decode("utf-8")))
        except UnicodeDecodeError as exc:
            line = body[: exc.start].count(b"\n") + 1
            problem = RowProblem(f"{where} line {line}", "not UTF-8 text")
            raise InvalidRows(str(problem), [problem]) from None
    return PrefixSource(DatasetSource(type="s3", uri=uri, objects=listed), texts)


def _list(s3: Any, bucket: str, prefix: str, uri: str, limits: DatasetLimits) -> list[SourceObject]:
    listed: list[SourceObject] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith("/"):  # a console "folder", not a file
                    continue
                listed.append(
                    SourceObject(key=item["Key"], etag=item["ETag"].strip('"'), size=item["Size"])
                )
                if len(listed) > limits.max_objects:
                    raise InvalidRows(
                        f"more than {limits.max_objects} objects under {uri}: a version reads "
                        f"at most {limits.max_objects}",
                        [],
                        limit=True,
                    )
    except ClientError as exc:
        raise _source_error(exc, uri) from None
    return sorted(listed, key=lambda item: item.key)


def _get(s3: Any, bucket: str, item: SourceObject, uri: str) -> bytes:
    try:
        # IfMatch: the object read is the one listed, so the ETags recorded are the bytes read.
        response = s3.get_object(Bucket=bucket, Key=item.key, IfMatch=item.etag)
        body: bytes = response["Body"].read()
    except ClientError as exc:
        if error_code(exc) == "PreconditionFailed":
            raise Conflict(
                f"source_uri: s3://{bucket}/{item.key} changed while it was read; send again"
            ) from None
        raise _source_error(exc, uri) from None
    return body


def _source_error(exc: ClientError, uri: str) -> Exception:
    code = error_code(exc)
    if code in _DENIED:
        return SourceAccessDenied(f"source_uri: the tenant's session may not read {uri}")
    if code in _MISSING:
        return SourceNotFound(f"source_uri: no objects under {uri}")
    return exc


__all__ = ["PrefixSource", "owns_prefix", "read_prefix"]
