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


def tenant_sagemaker_name(tenant_id: str, name: str) -> str:
    """A SageMaker name, unique per account and Region, for the tenant's own ``name``.

    Users name things in their own namespace; two tenants may both call an endpoint (or a
    model) ``chat``. The SageMaker name starts with the tenant (readable in the console) and
    always ends with a hash of tenant and name, so ``acme`` + ``x-chat`` and ``acme-x`` +
    ``chat`` never meet however SageMaker's 63 characters shorten them.

    Examples
    --------
    >>> tenant_sagemaker_name("acme", "chat")
    'acme-chat-c7bee5eb'
    >>> tenant_sagemaker_name("acme", "x-chat") != tenant_sagemaker_name("acme-x", "chat")
    True
    >>> len(tenant_sagemaker_name("t" * 32, "e" * 63))
    63
    """
    return sagemaker_name(f"{tenant_id}-{name}", _tenant_digest(tenant_id, name))


def sagemaker_endpoint_name(tenant_id: str, endpoint_name: str) -> str:
    """The SageMaker name of a tenant's endpoint (:func:`tenant_sagemaker_name`).

    Examples
    --------
    >>> sagemaker_endpoint_name("acme", "chat")
    'acme-chat-c7bee5eb'
    """
    return tenant_sagemaker_name(tenant_id, endpoint_name)


def ttl_schedule_name(tenant_id: str, endpoint_name: str) -> str:
    """The EventBridge Scheduler name of an endpoint's time-to-live.

    Schedule names allow 64 characters; the hash keeps two tenants' endpoints of the same
    name apart however long the names are.

    Examples
    --------
    >>> ttl_schedule_name("acme", "chat")
    'maas-ttl-chat-c7bee5eb'
    """
    return _endpoint_schedule_name("ttl", tenant_id, endpoint_name)


def hours_schedule_name(tenant_id: str, endpoint_name: str, action: str) -> str:
    """The EventBridge Scheduler name of an endpoint's on/off hours: ``action`` stop or start.

    Examples
    --------
    >>> hours_schedule_name("acme", "chat", "stop"), hours_schedule_name("acme", "chat", "start")
    ('maas-stop-chat-c7bee5eb', 'maas-start-chat-c7bee5eb')
    """
    return _endpoint_schedule_name(action, tenant_id, endpoint_name)


#: Names of idle-limit alarms start with this; the rule that hears them matches on it.
IDLE_ALARM_PREFIX = "maas-idle-"


def idle_alarm_name(tenant_id: str, endpoint_name: str) -> str:
    """The CloudWatch alarm name of an endpoint's idle limit.

    The hash keeps two tenants' endpoints of the same name apart.

    Examples
    --------
    >>> idle_alarm_name("acme", "chat")
    'maas-idle-chat-c7bee5eb'
    """
    return _endpoint_schedule_name("idle", tenant_id, endpoint_name)


def idle_teardown_execution_name(alarm_name: str, state_changed_at: str) -> str:
    """The name of the teardown an idle alarm's state change starts: one per state change.

    EventBridge delivers at least once; a second delivery of the same state change derives
    the same name, and Step Functions starts nothing under a name it already ran.

    Examples
    --------
    >>> idle_teardown_execution_name("maas-idle-chat-c7bee5eb", "2026-01-01T12:00:00.000+0000")
    'maas-idle-chat-c7bee5eb-7c3e8d4cbe90ff55'
    """
    digest = hashlib.sha256(f"{alarm_name}@{state_changed_at}".encode()).hexdigest()[:16]
    # Execution names allow 80 characters: the alarm name is at most 59.
    return f"{alarm_name}-{digest}"


def _endpoint_schedule_name(kind: str, tenant_id: str, endpoint_name: str) -> str:
    # Schedule names allow 64 characters: "maas-start-" (11), 40, "-" and the digest fit.
    return f"maas-{kind}-{endpoint_name[:40]}-{_tenant_digest(tenant_id, endpoint_name)}"


def _tenant_digest(tenant_id: str, endpoint_name: str) -> str:
    return hashlib.sha256(f"{tenant_id}/{endpoint_name}".encode()).hexdigest()[:SUFFIX_LENGTH]


__all__ = [
    "IDLE_ALARM_PREFIX",
    "SUFFIX_LENGTH",
    "hours_schedule_name",
    "idle_alarm_name",
    "idle_teardown_execution_name",
    "kebab",
    "run_suffix",
    "sagemaker_endpoint_name",
    "sagemaker_name",
    "tenant_sagemaker_name",
    "ttl_schedule_name",
]
