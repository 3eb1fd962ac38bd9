"""AWS clients that act as one tenant: a role assumed with the tenant as a session tag.

The API function may do nothing itself but assume the tenant access role, tagging the
session ``maas:tenant=<tenant>``. That role's policies compare the tag with what a call
touches: DynamoDB items whose partition key is the tenant's (``dynamodb:LeadingKeys``),
SageMaker endpoints tagged with the tenant (``aws:ResourceTag/maas:tenant``), executions
named after the tenant. A bug in a handler that asks for another tenant's item is refused
by IAM, not only by the handler's own checks.

The local runtime's STS hands out credentials the same way; its IAM does not evaluate the
policies (a gap the documentation lists), so locally the handler's own checks are what
keeps tenants apart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3

from maas.aws import RETRY_CONFIG, split_s3_uri
from maas.exceptions import ValidationError

#: The session tag the tenant access role's conditions compare with resources.
TENANT_TAG = "maas:tenant"
#: How long a tenant's credentials live, and how long before expiry they are renewed.
SESSION_SECONDS = 3600
RENEW_BEFORE_SECONDS = 300


def check_tenant_file(uri: str, field: str, bucket: str, tenant_id: str) -> None:
    """In the artifacts bucket ``bucket``, a tenant may name only its own files
    (``<tenant>/...``).

    What reads that bucket on every tenant's behalf (an evaluation's jobs) checks here
    what a tenant named, as IAM checks the tenant's own session: a question set or a
    knowledge corpus of another tenant is refused as ``field``'s error.

    >>> check_tenant_file("s3://art/acme/eval/q.jsonl", "question_set_uri", "art", "acme")
    >>> try:
    ...     check_tenant_file("s3://art/globex/q.jsonl", "question_set_uri", "art", "acme")
    ... except ValidationError as exc:
    ...     print(str(exc)[:48])
    question_set_uri: in s3://art/ only the tenant's
    """
    named_bucket, key = split_s3_uri(uri)
    if named_bucket == bucket and not key.startswith(f"{tenant_id}/"):
        raise ValidationError(
            f"{field}: in s3://{bucket}/ only the tenant's own files "
            f"(s3://{bucket}/{tenant_id}/...) can be read"
        )


@dataclass(frozen=True)
class TenantCredentials:
    """A tenant's session: its credentials and when they run out (epoch seconds)."""

    session: boto3.Session
    expires_at: float

    def client(self, service: str) -> Any:
        """A client of ``service`` acting as the tenant."""
        return self.session.client(service, config=RETRY_CONFIG)  # type: ignore[call-overload]


class TenantSessions:
    """Assumes the tenant access role per tenant, and keeps each session until near expiry.

    Parameters
    ----------
    role_arn
        The tenant access role.
    sts
        A boto3 STS client of the caller (the API function's own role).
    clock
        Epoch seconds now (a test's clock).
    """

    def __init__(self, role_arn: str, sts: Any, *, clock: Any = time.time) -> None:
        self._role_arn = role_arn
        self._sts = sts
        self._clock = clock
        self._sessions: dict[str, TenantCredentials] = {}
        self._lock = threading.Lock()

    def for_tenant(self, tenant_id: str) -> TenantCredentials:
        """The tenant's session, assumed now or kept from an earlier call."""
        with self._lock:
            kept = self._sessions.get(tenant_id)
            if kept is not None and kept.expires_at - RENEW_BEFORE_SECONDS > self._clock():
                return kept
        response = self._sts.assume_role(
            RoleArn=self._role_arn,
            RoleSessionName=f"maas-api-{tenant_id}",
            DurationSeconds=SESSION_SECONDS,
            Tags=[{"Key": TENANT_TAG, "Value": tenant_id}],
        )
        credentials = response["Credentials"]
        fresh = TenantCredentials(
            session=boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            ),
            expires_at=credentials["Expiration"].timestamp(),
        )
        with self._lock:
            self._sessions[tenant_id] = fresh
        return fresh


__all__ = ["TENANT_TAG", "TenantCredentials", "TenantSessions", "check_tenant_file"]
