"""Names of the AWS resources the control plane creates: derived, valid, unique per run."""

from __future__ import annotations

import hashlib
import re

from schemas.common import SAGEMAKER_NAME_MAX_LENGTH, SAGEMAKER_NAME_PATTERN

_SAGEMAKER_NAME = re.compile(SAGEMAKER_NAME_PATTERN)
SUFFIX_LENGTH = 8


def kebab(identifier: str) -> str:
    """A manifest id as a resource-name segment, in AWS and locally alike.

    Examples
    --------
    >>> kebab("PlanDeployment"), kebab("SageMakerExecutionRole")
    ('plan-deployment', 'sagemaker-execution-role')
    """
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", identifier.replace("SageMaker", "Sagemaker"))
    return words.lower()


def run_suffix(correlation_id: str) -> str:
    """A short, stable suffix for everything one execution creates.

    Examples
    --------
    >>> run_suffix("deploy-1")
    '244cf825'
    """
    return hashlib.sha256(correlation_id.encode()).hexdigest()[:SUFFIX_LENGTH]


def sagemaker_name(base: str, suffix: str) -> str:
    """``base-suffix``, with ``base`` shortened so the result fits SageMaker's 63 characters.

    Examples
    --------
    >>> sagemaker_name("chat", "a5e0d8a5")
    'chat-a5e0d8a5'
    >>> len(sagemaker_name("x" * 63, "a5e0d8a5"))
    63
    """
    room = SAGEMAKER_NAME_MAX_LENGTH - len(suffix) - 1
    name = f"{base[:room].rstrip('-')}-{suffix}"
    if not _SAGEMAKER_NAME.fullmatch(name):
        raise ValueError(f"derived name {name!r} does not match {SAGEMAKER_NAME_PATTERN}")
    return name


def ttl_schedule_name(tenant_id: str, endpoint_name: str) -> str:
    """The EventBridge Scheduler name of an endpoint's time-to-live.

    Schedule names allow 64 characters; the hash keeps two tenants' endpoints of the same
    name apart however long the names are.

    Examples
    --------
    >>> ttl_schedule_name("acme", "chat")
    'maas-ttl-chat-c7bee5eb'
    """
    digest = hashlib.sha256(f"{tenant_id}/{endpoint_name}".encode()).hexdigest()[:SUFFIX_LENGTH]
    return f"maas-ttl-{endpoint_name[:40]}-{digest}"


__all__ = ["SUFFIX_LENGTH", "kebab", "run_suffix", "sagemaker_name", "ttl_schedule_name"]
