"""Fixtures for unit tests: an empty moto account with fake credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

from maas.aws import reset_clients

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every boto3 client made inside the test."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    reset_clients()
    with mock_aws():
        yield
    reset_clients()
