"""AWS clients that act as one tenant: a role assumed with the tenant as a session tag.

The API function may do nothing itself but assume the tenant access role, tagging the
session ``maas:tenant=<tenant>``. That role's policies compare the tag with what a call
touches: DynamoDB items whose partition key is the tenant's (``dynamodb:LeadingKeys``),
SageMaker endpoints tagged with the tenant (``aws:ResourceTag/maas:tenant``), executions
named after the tenant. A bug in a handler that asks for another tenant's item is refused
by IAM, not only by the handler's own checks.

The workflows' functions do the same per invocation (:func:`from_environment`): each
assumes its own tenant role for the tenant its input names, and makes the calls that touch
that tenant's records, files and resources with that session.

The packaging and evaluation jobs do the same at their start (:func:`act_as_tenant`): their
own role may do nothing but assume their tenant role, tagged with the tenant the workflow
gave the job, and every client the job makes afterwards acts as that tenant.

The local runtime's STS hands out credentials the same way, and the runtime evaluates the
API's tenant sessions' calls against the tenant access role's synthesized statements
(:mod:`maas.local.iam_enforcement`), so a missing check fails locally with AccessDenied as
it would on AWS. The jobs' tenant sessions reach the runtime over HTTP and are not
evaluated yet: locally, their own checks keep tenants apart.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from botocore.loaders import Loader, create_loader

from maas.aws import RETRY_CONFIG, client, reset_clients, split_s3_uri
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: The session tag the tenant access role's conditions compare with resources.
TENANT_TAG = "maas:tenant"
#: How long a tenant's credentials live, and how long before expiry they are renewed.
SESSION_SECONDS = 3600
RENEW_BEFORE_SECONDS = 300
#: The environment variable that names the role a job assumes for its tenant (the job
#: definition's environment, from the manifest).
TENANT_ROLE_VARIABLE = "TENANT_ROLE_ARN"
#: What a role session name may hold (STS: ``[\w+=,.@-]``, at most 64 characters).
_SESSION_NAME_LENGTH = 64
_NOT_IN_SESSION_NAME = re.compile(r"[^\w+=,.@-]")

logger = logging.getLogger(__name__)


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
    # S3 keys are literal, but a client or proxy that resolves ``..`` would leave the prefix.
    dot_segments = {".", ".."} & set(key.split("/"))
    if named_bucket == bucket and (not key.startswith(f"{tenant_id}/") or dot_segments):
        raise ValidationError(
            f"{field}: in s3://{bucket}/ only the tenant's own files "
            f"(s3://{bucket}/{tenant_id}/...) can be read"
        )


def tenant_secret_prefix(tenant_id: str) -> str:
    """Where a tenant's secrets are named in Secrets Manager: ``maas/<tenant>/``.

    The slash ends the tenant, so ``acme``'s prefix is never a prefix of ``acme-x``'s.
    """
    return f"maas/{tenant_id}/"


def check_tenant_secret(arn: str, field: str, tenant_id: str) -> None:
    """A tenant may name only its own secrets: those named ``maas/<tenant>/...``.

    A request names a secret by ARN, and the name is in the ARN, so this needs no call: a
    boundary refuses another tenant's secret before anything reads it. What reads the
    secret checks its owner again (:func:`owns_secret`), from the secret itself.

    >>> check_tenant_secret(
    ...     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:maas/acme/hf-AbCdEf",
    ...     "source.token_secret_arn", "acme")
    >>> try:
    ...     check_tenant_secret(
    ...         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:maas/acme-x/hf-AbCdEf",
    ...         "source.token_secret_arn", "acme")
    ... except ValidationError as exc:
    ...     print(exc)
    source.token_secret_arn: only the tenant's own secrets (maas/acme/...) can be named
    """
    name = arn.partition(":secret:")[2]
    if not name.startswith(tenant_secret_prefix(tenant_id)):
        raise ValidationError(
            f"{field}: only the tenant's own secrets ({tenant_secret_prefix(tenant_id)}...) "
            "can be named"
        )


def owns_secret(described: Mapping[str, Any], tenant_id: str) -> bool:
    """Whether a secret, as ``DescribeSecret`` answers, is the tenant's.

    Both must hold: its name is under :func:`tenant_secret_prefix` and its ``maas:tenant``
    tag is the tenant. The name is what a request can be checked against before any call;
    the tag is what IAM compares with the session's tenant; a secret with only one of them
    (renamed, or tagged by hand) is nobody's.

    >>> owns_secret({"Name": "maas/acme/hf", "Tags": [{"Key": TENANT_TAG, "Value": "acme"}]},
    ...             "acme")
    True
    >>> owns_secret({"Name": "maas/acme/hf", "Tags": [{"Key": TENANT_TAG, "Value": "globex"}]},
    ...             "acme")
    False
    """
    tags = {tag["Key"]: tag.get("Value") for tag in described.get("Tags") or []}
    name = str(described.get("Name") or "")
    return name.startswith(tenant_secret_prefix(tenant_id)) and tags.get(TENANT_TAG) == tenant_id


@dataclass(frozen=True)
class TenantCredentials:
    """A tenant's session: its credentials and when they run out (epoch seconds)."""

    session: boto3.Session
    expires_at: float
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def client(self, service: str) -> Any:
        """The client of ``service`` acting as the tenant, made on first use and kept with
        the credentials it signs with."""
        made = self._clients.get(service)
        if made is None:
            made = self.session.client(service, config=RETRY_CONFIG)  # type: ignore[call-overload]
            # Two threads may both make one; either serves, and the last is kept.
            self._clients[service] = made
        return made


class TenantSessions:
    """Assumes a tenant role per tenant, and keeps each session until near expiry.

    The API assumes the tenant access role for its caller's tenant; a workflow's function
    assumes its own tenant role for the tenant its input names (:func:`from_environment`).

    Parameters
    ----------
    role_arn
        The tenant role.
    sts
        A boto3 STS client of the caller (the function's own role).
    purpose
        A word for the sessions' names (``maas-<purpose>-<tenant>``), seen in CloudTrail.
    clock
        Epoch seconds now (a test's clock).
    """

    def __init__(
        self, role_arn: str, sts: Any, *, purpose: str = "api", clock: Any = time.time
    ) -> None:
        self._role_arn = role_arn
        self._sts = sts
        self._purpose = purpose
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
            RoleSessionName=session_name(self._purpose, tenant_id),
            DurationSeconds=SESSION_SECONDS,
            Tags=[{"Key": TENANT_TAG, "Value": tenant_id}],
        )
        credentials = response["Credentials"]
        core = botocore.session.Session()
        # Every tenant's session reads the service models through one loader: a session of
        # its own would parse each model's JSON again for each tenant's first clients.
        core.register_component("data_loader", _shared_loader())
        core.set_credentials(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )
        fresh = TenantCredentials(
            session=boto3.Session(botocore_session=core),
            expires_at=credentials["Expiration"].timestamp(),
        )
        with self._lock:
            self._sessions[tenant_id] = fresh
        return fresh


def from_environment(purpose: str) -> TenantSessions:
    """The sessions of the role this function assumes for its tenants (its environment's
    ``TENANT_ROLE_ARN``), assumed from its own role.

    Made at a function's cold start: each execution environment keeps its tenants' sessions.
    """
    return TenantSessions(os.environ[TENANT_ROLE_VARIABLE], client("sts"), purpose=purpose)


def session_name(purpose: str, tenant_id: str) -> str:
    """A role session's name, ``maas-<purpose>-<tenant>``, in what STS allows.

    >>> session_name("plan-teardown", "acme")
    'maas-plan-teardown-acme'
    """
    return _NOT_IN_SESSION_NAME.sub("-", f"maas-{purpose}-{tenant_id}")[:_SESSION_NAME_LENGTH]


@functools.cache
def _shared_loader() -> Loader:
    """The process's one loader of botocore's service models (it caches what it parsed)."""
    return create_loader()


def tenant_session(role_arn: str, tenant_id: str, sts: Any, *, purpose: str) -> boto3.Session:
    """A boto3 session that acts as ``tenant_id`` through ``role_arn``, renewed as it runs out.

    The role is assumed with the session tag ``maas:tenant=<tenant_id>``, which its
    statements compare with what each call touches (``${aws:PrincipalTag/maas:tenant}``).
    A role assumed from another role's session lives at most an hour (role chaining), and a
    job may run for hours: botocore renews the credentials through ``sts`` before they
    expire.

    Parameters
    ----------
    role_arn
        The tenant role to assume.
    tenant_id
        The tenant the session acts for.
    sts
        A boto3 STS client with the caller's own credentials (a job's role).
    purpose
        A word for the session's name (``maas-<purpose>-<tenant>``), seen in CloudTrail.
    """

    def assume() -> dict[str, str]:
        credentials = sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName=session_name(purpose, tenant_id),
            DurationSeconds=SESSION_SECONDS,
            Tags=[{"Key": TENANT_TAG, "Value": tenant_id}],
        )["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    core = botocore.session.Session()
    # First in the session's chain, ahead of the environment's (the job's own) credentials.
    core.get_component("credential_provider").insert_before("env", _TenantRole(assume))
    return boto3.Session(botocore_session=core)


class _TenantRole(CredentialProvider):
    """botocore's provider of a tenant session's credentials, fetched when first needed
    and again before they expire (as botocore's own assume-role provider does)."""

    METHOD = "maas-tenant-role"
    CANONICAL_NAME = "MaasTenantRole"

    def __init__(self, fetch: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._fetch = fetch

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)


def act_as_tenant(
    tenant_id: str,
    *,
    purpose: str,
    environ: Mapping[str, str] = os.environ,
    sts: Any = None,
) -> boto3.Session | None:
    """Make every boto3 client this process creates from now on act as ``tenant_id``.

    A Batch job calls this first thing, with the tenant its workflow gave it: the job's own
    role may only assume its tenant role (named by :data:`TENANT_ROLE_VARIABLE`), so IAM
    holds what the job does afterwards to that tenant's files, records, secrets and
    endpoints, whatever the job was asked. The process's default boto3 session becomes the
    tenant's and :func:`maas.aws.client`'s cached clients are dropped, so code that creates
    its clients through either needs no change.

    Returns the tenant's session, or None where no tenant role is named (a job run by hand,
    outside the stacks and the local runtime): the job then keeps its own credentials.

    Examples
    --------
    >>> act_as_tenant("acme", purpose="packager", environ={}) is None
    True
    """
    role_arn = environ.get(TENANT_ROLE_VARIABLE)
    if not role_arn:
        logger.warning(
            "%s is not set: acting with the job's own credentials, not as tenant %s",
            TENANT_ROLE_VARIABLE,
            tenant_id,
        )
        return None
    # The caller's own credentials assume (and renew) the tenant's session.
    caller_sts = sts if sts is not None else boto3.Session().client("sts", config=RETRY_CONFIG)
    session = tenant_session(role_arn, tenant_id, caller_sts, purpose=purpose)
    boto3.DEFAULT_SESSION = session
    reset_clients()
    logger.info("acting as tenant %s through %s", tenant_id, role_arn)
    return session


def run_as_tenant(tenant_id: str | None, main: Callable[[], int], *, purpose: str) -> int:
    """A job's ``main``, run as ``tenant_id`` (see :func:`act_as_tenant`) when it has one.

    The job's log then starts by saying whose session does the work.
    """
    if tenant_id is not None and act_as_tenant(tenant_id, purpose=purpose) is not None:
        print(f"tenant  {tenant_id}: acting through {os.environ[TENANT_ROLE_VARIABLE]}")
    return main()


__all__ = [
    "TENANT_ROLE_VARIABLE",
    "TENANT_TAG",
    "TenantCredentials",
    "TenantSessions",
    "act_as_tenant",
    "check_tenant_file",
    "check_tenant_secret",
    "from_environment",
    "owns_secret",
    "run_as_tenant",
    "session_name",
    "tenant_secret_prefix",
    "tenant_session",
]
