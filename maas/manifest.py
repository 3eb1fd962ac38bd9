"""The one list of what the control plane is made of, read by the CDK stacks and the local runtime.

Functions (handler and environment), state machines (definition file and the values of its
``${Name}`` slots), event rules, and the tables, buckets, roles and log groups they refer to.
Values that differ between AWS and the local runtime are :class:`Ref` s: each world resolves
a ``Ref`` to its own ARN or name, so neither can drift from the other (a test synthesizes the
CDK app and compares).

Examples
--------
>>> MANIFEST.function("PlanDeployment").handler
'functions.plan_deployment.handler'
>>> sorted(MANIFEST.state_machine("Teardown").substitutions)  # doctest: +NORMALIZE_WHITESPACE
['ActForTenantFunctionArn', 'PlanTeardownFunctionArn', 'PublishEventFunctionArn',
 'RecordEndpointStatusFunctionArn']
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maas.naming import IDLE_ALARM_PREFIX
from schemas.alarms import ALARM_STATE_CHANGE, CLOUDWATCH_EVENT_SOURCE
from schemas.api import Workflow
from schemas.aws_events import (
    BATCH_SOURCE,
    ENDPOINT_STATE_CHANGE,
    JOB_STATE_CHANGE,
    SAGEMAKER_SOURCE,
    TENANT_TAG,
)
from schemas.lifecycle import CLIENT_EVENT_SOURCE

if TYPE_CHECKING:
    from collections.abc import Callable

#: The repository root: state machine files are relative to it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RefKind(StrEnum):
    """What a :class:`Ref` resolves to."""

    FUNCTION_ARN = "function_arn"
    STATE_MACHINE_ARN = "state_machine_arn"
    TABLE_NAME = "table_name"
    BUCKET_NAME = "bucket_name"
    EVENT_BUS_NAME = "event_bus_name"
    ROLE_ARN = "role_arn"
    LOG_GROUP_ARN = "log_group_arn"
    JOB_QUEUE_ARN = "job_queue_arn"
    JOB_DEFINITION_ARN = "job_definition_arn"
    SETTING = "setting"
    #: A customer managed IAM policy, named after its manifest id.
    POLICY_ARN = "policy_arn"
    #: The stage's physical name for a manifest id (``maas-<stage>-<id>``), where a name is
    #: a prefix that what is made at run time extends (the tenants' workflow roles).
    RESOURCE_NAME = "resource_name"


class Ref(BaseModel):
    """A value each world resolves itself: a resource of this manifest, or a stage setting."""

    model_config = ConfigDict(frozen=True)

    kind: RefKind
    target: str


def function_arn(target: str) -> Ref:
    """The ARN of the manifest's function ``target``."""
    return Ref(kind=RefKind.FUNCTION_ARN, target=target)


def state_machine_arn(target: str) -> Ref:
    """The ARN of the manifest's state machine ``target``."""
    return Ref(kind=RefKind.STATE_MACHINE_ARN, target=target)


def table_name(target: str) -> Ref:
    """The name of the manifest's table ``target``."""
    return Ref(kind=RefKind.TABLE_NAME, target=target)


def bucket_name(target: str) -> Ref:
    """The name of the manifest's bucket ``target``."""
    return Ref(kind=RefKind.BUCKET_NAME, target=target)


def role_arn(target: str) -> Ref:
    """The ARN of the manifest's role ``target``."""
    return Ref(kind=RefKind.ROLE_ARN, target=target)


def tenant_role_id(function_id: str) -> str:
    """The id of the role a workflow's function assumes for the tenant its input names."""
    return f"{function_id}TenantRole"


def acting_for_tenant(function_id: str) -> dict[str, Ref | str]:
    """The environment of a function that acts for one tenant per invocation: the role it
    assumes with the tenant as a session tag (:func:`maas.tenancy.from_environment`)."""
    return {"TENANT_ROLE_ARN": role_arn(tenant_role_id(function_id))}


def function_tenant_role(function_id: str, what: str) -> RoleSpec:
    """The role ``function_id`` assumes for one tenant, whose policies allow ``what``."""
    return RoleSpec(
        id=tenant_role_id(function_id),
        assumed_by_function=function_id,
        description=f"Assumed by {function_id} for the tenant its input names (session tag "
        f"maas:tenant): {what}",
    )


def job_queue_arn(target: str) -> Ref:
    """The ARN of the job queue of the manifest's Batch job ``target``."""
    return Ref(kind=RefKind.JOB_QUEUE_ARN, target=target)


def job_definition_arn(target: str) -> Ref:
    """The ARN of the job definition of the manifest's Batch job ``target``."""
    return Ref(kind=RefKind.JOB_DEFINITION_ARN, target=target)


def policy_arn(target: str) -> Ref:
    """The ARN of the customer managed policy ``target``."""
    return Ref(kind=RefKind.POLICY_ARN, target=target)


def resource_name(target: str) -> Ref:
    """The stage's physical name for the manifest id ``target``."""
    return Ref(kind=RefKind.RESOURCE_NAME, target=target)


def setting(target: str) -> Ref:
    """The value of the stage setting ``target``."""
    return Ref(kind=RefKind.SETTING, target=target)


def resolve_refs(value: Any, resolve: Callable[[Ref], str]) -> Any:
    """``value`` (an event pattern, say) with each :class:`Ref` in it replaced by ``resolve(ref)``.

    Examples
    --------
    >>> resolve_refs({"jobQueue": [job_queue_arn("Packager")]}, lambda ref: ref.target)
    {'jobQueue': ['Packager']}
    """
    if isinstance(value, Ref):
        return resolve(value)
    if isinstance(value, dict):
        return {key: resolve_refs(item, resolve) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_refs(item, resolve) for item in value]
    return value


EVENT_BUS = Ref(kind=RefKind.EVENT_BUS_NAME, target="EventBus")

_Frozen = ConfigDict(frozen=True, extra="forbid")


class TableSpec(BaseModel):
    """A DynamoDB table with string keys ``pk`` and ``sk``."""

    model_config = _Frozen
    id: str
    description: str
    time_to_live_attribute: str | None = Field(
        default=None, description="The attribute (epoch seconds) after which DynamoDB deletes."
    )


class BucketSpec(BaseModel):
    """An S3 bucket."""

    model_config = _Frozen
    id: str
    description: str


class RoleSpec(BaseModel):
    """A role that an AWS service, or one of the manifest's functions, assumes.

    A function (``assumed_by_function``) or a Batch job (``assumed_by_job``) assumes its role
    with session tags: the role's policies compare them with the resources a call touches
    (see :mod:`maas.tenancy`).
    """

    model_config = _Frozen
    id: str
    description: str
    service_principal: str | None = None
    assumed_by_function: str | None = None
    assumed_by_job: str | None = None

    @model_validator(mode="after")
    def _one_principal(self) -> Self:
        principals = (self.service_principal, self.assumed_by_function, self.assumed_by_job)
        if sum(principal is not None for principal in principals) != 1:
            raise ValueError(f"{self.id}: give one principal: a service, a function or a job")
        return self


class LogGroupSpec(BaseModel):
    """A CloudWatch Logs group, named ``/maas/<stage>/<name>`` on AWS, ``/maas/<name>`` locally.

    The stage in the name keeps two stages of one account and region apart.
    """

    model_config = _Frozen
    id: str
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="The last segment of the name.")
    description: str


class ManagedPolicySpec(BaseModel):
    """A customer managed IAM policy, named after its id, for roles made at run time to hold
    (each tenant's workflow role: :mod:`maas.workflow_roles`)."""

    model_config = _Frozen
    id: str
    description: str


class NamePrefixSpec(BaseModel):
    """A stage name (``maas-<stage>-<id>``) that names made at run time extend with ``-<...>``."""

    model_config = _Frozen
    id: str
    description: str


class SettingSpec(BaseModel):
    """A stage setting: its AWS default; the local runtime chooses its own value."""

    model_config = _Frozen
    name: str
    default: str
    description: str


class FunctionSpec(BaseModel):
    """A Lambda function: where its handler is and what its environment holds.

    A function is the control plane's zip code asset (``functions/``, ``maas/``,
    ``schemas/``: pure Python on the runtime and the Powertools layer) unless it names an
    ``image``: then it is that container image, built from the Dockerfile like a Batch job's,
    with ``awslambdaric`` running ``handler``. Locally both run in process alike.
    """

    model_config = _Frozen
    id: str
    handler: str = Field(pattern=r"^(functions|containers)(\.[a-z_]+)+$")
    description: str
    environment: dict[str, Ref | str] = Field(default_factory=dict)
    timeout_seconds: int = Field(default=30, ge=1, le=900)
    memory_mb: int = Field(default=256, ge=128, le=10240)
    image: str | None = Field(
        default=None, description="Path of the Dockerfile of a container-image function."
    )

    @property
    def role_id(self) -> str:
        """The id of the function's execution role (in the policy export, and locally)."""
        return f"{self.id}FunctionRole"

    @model_validator(mode="after")
    def _image_code_in_its_image(self) -> Self:
        # The zip asset holds functions/ only; a container's code is in its image alone.
        if self.handler.startswith("containers.") and self.image is None:
            raise ValueError(f"{self.id}: a handler under containers/ runs in an image: name it")
        return self


class JobSpec(BaseModel):
    """An AWS Batch job kind: its container, command, environment and queue.

    On AWS the image is built from ``dockerfile`` (context: the repository root) and the
    job runs on the stage's compute environment; locally the command runs as a subprocess
    of the checkout (see :mod:`maas.local.batch`).
    """

    model_config = _Frozen
    id: str
    description: str
    dockerfile: str = Field(description="Path of the Dockerfile, relative to the project root.")
    command: tuple[str, ...]
    environment: dict[str, Ref | str] = Field(default_factory=dict)
    vcpus: float = Field(gt=0)
    memory_mib: int = Field(ge=512)
    ephemeral_storage_gib: int = Field(
        default=21, ge=21, le=200, description="Fargate task storage: the model is staged here."
    )
    timeout_seconds: int = Field(ge=60)
    attempts: int = Field(default=1, ge=1, le=10)

    @property
    def role_id(self) -> str:
        """The id of the job's role, the one its container's credentials are of (in the
        policy export, and locally)."""
        return f"{self.id}JobRole"


class StateMachineSpec(BaseModel):
    """A Standard state machine from an ASL file with ``${Name}`` slots."""

    model_config = _Frozen
    id: str
    definition: str = Field(description="Path of the ASL file, relative to the project root.")
    description: str
    substitutions: dict[str, Ref]

    @property
    def definition_path(self) -> Path:
        """The ASL file."""
        return PROJECT_ROOT / self.definition

    def definition_text(self) -> str:
        """The ASL file's text, slots unfilled."""
        return self.definition_path.read_text()

    @property
    def role_id(self) -> str:
        """The id of the machine's execution role (in the policy export, and locally): the
        stacks give each machine a role of its own, as ``sfn.StateMachine`` does."""
        return f"{self.id}StateMachineRole"

    def slots(self) -> set[str]:
        """The ``${Name}`` slots the file uses."""
        return set(re.findall(r"\$\{([A-Za-z0-9]+)\}", self.definition_text()))


class RuleBus(StrEnum):
    """The bus a rule listens on."""

    #: The control plane's own bus: the product's events and what clients put there.
    CONTROL_PLANE = "control-plane"
    #: The account's default bus: AWS services (SageMaker, Batch, CloudWatch) put their
    #: events there and nowhere else.
    DEFAULT = "default"


class RuleSpec(BaseModel):
    """An EventBridge rule, on the control plane's bus unless it listens to AWS's own events."""

    model_config = _Frozen
    id: str
    description: str
    event_pattern: dict[str, Any]
    targets: tuple[Ref, ...]
    bus: RuleBus = RuleBus.CONTROL_PLANE


class ScheduleSpec(BaseModel):
    """A recurring EventBridge Scheduler schedule that invokes a function of the manifest.

    The manifest's ``SchedulerRole`` delivers it, on AWS and on the local runtime alike.
    """

    model_config = _Frozen
    id: str
    description: str
    expression: str = Field(pattern=r"^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$")
    target: Ref
    input: dict[str, Any] = Field(default_factory=dict)


SpecT = TypeVar("SpecT", FunctionSpec, JobSpec, StateMachineSpec)


class Manifest(BaseModel):
    """Everything that is built, by kind."""

    model_config = _Frozen
    tables: tuple[TableSpec, ...]
    buckets: tuple[BucketSpec, ...]
    roles: tuple[RoleSpec, ...]
    log_groups: tuple[LogGroupSpec, ...]
    settings: tuple[SettingSpec, ...]
    functions: tuple[FunctionSpec, ...]
    managed_policies: tuple[ManagedPolicySpec, ...] = ()
    name_prefixes: tuple[NamePrefixSpec, ...] = ()
    jobs: tuple[JobSpec, ...]
    state_machines: tuple[StateMachineSpec, ...]
    rules: tuple[RuleSpec, ...]
    schedules: tuple[ScheduleSpec, ...] = ()

    def function(self, function_id: str) -> FunctionSpec:
        """The function with id ``function_id``."""
        return _by_id(self.functions, function_id)

    def job(self, job_id: str) -> JobSpec:
        """The Batch job with id ``job_id``."""
        return _by_id(self.jobs, job_id)

    def state_machine(self, state_machine_id: str) -> StateMachineSpec:
        """The state machine with id ``state_machine_id``."""
        return _by_id(self.state_machines, state_machine_id)

    def setting(self, name: str) -> SettingSpec:
        """The setting called ``name``."""
        for spec in self.settings:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _by_id(specs: tuple[SpecT, ...], spec_id: str) -> SpecT:
    for spec in specs:
        if spec.id == spec_id:
            return spec
    raise KeyError(spec_id)


#: Where Powertools Idempotency keeps a record's expiry; the table's time to live reads it.
IDEMPOTENCY_EXPIRY_ATTRIBUTE = "expiration"

#: Every function carries these; Powertools reads them.
COMMON_ENVIRONMENT: dict[str, Ref | str] = {
    "POWERTOOLS_SERVICE_NAME": "maas",
    "POWERTOOLS_METRICS_NAMESPACE": "Maas",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

#: The Wait loops' pace, read by the functions that plan a workflow.
POLLING_ENVIRONMENT: dict[str, Ref | str] = {
    "ENDPOINT_POLL_SECONDS": setting("endpoint_poll_seconds"),
    "ENDPOINT_MAX_STATUS_CHECKS": setting("endpoint_max_status_checks"),
}

#: What one tenant may hold, read by the functions that check it (maas.endpoints.quotas).
QUOTA_ENVIRONMENT: dict[str, Ref | str] = {
    "TENANT_MAX_ENDPOINTS": setting("tenant_max_endpoints"),
    "TENANT_MAX_INSTANCES": setting("tenant_max_instances"),
}

#: Where model versions are recorded and packaged, and evaluations recorded and reported.
MODEL_REGISTRY_ENVIRONMENT: dict[str, Ref | str] = {
    "MODELS_TABLE_NAME": table_name("ModelsTable"),
    "ARTIFACTS_BUCKET_NAME": bucket_name("ArtifactsBucket"),
}

#: Where a handler that creates things keeps its answers (functions.common.idempotency).
IDEMPOTENCY_ENVIRONMENT: dict[str, Ref | str] = {
    "IDEMPOTENCY_TABLE_NAME": table_name("IdempotencyTable"),
}

MANIFEST = Manifest(
    tables=(
        TableSpec(id="EndpointsTable", description="Endpoint records, keyed by tenant."),
        TableSpec(id="ModelsTable", description="Model versions, keyed by tenant and model."),
        TableSpec(
            id="IdempotencyTable",
            description="Powertools Idempotency records of the handlers that create things: "
            "a repeated invocation gets the first one's answer.",
            time_to_live_attribute=IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        ),
    ),
    buckets=(BucketSpec(id="ArtifactsBucket", description="Packaged model artifacts."),),
    roles=(
        RoleSpec(
            id="SageMakerExecutionRole",
            service_principal="sagemaker.amazonaws.com",
            description="Assumed by SageMaker to pull the image and read model artifacts.",
        ),
        RoleSpec(
            id="SchedulerRole",
            service_principal="scheduler.amazonaws.com",
            description="Assumed by EventBridge Scheduler to start teardown at an endpoint's TTL, "
            "and stop_endpoint and start_endpoint on its hours.",
        ),
        RoleSpec(
            id="TenantAccessRole",
            assumed_by_function="Api",
            description="Assumed by the API for one tenant (session tag maas:tenant): its "
            "items, endpoints and executions only.",
        ),
        RoleSpec(
            id="PackagerTenantRole",
            assumed_by_job="Packager",
            description="Assumed by the packaging job for its tenant (session tag maas:tenant): "
            "the tenant's files, versions, records and Hub tokens only.",
        ),
        RoleSpec(
            id="EvaluatorTenantRole",
            assumed_by_job="Evaluator",
            description="Assumed by the evaluation job for its tenant (session tag "
            "maas:tenant): the tenant's evaluation files, corpora and endpoints only.",
        ),
        function_tenant_role(
            "PlanDeployment", "the tenant's versions, endpoint records and quota ledger."
        ),
        function_tenant_role("PlanTeardown", "the tenant's endpoint records and endpoints' tags."),
        function_tenant_role("PlanScaling", "the tenant's endpoint records and endpoints' tags."),
        function_tenant_role(
            "PlanUpdate", "the tenant's versions, endpoint records and endpoints' tags."
        ),
        function_tenant_role("PlanStop", "the tenant's endpoint records and endpoints' tags."),
        function_tenant_role("PlanStart", "the tenant's endpoint records and endpoints' tags."),
        function_tenant_role(
            "RecordEndpointStatus", "the tenant's endpoint records and quota ledger."
        ),
        function_tenant_role(
            "CleanupDeployment", "the tenant's SageMaker resources and idle alarms."
        ),
        function_tenant_role("PlanPackaging", "the tenant's version records."),
        function_tenant_role("PlanQuantization", "the tenant's version records."),
        function_tenant_role(
            "RegisterModelVersion",
            "the tenant's version records, packaged files and model packages.",
        ),
        function_tenant_role(
            "FailModelVersion", "the tenant's version records and packaged files."
        ),
        function_tenant_role(
            "PlanEvaluation",
            "the tenant's endpoint records, files, evaluations and their plans.",
        ),
        function_tenant_role(
            "AggregateEvaluation", "the tenant's evaluation records and shard results."
        ),
        function_tenant_role("RequestEvaluationReview", "the tenant's evaluation records."),
        function_tenant_role(
            "FinishEvaluation",
            "the tenant's evaluation records, results and reports, and its model packages.",
        ),
        function_tenant_role("RecordEvaluationFailure", "the tenant's evaluation records."),
    ),
    log_groups=(
        LogGroupSpec(
            id="EventLog",
            name="events",
            description="Every event the control plane publishes, for audit and the demo.",
        ),
    ),
    managed_policies=(
        ManagedPolicySpec(
            id="TenantWorkflowPolicy",
            description="What the endpoint workflows do for one tenant, the only policy of "
            "each tenant's workflow role.",
        ),
    ),
    name_prefixes=(
        NamePrefixSpec(
            id="TenantWorkflows",
            description="The tenants' workflow roles: <prefix>-<tenant>.",
        ),
    ),
    settings=(
        SettingSpec(
            name="endpoint_poll_seconds",
            default="30",
            description="Seconds between endpoint status checks in the Wait loops.",
        ),
        SettingSpec(
            name="endpoint_max_status_checks",
            default="120",
            description="Status checks before a deployment is declared timed out.",
        ),
        SettingSpec(
            name="tenant_max_endpoints",
            default="10",
            description="Endpoints one tenant may hold at once (stopped ones included).",
        ),
        SettingSpec(
            name="tenant_max_instances",
            default="20",
            description="Instances one tenant's endpoints may run at once, each counted at its "
            "autoscaling maximum.",
        ),
        SettingSpec(
            name="tenant_role_propagation_seconds",
            default="10",
            description="Seconds a tenant's new workflow role is given before its first use "
            "(IAM is eventually consistent).",
        ),
        SettingSpec(
            name="stage_name",
            default="dev",
            description="The stage's name: where the API finds the stage's guardrails "
            "(SSM /maas/<stage>/guardrails/...).",
        ),
    ),
    functions=(
        FunctionSpec(
            id="PlanDeployment",
            handler="functions.plan_deployment.handler",
            description="Validate a deployment request, hold it to the tenant's quotas and derive "
            "every name the workflow uses.",
            environment={
                **COMMON_ENVIRONMENT,
                **POLLING_ENVIRONMENT,
                **QUOTA_ENVIRONMENT,
                "ARTIFACTS_BUCKET_NAME": bucket_name("ArtifactsBucket"),
                "MODELS_TABLE_NAME": table_name("ModelsTable"),
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("PlanDeployment"),
            },
        ),
        FunctionSpec(
            id="PlanTeardown",
            handler="functions.plan_teardown.handler",
            description="Validate a teardown request, take the endpoint's record, list what goes.",
            environment={
                **IDEMPOTENCY_ENVIRONMENT,
                **COMMON_ENVIRONMENT,
                **POLLING_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("PlanTeardown"),
            },
        ),
        FunctionSpec(
            id="PlanScaling",
            handler="functions.plan_scaling.handler",
            description="Validate a scaling request against the endpoint's record and the "
            "tenant's instance quota, and take the record.",
            environment={
                **IDEMPOTENCY_ENVIRONMENT,
                **COMMON_ENVIRONMENT,
                **POLLING_ENVIRONMENT,
                **QUOTA_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("PlanScaling"),
            },
        ),
        FunctionSpec(
            id="PlanUpdate",
            handler="functions.plan_update.handler",
            description="Validate an update against the endpoint and the model registry, "
            "derive the new model, configuration and rollback alarms, and take the record.",
            environment={
                **IDEMPOTENCY_ENVIRONMENT,
                **COMMON_ENVIRONMENT,
                **POLLING_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("PlanUpdate"),
            },
        ),
        FunctionSpec(
            id="ActForTenant",
            handler="functions.act_for_tenant.handler",
            description="Make sure the tenant's workflow role exists and name it to the "
            "workflow's service calls.",
            environment={
                **COMMON_ENVIRONMENT,
                "TENANT_WORKFLOW_ROLE_PREFIX": resource_name("TenantWorkflows"),
                "TENANT_WORKFLOW_POLICY_ARN": policy_arn("TenantWorkflowPolicy"),
                "TENANT_ROLE_PROPAGATION_SECONDS": setting("tenant_role_propagation_seconds"),
            },
        ),
        FunctionSpec(
            id="PlanStop",
            handler="functions.plan_stop.handler",
            description="Read an endpoint's record when its hours close and take it for "
            "stopping, unless it is stopped already.",
            environment={
                **IDEMPOTENCY_ENVIRONMENT,
                **COMMON_ENVIRONMENT,
                **POLLING_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("PlanStop"),
            },
        ),
        FunctionSpec(
            id="PlanStart",
            handler="functions.plan_start.handler",
            description="Read a stopped endpoint's record when its hours open and take it for "
            "starting, unless it is in service already.",
            environment={
                **IDEMPOTENCY_ENVIRONMENT,
                **COMMON_ENVIRONMENT,
                **POLLING_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("PlanStart"),
            },
        ),
        FunctionSpec(
            id="RecordEndpointStatus",
            handler="functions.record_endpoint_status.handler",
            description="Move an endpoint record through its statuses with conditional writes, "
            "and settle its hold on the tenant's quotas.",
            environment={
                **COMMON_ENVIRONMENT,
                **QUOTA_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("RecordEndpointStatus"),
            },
        ),
        FunctionSpec(
            id="PublishEvent",
            handler="functions.publish_event.handler",
            description="Check an event detail against its schema and put it on the bus.",
            environment={
                **COMMON_ENVIRONMENT,
                **IDEMPOTENCY_ENVIRONMENT,
                "EVENT_BUS_NAME": EVENT_BUS,
            },
        ),
        FunctionSpec(
            id="CleanupDeployment",
            handler="functions.cleanup_deployment.handler",
            description="Delete what a failed deployment created, and only that.",
            environment={**COMMON_ENVIRONMENT, **acting_for_tenant("CleanupDeployment")},
            timeout_seconds=120,
        ),
        FunctionSpec(
            id="PlanPackaging",
            handler="functions.plan_packaging.handler",
            description="Validate a packaging request and open the next version of the model.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **IDEMPOTENCY_ENVIRONMENT,
                **acting_for_tenant("PlanPackaging"),
            },
        ),
        FunctionSpec(
            id="RegisterModelVersion",
            handler="functions.register_model_version.handler",
            description="Register a packaged version: model package and registry record.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **IDEMPOTENCY_ENVIRONMENT,
                **acting_for_tenant("RegisterModelVersion"),
            },
            timeout_seconds=60,
        ),
        FunctionSpec(
            id="FailModelVersion",
            handler="functions.fail_model_version.handler",
            description="Remove what a failed packaging left in S3 and mark the version FAILED.",
            environment={
                **IDEMPOTENCY_ENVIRONMENT,
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **acting_for_tenant("FailModelVersion"),
            },
            timeout_seconds=120,
        ),
        FunctionSpec(
            id="PlanQuantization",
            handler="functions.plan_quantization.handler",
            description="Check a quantization request's parent version and open the model's "
            "next version with its lineage.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **IDEMPOTENCY_ENVIRONMENT,
                **acting_for_tenant("PlanQuantization"),
            },
        ),
        FunctionSpec(
            id="Api",
            handler="functions.api.app.handler",
            description="The REST API: a tenant's models, endpoints, lifecycles and executions, "
            "and the original v1.1 paths.",
            environment={
                **COMMON_ENVIRONMENT,
                **QUOTA_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                "TENANT_ROLE_ARN": role_arn("TenantAccessRole"),
                "EVENT_LOG_GROUP_ARN": Ref(kind=RefKind.LOG_GROUP_ARN, target="EventLog"),
                "STAGE_NAME": setting("stage_name"),
                **{
                    f"{workflow.name}_STATE_MACHINE_ARN": state_machine_arn(
                        workflow.state_machine_id
                    )
                    for workflow in Workflow
                },
            },
            memory_mb=512,
        ),
        FunctionSpec(
            id="StartLifecycle",
            handler="functions.start_lifecycle.handler",
            description="Start the lifecycle a LifecycleRequested event asks for, named after "
            "its tenant and request id, once however often the event is delivered; a source "
            "that is not the tenant's to package is refused.",
            environment={
                **COMMON_ENVIRONMENT,
                "LIFECYCLE_STATE_MACHINE_ARN": state_machine_arn("Lifecycle"),
                "ARTIFACTS_BUCKET_NAME": bucket_name("ArtifactsBucket"),
            },
        ),
        FunctionSpec(
            id="TearDownIdleEndpoint",
            handler="functions.tear_down_idle_endpoint.handler",
            description="Start teardown of an endpoint whose idle alarm went off, read from "
            "the alarm's tags, once per state change however often it is delivered.",
            environment={
                **COMMON_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                "TEARDOWN_STATE_MACHINE_ARN": state_machine_arn("Teardown"),
            },
        ),
        FunctionSpec(
            id="EndpointStateChanged",
            handler="functions.endpoint_state_changed.handler",
            description="Keep SageMaker's word on an endpoint's record (its state change "
            "events); fail an unowned live record SageMaker reports failed or deleted.",
            environment={
                **COMMON_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
            },
        ),
        FunctionSpec(
            id="PackagingJobChanged",
            handler="functions.packaging_job_changed.handler",
            description="Keep Batch's word on a packaging job (RUNNABLE, STARTING, ...) on "
            "the version it packages.",
            environment={
                **COMMON_ENVIRONMENT,
                "MODELS_TABLE_NAME": table_name("ModelsTable"),
            },
        ),
        FunctionSpec(
            id="ReconcileEndpoints",
            handler="functions.reconcile_endpoints.handler",
            description="Compare the endpoint registry with SageMaker: repair drifted records, "
            "report (or delete) orphans, publish ReconcileReport.",
            environment={
                **COMMON_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                "EVENT_BUS_NAME": EVENT_BUS,
            },
            timeout_seconds=300,
        ),
        FunctionSpec(
            id="PlanEvaluation",
            handler="functions.plan_evaluation.handler",
            description="Check an evaluation can run (the endpoint in service, the metrics "
            "known), read and shard its question set, record it.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                "ENDPOINTS_TABLE_NAME": table_name("EndpointsTable"),
                **acting_for_tenant("PlanEvaluation"),
            },
        ),
        FunctionSpec(
            id="EvaluateShard",
            handler="containers.evaluator.lambda_handler.handler",
            image="containers/evaluator/Dockerfile",
            description="Answer and score one shard of a small evaluation: the Evaluator "
            "job's image as a function, where a Batch job would mostly be start-up.",
            environment={
                **COMMON_ENVIRONMENT,
                "MODELS_TABLE_NAME": table_name("ModelsTable"),
                "STAGE_NAME": setting("stage_name"),
            },
            timeout_seconds=900,
            memory_mb=10240,
        ),
        FunctionSpec(
            id="AggregateEvaluation",
            handler="functions.aggregate_evaluation.handler",
            description="Gather an evaluation's shard results, summarize each metric, judge the "
            "gate and choose the answers a person reviews.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **acting_for_tenant("AggregateEvaluation"),
            },
            timeout_seconds=120,
            memory_mb=512,
        ),
        FunctionSpec(
            id="RequestEvaluationReview",
            handler="functions.request_evaluation_review.handler",
            description="Keep the workflow's callback token on the evaluation while a person "
            "grades a sample of its answers.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **acting_for_tenant("RequestEvaluationReview"),
            },
        ),
        FunctionSpec(
            id="FinishEvaluation",
            handler="functions.finish_evaluation.handler",
            description="Write an evaluation's HTML report and JSON summary, record its verdict, "
            "reject the model version when the gate says so.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **acting_for_tenant("FinishEvaluation"),
            },
            timeout_seconds=120,
            memory_mb=512,
        ),
        FunctionSpec(
            id="RecordEvaluationFailure",
            handler="functions.record_evaluation_failure.handler",
            description="Mark a failed evaluation's record and describe the failure for its event.",
            environment={
                **COMMON_ENVIRONMENT,
                **MODEL_REGISTRY_ENVIRONMENT,
                **acting_for_tenant("RecordEvaluationFailure"),
            },
        ),
    ),
    jobs=(
        JobSpec(
            id="Packager",
            description="Download, convert, size and upload a model as a serving package.",
            dockerfile="containers/packager/Dockerfile",
            command=("python", "-m", "containers.packager.entrypoint"),
            environment={
                **MODEL_REGISTRY_ENVIRONMENT,
                "TENANT_ROLE_ARN": role_arn("PackagerTenantRole"),
            },
            vcpus=4,
            memory_mib=16384,
            ephemeral_storage_gib=200,
            timeout_seconds=4 * 3600,
        ),
        JobSpec(
            id="Evaluator",
            description="Run one shard of an evaluation's questions through the RAG pipeline "
            "against the endpoint and score the answers (ragas, the judge).",
            dockerfile="containers/evaluator/Dockerfile",
            command=("python", "-m", "containers.evaluator.entrypoint"),
            environment={
                "MODELS_TABLE_NAME": table_name("ModelsTable"),
                "STAGE_NAME": setting("stage_name"),
                "TENANT_ROLE_ARN": role_arn("EvaluatorTenantRole"),
            },
            vcpus=4,
            memory_mib=16384,
            timeout_seconds=4 * 3600,
        ),
    ),
    state_machines=(
        StateMachineSpec(
            id="Teardown",
            definition="state_machines/teardown.json",
            description="Delete an endpoint and everything that belongs to it.",
            substitutions={
                "PlanTeardownFunctionArn": function_arn("PlanTeardown"),
                "ActForTenantFunctionArn": function_arn("ActForTenant"),
                "RecordEndpointStatusFunctionArn": function_arn("RecordEndpointStatus"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
            },
        ),
        StateMachineSpec(
            id="StopEndpoint",
            definition="state_machines/stop_endpoint.json",
            description="Stop an endpoint outside its hours: delete it, keep its model and "
            "configuration.",
            substitutions={
                "PlanStopFunctionArn": function_arn("PlanStop"),
                "ActForTenantFunctionArn": function_arn("ActForTenant"),
                "RecordEndpointStatusFunctionArn": function_arn("RecordEndpointStatus"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
            },
        ),
        StateMachineSpec(
            id="StartEndpoint",
            definition="state_machines/start_endpoint.json",
            description="Start a stopped endpoint again from its kept configuration.",
            substitutions={
                "PlanStartFunctionArn": function_arn("PlanStart"),
                "ActForTenantFunctionArn": function_arn("ActForTenant"),
                "RecordEndpointStatusFunctionArn": function_arn("RecordEndpointStatus"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
            },
        ),
        StateMachineSpec(
            id="DeployEndpoint",
            definition="state_machines/deploy_endpoint.json",
            description="Deploy a model version on a SageMaker endpoint, or leave nothing behind.",
            substitutions={
                "PlanDeploymentFunctionArn": function_arn("PlanDeployment"),
                "ActForTenantFunctionArn": function_arn("ActForTenant"),
                "RecordEndpointStatusFunctionArn": function_arn("RecordEndpointStatus"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
                "CleanupDeploymentFunctionArn": function_arn("CleanupDeployment"),
                "SageMakerExecutionRoleArn": role_arn("SageMakerExecutionRole"),
                "SchedulerRoleArn": role_arn("SchedulerRole"),
                "TeardownStateMachineArn": state_machine_arn("Teardown"),
                "StopEndpointStateMachineArn": state_machine_arn("StopEndpoint"),
                "StartEndpointStateMachineArn": state_machine_arn("StartEndpoint"),
            },
        ),
        StateMachineSpec(
            id="ScaleEndpoint",
            definition="state_machines/scale_endpoint.json",
            description="Change a live endpoint's instance count and autoscaling.",
            substitutions={
                "PlanScalingFunctionArn": function_arn("PlanScaling"),
                "ActForTenantFunctionArn": function_arn("ActForTenant"),
                "RecordEndpointStatusFunctionArn": function_arn("RecordEndpointStatus"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
            },
        ),
        StateMachineSpec(
            id="UpdateEndpoint",
            definition="state_machines/update_endpoint.json",
            description="Serve another model version or instance type on a live endpoint, "
            "blue/green with rollback alarms.",
            substitutions={
                "PlanUpdateFunctionArn": function_arn("PlanUpdate"),
                "ActForTenantFunctionArn": function_arn("ActForTenant"),
                "RecordEndpointStatusFunctionArn": function_arn("RecordEndpointStatus"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
                "SageMakerExecutionRoleArn": role_arn("SageMakerExecutionRole"),
            },
        ),
        StateMachineSpec(
            id="PackageModel",
            definition="state_machines/package_model.json",
            description="Package a model for SageMaker and register it as a new version.",
            substitutions={
                "PlanPackagingFunctionArn": function_arn("PlanPackaging"),
                "RegisterModelVersionFunctionArn": function_arn("RegisterModelVersion"),
                "FailModelVersionFunctionArn": function_arn("FailModelVersion"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
                "PackagerJobQueueArn": job_queue_arn("Packager"),
                "PackagerJobDefinitionArn": job_definition_arn("Packager"),
            },
        ),
        StateMachineSpec(
            id="QuantizeModel",
            definition="state_machines/quantize_model.json",
            description="Quantize a registered version into the model's next version, with "
            "its lineage and measured size and perplexity.",
            substitutions={
                "PlanQuantizationFunctionArn": function_arn("PlanQuantization"),
                "RegisterModelVersionFunctionArn": function_arn("RegisterModelVersion"),
                "FailModelVersionFunctionArn": function_arn("FailModelVersion"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
                "PackagerJobQueueArn": job_queue_arn("Packager"),
                "PackagerJobDefinitionArn": job_definition_arn("Packager"),
            },
        ),
        StateMachineSpec(
            id="Evaluate",
            definition="state_machines/evaluate.json",
            description="Evaluate an endpoint on a question set: score, gate, review, report.",
            substitutions={
                "PlanEvaluationFunctionArn": function_arn("PlanEvaluation"),
                "AggregateEvaluationFunctionArn": function_arn("AggregateEvaluation"),
                "RequestEvaluationReviewFunctionArn": function_arn("RequestEvaluationReview"),
                "FinishEvaluationFunctionArn": function_arn("FinishEvaluation"),
                "RecordEvaluationFailureFunctionArn": function_arn("RecordEvaluationFailure"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
                "TeardownStateMachineArn": state_machine_arn("Teardown"),
                "EvaluatorJobQueueArn": job_queue_arn("Evaluator"),
                "EvaluatorJobDefinitionArn": job_definition_arn("Evaluator"),
                "EvaluateShardFunctionArn": function_arn("EvaluateShard"),
            },
        ),
        StateMachineSpec(
            id="Lifecycle",
            definition="state_machines/lifecycle.json",
            description="Package a model, deploy it, evaluate it if asked, and tear it down "
            "unless it is kept.",
            substitutions={
                "PackageModelStateMachineArn": state_machine_arn("PackageModel"),
                "DeployEndpointStateMachineArn": state_machine_arn("DeployEndpoint"),
                "EvaluateStateMachineArn": state_machine_arn("Evaluate"),
                "TeardownStateMachineArn": state_machine_arn("Teardown"),
                "PublishEventFunctionArn": function_arn("PublishEvent"),
            },
        ),
    ),
    rules=(
        RuleSpec(
            id="EventLogRule",
            description="Copy every maas event to the event log group.",
            event_pattern={"source": ["maas"]},
            targets=(Ref(kind=RefKind.LOG_GROUP_ARN, target="EventLog"),),
        ),
        RuleSpec(
            id="LifecycleRequestedRule",
            description="Start a lifecycle for each LifecycleRequested event clients put on "
            "the bus (source maas.client).",
            event_pattern={"source": [CLIENT_EVENT_SOURCE], "detail-type": ["LifecycleRequested"]},
            targets=(function_arn("StartLifecycle"),),
        ),
        RuleSpec(
            id="EndpointStateChangeRule",
            description="SageMaker's state changes of the platform's endpoints (tagged "
            "maas:tenant) update the endpoint registry.",
            event_pattern={
                "source": [SAGEMAKER_SOURCE],
                "detail-type": [ENDPOINT_STATE_CHANGE],
                "detail": {"Tags": {TENANT_TAG: [{"exists": True}]}},
            },
            targets=(function_arn("EndpointStateChanged"),),
            bus=RuleBus.DEFAULT,
        ),
        RuleSpec(
            id="PackagingJobStateChangeRule",
            description="Batch's state changes of jobs on the packager's queue annotate the "
            "model version each packages.",
            event_pattern={
                "source": [BATCH_SOURCE],
                "detail-type": [JOB_STATE_CHANGE],
                "detail": {"jobQueue": [job_queue_arn("Packager")]},
            },
            targets=(function_arn("PackagingJobChanged"),),
            bus=RuleBus.DEFAULT,
        ),
        RuleSpec(
            id="IdleAlarmRule",
            description="Tear down an endpoint whose idle alarm (CloudWatch, on the default "
            "bus) entered ALARM: no invocation for its idle limit.",
            event_pattern={
                "source": [CLOUDWATCH_EVENT_SOURCE],
                "detail-type": [ALARM_STATE_CHANGE],
                "detail": {
                    "alarmName": [{"prefix": IDLE_ALARM_PREFIX}],
                    "state": {"value": ["ALARM"]},
                },
            },
            targets=(function_arn("TearDownIdleEndpoint"),),
            bus=RuleBus.DEFAULT,
        ),
    ),
    schedules=(
        ScheduleSpec(
            id="ReconcileSchedule",
            description="Reconcile the registry with SageMaker every quarter hour; orphans "
            "are reported, not deleted.",
            expression="rate(15 minutes)",
            target=function_arn("ReconcileEndpoints"),
            input={"delete_orphans": False},
        ),
    ),
)

__all__ = [
    "COMMON_ENVIRONMENT",
    "EVENT_BUS",
    "IDEMPOTENCY_ENVIRONMENT",
    "IDEMPOTENCY_EXPIRY_ATTRIBUTE",
    "MANIFEST",
    "MODEL_REGISTRY_ENVIRONMENT",
    "POLLING_ENVIRONMENT",
    "PROJECT_ROOT",
    "BucketSpec",
    "FunctionSpec",
    "JobSpec",
    "LogGroupSpec",
    "ManagedPolicySpec",
    "Manifest",
    "NamePrefixSpec",
    "Ref",
    "RefKind",
    "RoleSpec",
    "RuleBus",
    "RuleSpec",
    "ScheduleSpec",
    "SettingSpec",
    "StateMachineSpec",
    "TableSpec",
    "bucket_name",
    "function_arn",
    "job_definition_arn",
    "job_queue_arn",
    "policy_arn",
    "resolve_refs",
    "resource_name",
    "role_arn",
    "setting",
    "state_machine_arn",
    "table_name",
]
