"""boto3 clients with one retry policy, created once per process and service.

boto3 reads ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``) itself, so the same
client reaches AWS or the local runtime; nothing here knows which.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

#: Standard retry mode backs off on throttling and transient 5xx with jitter.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5)


def client(service: str) -> Any:
    """Return the process-wide client for ``service`` (``"sagemaker"``, ``"events"``, ...).

    One per service and per access key the environment names: one on AWS, where a process
    has one environment; one per function where functions share a process and each sees its
    own role's credentials (the local runtime: :mod:`maas.local.function_credentials`).
    """
    return _client(service, os.environ.get("AWS_ACCESS_KEY_ID"))


@cache
def _client(service: str, access_key: str | None) -> Any:
    return boto3.client(service, config=RETRY_CONFIG)  # type: ignore[call-overload]


def error_code(exc: Exception) -> str | None:
    """The AWS error code of a botocore ``ClientError``, or None for anything else."""
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None


def reset_clients() -> None:
    """Forget cached clients (for example after the endpoint URL or credentials changed)."""
    _client.cache_clear()


def split_s3_uri(uri: str) -> tuple[str, str]:
    """The bucket and key (or prefix) of an ``s3://`` URI.

    Examples
    --------
    >>> split_s3_uri("s3://models/acme/smollm2/1/")
    ('models', 'acme/smollm2/1/')
    >>> split_s3_uri("s3://models")
    ('models', '')
    """
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


__all__ = ["RETRY_CONFIG", "client", "error_code", "reset_clients", "split_s3_uri"]
