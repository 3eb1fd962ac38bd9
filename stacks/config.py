"""The stage configuration: what differs between deployments of the same control plane.

A stage is chosen with the context key ``maas:stage`` and described under ``maas:stages`` in
``cdk.json`` (or on the command line, ``-c maas:stage=prod``). No account or region lives
here: the stacks use the deploying account's and region's tokens.

Examples
--------
>>> config = StageConfig.model_validate({"name": "dev", "settings": {"endpoint_poll_seconds": "5"}})
>>> config.setting("endpoint_poll_seconds"), config.setting("endpoint_max_status_checks")
('5', '120')
>>> config.stack_name("lifecycle")
'maas-dev-lifecycle'
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from pydantic import BaseModel, ConfigDict, Field, field_validator

# The API's limits are defined beside the local API that applies them too (one source).
from maas.api_limits import (
    DEFAULT_STAGE,
    STAGE_CONTEXT_KEY,
    STAGES_CONTEXT_KEY,
    ApiConfig,
    TenantPlan,
    read_cdk_json_context,
)
from maas.manifest import MANIFEST
from maas.naming import kebab
from schemas.common import TenantId


class StageConfigError(ValueError):
    """The stage configuration in the CDK context is missing or invalid."""


#: Instance families with GPUs, Inferentia, Trainium, FPGAs or media accelerators: the
#: packager converts and sizes models on CPUs, so an accelerator would only cost money.
_ACCELERATED_FAMILIES = re.compile(r"^(p|g|gr|inf|trn|dl|f|vt)\d")
#: An EC2 instance type: family (class, generation, attributes), a dot, a size.
_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z][a-z0-9-]*\d[a-z0-9-]*)\.(?P<size>[a-z0-9]+)$")
#: Graviton families (a ``g`` right after the generation, and ``a1``): the image is x86_64.
_ARM_FAMILY = re.compile(r"^([a-z]+\d+g|a1$)")


class PackagingConfig(BaseModel):
    """Where the stage's Batch jobs (the packager) run.

    Parameters
    ----------
    compute
        ``fargate`` (the default): serverless, up to the Fargate limits (16 vCPU, 120 GiB of
        memory, 200 GiB of task storage), enough for models up to about 30B parameters in
        16-bit weights. ``ec2``: a managed EC2 compute environment of ``instance_types``
        whose instances boot with a ``root_volume_gib`` gp3 root volume, for bigger models.
    instance_types
        With ``ec2``: the instance types Batch may launch. x86_64 and without accelerators
        (the packager image is built for linux/amd64 and converts on CPUs); each must hold
        the largest job's vCPUs and memory.
    root_volume_gib
        With ``ec2``: the size of each instance's encrypted gp3 root volume, where the job
        stages the model it downloads and converts.
    max_vcpus
        The most vCPUs the compute environment runs at once (both kinds): the number of
        concurrent packaging jobs is about this divided by a job's vCPUs.
    nat_gateways
        NAT gateways of the packaging VPC (jobs download from the Hugging Face Hub): one is
        cheapest, one per availability zone (2) survives the loss of a zone.

    Examples
    --------
    >>> PackagingConfig(compute="ec2", instance_types=("r6i.4xlarge",)).root_volume_gib
    500
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    compute: Literal["fargate", "ec2"] = "fargate"
    instance_types: tuple[str, ...] = Field(
        default=("m6i.2xlarge", "r6i.2xlarge", "r6i.4xlarge"), min_length=1
    )
    root_volume_gib: int = Field(default=500, ge=30, le=16384)
    max_vcpus: int = Field(default=64, ge=1, le=10000)
    nat_gateways: int = Field(default=1, ge=1, le=2)

    @field_validator("instance_types")
    @classmethod
    def _cpu_instance_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for instance_type in value:
            match = _INSTANCE_TYPE.fullmatch(instance_type)
            if match is None:
                raise ValueError(f"{instance_type!r} is not an EC2 instance type (m6i.2xlarge)")
            family = match.group("family")
            if _ACCELERATED_FAMILIES.match(family):
                raise ValueError(f"{instance_type!r} has accelerators; the packager runs on CPUs")
            if _ARM_FAMILY.match(family):
                raise ValueError(
                    f"{instance_type!r} is a Graviton (arm64) type; the packager image is x86_64"
                )
        return value


class AlarmsConfig(BaseModel):
    """Thresholds of the stage's alarms (``stacks/observability.py``).

    Every endpoint alarm is evaluated on 5-minute periods and fires after
    ``evaluation_periods`` breaching periods in a row; the workflow and dead-letter alarms
    fire on the first breaching period, as any one of those events needs a look.

    Parameters
    ----------
    error_rate_percent
        Invocation5XXErrors in percent of Invocations, summed over every endpoint.
    model_latency_ms
        The average ModelLatency of any one endpoint variant, in milliseconds. The default,
        30 s, is half of InvokeEndpoint's 60-second timeout: requests that slow are close to
        failing as 5xx.
    gpu_memory_percent
        GPUMemoryUtilization of any instance. SageMaker reports it summed over the instance's
        GPUs (0 to 100 times the GPU count), so 95 is "95 % full" on a one-GPU instance; raise
        it for stages that serve on multi-GPU instances. Above the 90 % that serving engines
        (vLLM, LMI) reserve up front, so it fires only when memory grows past that.
    evaluation_periods
        Breaching 5-minute periods in a row before an endpoint alarm fires.
    failed_executions
        Failed executions of one state machine in 5 minutes.
    dead_letters
        Events waiting in the rules' dead-letter queue.
    notify_emails
        Addresses subscribed to the alarm topic (each confirms by e-mail); others subscribe
        to the topic themselves.

    Examples
    --------
    >>> AlarmsConfig().model_latency_ms
    30000
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    error_rate_percent: float = Field(default=5.0, gt=0, le=100)
    model_latency_ms: int = Field(default=30_000, gt=0)
    gpu_memory_percent: float = Field(default=95.0, gt=0)
    evaluation_periods: int = Field(default=3, ge=1, le=288)
    failed_executions: int = Field(default=1, ge=1)
    dead_letters: int = Field(default=1, ge=1)
    notify_emails: tuple[str, ...] = ()

    @field_validator("notify_emails")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not _EMAIL.fullmatch(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value


#: Loose on purpose: SNS sends a confirmation, which is the real check of an address.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StageConfig(BaseModel):
    """One stage's configuration.

    Parameters
    ----------
    name
        The stage name. It prefixes stack names and the artifacts bucket's name, so it is
        short, lower-case and DNS-safe.
    settings
        Overrides of the manifest's settings (see ``MANIFEST.settings``); the rest keep their
        defaults.
    log_retention
        How long every log group keeps its events: a ``aws_logs.RetentionDays`` member name.
    event_archive_retention_days
        How long the bus archive keeps events for replay; 0 keeps them indefinitely.
    removal_policy
        What happens to the data (key, bucket, table, logs) when a stack is deleted.
        ``destroy`` is for throw-away stages: a bucket that still holds objects stays.
    tags
        Tags put on every resource, for example for cost allocation.
    packaging
        Where packaging jobs run: Fargate (default) or EC2 for big models, and the VPC's
        NAT gateways (see :class:`PackagingConfig`).
    alarms
        Thresholds of the stage's alarms and who is told (see :class:`AlarmsConfig`).
    guardrails
        Per-tenant Bedrock guardrails: tenant id -> path of a guardrail policy document
        (``schemas.guardrail.GuardrailPolicy``), relative to the project root. Tenants not
        named here get the stage's default guardrail (``guardrails/default.json``).
    api
        The REST API's throttles, per-tenant plans and WAF (see :class:`ApiConfig`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,11}$")
    settings: dict[str, str] = Field(default_factory=dict)
    log_retention: str = "ONE_MONTH"
    event_archive_retention_days: int = Field(default=365, ge=0)
    removal_policy: Literal["retain", "destroy"] = "retain"
    tags: dict[str, str] = Field(default_factory=dict)
    packaging: PackagingConfig = Field(default_factory=PackagingConfig)
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)
    guardrails: dict[TenantId, str] = Field(default_factory=dict)
    api: ApiConfig = Field(default_factory=ApiConfig)

    @field_validator("settings")
    @classmethod
    def _known_settings(cls, value: dict[str, str]) -> dict[str, str]:
        known = {spec.name for spec in MANIFEST.settings}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown settings {unknown}; known: {sorted(known)}")
        return value

    @field_validator("log_retention")
    @classmethod
    def _known_retention(cls, value: str) -> str:
        if value not in logs.RetentionDays.__members__:
            raise ValueError(f"{value!r} is not an aws_logs.RetentionDays member name")
        return value

    @classmethod
    def resolve(cls, context: dict[str, Any]) -> Self:
        """The configuration of the stage the context names.

        Parameters
        ----------
        context
            The CDK context: ``maas:stage`` (default ``dev``) and ``maas:stages``.

        Raises
        ------
        StageConfigError
            When the stage is not described or its description is invalid.
        """
        name = context.get(STAGE_CONTEXT_KEY) or DEFAULT_STAGE
        stages = context.get(STAGES_CONTEXT_KEY) or {}
        if name not in stages:
            raise StageConfigError(
                f"stage {name!r} is not under {STAGES_CONTEXT_KEY!r} in the CDK context; "
                f"described: {sorted(stages)}"
            )
        try:
            return cls.model_validate({"name": name, **stages[name]})
        except ValueError as exc:
            raise StageConfigError(f"stage {name!r}: {exc}") from None

    def setting(self, name: str) -> str:
        """The value of the manifest setting ``name`` in this stage."""
        if name == "stage_name":
            return self.name
        return self.settings.get(name, MANIFEST.setting(name).default)

    def stack_name(self, concern: str) -> str:
        """The CloudFormation name of this stage's stack for ``concern``."""
        return f"maas-{self.name}-{concern}"

    def resource_name(self, identifier: str) -> str:
        """The name of this stage's resource for the manifest id ``identifier``.

        The local runtime derives its names the same way, with its own prefix
        (``maas.local.provision``).

        Examples
        --------
        >>> StageConfig(name="dev").resource_name("PackagerQueue")
        'maas-dev-packager-queue'
        """
        return f"maas-{self.name}-{kebab(identifier)}"

    @property
    def retention(self) -> logs.RetentionDays:
        """Log retention as the CDK enum."""
        return logs.RetentionDays[self.log_retention]

    @property
    def cdk_removal_policy(self) -> RemovalPolicy:
        """The removal policy for stateful resources."""
        return RemovalPolicy.DESTROY if self.removal_policy == "destroy" else RemovalPolicy.RETAIN


__all__ = [
    "DEFAULT_STAGE",
    "STAGES_CONTEXT_KEY",
    "STAGE_CONTEXT_KEY",
    "AlarmsConfig",
    "ApiConfig",
    "PackagingConfig",
    "StageConfig",
    "StageConfigError",
    "TenantPlan",
    "read_cdk_json_context",
]
