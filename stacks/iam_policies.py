"""IAM statements, each written once as a grant (its actions, resources and condition), each
as narrow as AWS allows; what each role is granted is the table in :mod:`stacks.rights`.

Every statement names its actions explicitly (no ``*`` and no ``service:*``) and builds its
ARNs from the partition, region and account pseudo-parameters, so they stay valid in any
account and the cdk-nag findings they produce are the same in every stage. Where AWS does
not support resource-level permissions for an action, the statement says so and the stack
acknowledges the ``*`` with that reason (see ``docs/stacks.md``).

Examples
--------
>>> scope = Scope(stage="dev", key="key-arn", artifacts="bucket-arn")
>>> DELETE_MODELS.statement(scope, Owner.SESSION_TENANT).to_json()["Condition"]
{'StringEquals': {'aws:ResourceTag/maas:tenant': '${aws:PrincipalTag/maas:tenant}'}}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from maas.guardrails.config import parameter_prefix
from maas.naming import IDLE_ALARM_PREFIX

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The tag every SageMaker resource the workflows create carries (``maas.endpoints.plan``).
TENANT_TAG = "maas:tenant"
#: Names of the alarms that roll an update back start with this.
ROLLBACK_ALARM_PREFIX = "maas-rollback-"
#: Names of time-to-live schedules start with this (``maas.naming.ttl_schedule_name``).
TTL_SCHEDULE_PREFIX = "maas-ttl-"
#: Names of on/off-hours schedules start with these (``maas.naming.hours_schedule_name``).
HOURS_SCHEDULE_PREFIXES = ("maas-stop-", "maas-start-")
#: Application Auto Scaling's service-linked role for SageMaker endpoint variants.
SAGEMAKER_AUTOSCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"


def arn(
    service: str, resource: str, *, region: str = Aws.REGION, account: str = Aws.ACCOUNT_ID
) -> str:
    """An ARN in this partition, by default in this region and account.

    Examples
    --------
    >>> from aws_cdk import App, Stack
    >>> Stack(App(), "S").resolve(arn("iam", "role/x", region=""))["Fn::Join"][1]
    ['arn:', {'Ref': 'AWS::Partition'}, ':iam::', {'Ref': 'AWS::AccountId'}, ':role/x']
    """
    return f"arn:{Aws.PARTITION}:{service}:{region}:{account}:{resource}"


#: Every SageMaker model, endpoint configuration and endpoint of this account and region.
#: Their names are derived from the user's endpoint name, so no narrower pattern holds.
SAGEMAKER_MODELS = arn("sagemaker", "model/*")
SAGEMAKER_ENDPOINT_CONFIGS = arn("sagemaker", "endpoint-config/*")
SAGEMAKER_ENDPOINTS = arn("sagemaker", "endpoint/*")
#: The one-time schedules that tear an endpoint down at its time-to-live.
TTL_SCHEDULES = arn("scheduler", f"schedule/default/{TTL_SCHEDULE_PREFIX}*")
#: The recurring schedules that stop an endpoint outside its hours and start it again.
STOP_SCHEDULES, START_SCHEDULES = (
    arn("scheduler", f"schedule/default/{prefix}*") for prefix in HOURS_SCHEDULE_PREFIXES
)
#: The alarms Application Auto Scaling creates for an endpoint's target-tracking policy.
TARGET_TRACKING_ALARMS = arn("cloudwatch", "alarm:TargetTracking-endpoint/*")
#: The alarms of endpoints' idle limits (``maas.naming.idle_alarm_name``).
IDLE_ALARMS = arn("cloudwatch", f"alarm:{IDLE_ALARM_PREFIX}*")
#: The rollback alarms an update creates (``maas.endpoints.update.ROLLBACK_ALARM_PREFIX``).
ROLLBACK_ALARMS = arn("cloudwatch", f"alarm:{ROLLBACK_ALARM_PREFIX}*")
#: Every alarm of this account and region: rollback alarms a caller names are its own.
ALARMS = arn("cloudwatch", "alarm:*")
#: The log groups SageMaker hosting writes container logs to.
SAGEMAKER_LOG_GROUPS = arn("logs", "log-group:/aws/sagemaker/*")
#: Serving images in any account's ECR repositories of this region: the LMI and TGI images
#: SageMaker serves models with are published by AWS in per-region accounts.
ECR_REPOSITORIES_IN_REGION = arn("ecr", "repository/*", account="*")
#: Application Auto Scaling's service-linked role for SageMaker.
SAGEMAKER_AUTOSCALING_ROLE = arn(
    "iam",
    f"role/aws-service-role/{SAGEMAKER_AUTOSCALING_SERVICE}/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
    region="",
)
#: SageMaker model package groups: one per tenant's model, ``<tenant>-<model>-<hash>``
#: (``maas.registry.model_package_group_name``).
SAGEMAKER_MODEL_PACKAGE_GROUPS = arn("sagemaker", "model-package-group/*")
#: Versioned model packages, ``model-package/<group>/<version>``.
SAGEMAKER_MODEL_PACKAGES = arn("sagemaker", "model-package/*")
#: Batch jobs of this account and region; a job's id is assigned when it is submitted.
BATCH_JOBS = arn("batch", "job/*")
#: The managed rule through which Step Functions learns that a Batch job it runs ended.
BATCH_JOB_EVENTS_RULE = arn("events", "rule/StepFunctionsGetEventsForBatchJobsRule")
#: The rule Step Functions manages to learn when a child execution of ``.sync`` ended.
STEP_FUNCTIONS_EXECUTION_EVENTS_RULE = arn(
    "events", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
)
#: The tenant a session acts for (maas.tenancy): its session tag, as a policy variable.
SESSION_TENANT = "${aws:PrincipalTag/maas:tenant}"
#: The session's tenant's secrets: named ``maas/<tenant>/...`` (``maas.tenancy``), in this
#: account and region; tag conditions pick the readable among them.
TENANT_SECRETS = arn("secretsmanager", f"secret:maas/{SESSION_TENANT}/*")
#: The tag, and its value, that make a secret a Hugging Face Hub token the packager may read.
HUB_TOKEN_TAG = "maas:purpose"
HUB_TOKEN_PURPOSE = "hub-token"
#: The ECS clusters and container instances AWS Batch makes for a managed EC2 environment.
ECS_CLUSTERS = arn("ecs", "cluster/*")
ECS_CONTAINER_INSTANCES = arn("ecs", "container-instance/*")
#: The tag every resource of a stage carries, with the stage's name (``stacks.control_plane``).
STAGE_TAG = "maas:stage"
#: Bedrock's foundation models in this region (their ARNs name no account).
BEDROCK_FOUNDATION_MODELS = arn("bedrock", "foundation-model/*", account="")
#: Bedrock guardrails of this account and region; a tag condition picks the stage's.
BEDROCK_GUARDRAILS = arn("bedrock", "guardrail/*")
#: Resource for actions that support no resource-level permissions.
ANY_RESOURCE = "*"

# --- Tenant conditions ---------------------------------------------------------------------
#
# Which condition keys each action supports is the Service Authorization Reference's word
# (a condition on an action that does not support its key never matches, so it would
# silently deny, or under a Null test silently allow):
# - SageMaker (endpoint, endpoint-config, model, model-package resource types carry
#   aws:ResourceTag; Create* and AddTags take aws:RequestTag and aws:TagKeys):
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
# - CloudWatch (the alarm resource type carries aws:ResourceTag; PutMetricAlarm and
#   TagResource take aws:RequestTag and aws:TagKeys):
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
# - EventBridge Scheduler: a schedule cannot be tagged (only schedule groups can, and the
#   product's schedules live in the default group), so schedule statements carry no tag
#   condition and stay scoped by name prefix:
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html
# - Secrets Manager (GetSecretValue takes aws:ResourceTag):
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
# - S3 (ListBucket takes s3:prefix; object ARNs may hold ${aws:PrincipalTag/...}):
#   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html


def created_with_tenant_tag() -> dict[str, dict[str, object]]:
    """A create (or its ``TagResource``/``AddTags``) must carry ``maas:tenant`` and only
    ``maas:`` tag keys: nothing the workflows make is left without an owner."""
    return {
        "Null": {f"aws:RequestTag/{TENANT_TAG}": "false"},
        "ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]},
    }


def product_tagged() -> dict[str, dict[str, object]]:
    """The resource carries a ``maas:tenant`` tag: it is one the workflows made for a tenant.

    For principals that act for every tenant (state machines, the reconciler): their
    session carries no tenant, so the most IAM can say is "only the product's resources".
    A resource that does not exist carries no tag either: AWS then answers AccessDenied,
    not NotFound.
    """
    return {"Null": {f"aws:ResourceTag/{TENANT_TAG}": "false"}}


def tagged_for_session_tenant() -> dict[str, dict[str, object]]:
    """The resource's ``maas:tenant`` tag is the session's: for roles assumed for one
    tenant with the session tag ``maas:tenant`` (:mod:`maas.tenancy`)."""
    return {"StringEquals": {f"aws:ResourceTag/{TENANT_TAG}": SESSION_TENANT}}


def created_for_session_tenant() -> dict[str, dict[str, object]]:
    """A create (or its tagging) must carry the session's tenant as ``maas:tenant`` and only
    ``maas:`` tag keys: a tenant's workflow role makes only its own tenant's resources."""
    return {
        "StringEquals": {f"aws:RequestTag/{TENANT_TAG}": SESSION_TENANT},
        "ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]},
    }


class Owner(StrEnum):
    """Whose resources a statement that creates, changes or deletes them reaches."""

    #: Any tenant's (the resource carries a ``maas:tenant`` tag): for principals that act
    #: for every tenant, the reconciler and the deployment's clean-up.
    PRODUCT = "product"
    #: The session's tenant's only: for the tenants' workflow roles (maas.workflow_roles),
    #: whose own ``maas:tenant`` tag is their sessions' principal tag, and the roles the
    #: workflows' functions assume for the tenant their input names (maas.tenancy).
    SESSION_TENANT = "session tenant"


def owned_by(owner: Owner) -> dict[str, dict[str, object]]:
    """The condition that a resource is ``owner``'s."""
    return product_tagged() if owner is Owner.PRODUCT else tagged_for_session_tenant()


def created_for(owner: Owner) -> dict[str, dict[str, object]]:
    """The condition that a create tags what it makes as ``owner``'s."""
    return created_with_tenant_tag() if owner is Owner.PRODUCT else created_for_session_tenant()


def items_of(owner: Owner) -> dict[str, dict[str, object]] | None:
    """The condition that a DynamoDB call touches only ``owner``'s items: none for the
    product (its tables hold nothing else), the partition ``TENANT#<tenant>`` of the
    session's tenant (``dynamodb:LeadingKeys``)."""
    if owner is Owner.PRODUCT:
        return None
    return {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}}


#: Why each wildcard resource pattern above is as narrow as it can be (cdk-nag IAM5).
PATTERN_REASONS: dict[str, str] = {
    SAGEMAKER_MODELS: (
        "SageMaker model names are derived per deployment from the endpoint name the request "
        "chooses, so no fixed name or prefix holds; limited to models of this account and "
        "region, and creation requires the maas:tenant request tag."
    ),
    SAGEMAKER_ENDPOINT_CONFIGS: (
        "Endpoint configuration names are derived per deployment from the endpoint name the "
        "request chooses; limited to this account and region, and creation requires the "
        "maas:tenant request tag."
    ),
    SAGEMAKER_ENDPOINTS: (
        "Endpoint names are chosen by each request (tenants name their endpoints); limited to "
        "endpoints of this account and region, and creation requires the maas:tenant request "
        "tag."
    ),
    TTL_SCHEDULES: (
        "Time-to-live schedule names embed the endpoint name (maas.naming.ttl_schedule_name); "
        "limited to the default schedule group, the maas-ttl- prefix, this account and region."
    ),
    STOP_SCHEDULES: (
        "On/off-hours schedule names embed the endpoint name "
        "(maas.naming.hours_schedule_name); limited to the default schedule group, the "
        "maas-stop- prefix, this account and region."
    ),
    START_SCHEDULES: (
        "On/off-hours schedule names embed the endpoint name "
        "(maas.naming.hours_schedule_name); limited to the default schedule group, the "
        "maas-start- prefix, this account and region."
    ),
    IDLE_ALARMS: (
        "Idle-limit alarm names embed the endpoint name (maas.naming.idle_alarm_name); "
        f"limited to the {IDLE_ALARM_PREFIX} prefix, this account and region."
    ),
    TARGET_TRACKING_ALARMS: (
        "Application Auto Scaling names a target-tracking policy's alarms "
        "TargetTracking-<resource id>-Alarm<High|Low>-<uuid>; limited to endpoint variants' "
        "alarms in this account and region."
    ),
    ROLLBACK_ALARMS: (
        "Rollback alarm names embed the new endpoint configuration's name, derived per update "
        "(maas.endpoints.update.rollback_alarms); limited to the maas-rollback- prefix in this "
        "account and region."
    ),
    ALARMS: (
        "SageMaker checks that the caller may read every rollback alarm of an update, and "
        "callers may name alarms of their own choosing; read-only (DescribeAlarms), in this "
        "account and region."
    ),
    SAGEMAKER_LOG_GROUPS: (
        "SageMaker hosting creates one log group per endpoint under /aws/sagemaker/Endpoints/; "
        "limited to SageMaker's log groups in this account and region."
    ),
    ECR_REPOSITORIES_IN_REGION: (
        "Serving images (LMI, TGI) are published by AWS in per-region accounts that the "
        "sagemaker SDK's image lookup picks per request; limited to repositories in this "
        "region and to the three image-pull actions."
    ),
    SAGEMAKER_MODEL_PACKAGE_GROUPS: (
        "Model package groups are named per tenant and model (<tenant>-<model>-<hash>, "
        "maas.registry.model_package_group_name) as versions are registered; limited to this "
        "account and region, and creation requires the maas:tenant request tag."
    ),
    SAGEMAKER_MODEL_PACKAGES: (
        "SageMaker numbers a group's model packages itself (model-package/<group>/<n>); "
        "limited to this account and region, and creation requires the maas:tenant request "
        "tag."
    ),
    BATCH_JOBS: (
        "A Batch job's id is assigned when the job is submitted, so the jobs a workflow "
        "terminates or tags cannot be named in advance; limited to jobs of this account and "
        "region."
    ),
    TENANT_SECRETS: (
        "A tenant's secrets are named maas/<tenant>/... (maas.tenancy.tenant_secret_prefix) "
        "with a suffix Secrets Manager adds; the session tag maas:tenant names the folder, and "
        "only secrets tagged maas:purpose=hub-token and maas:tenant=<the session's tenant> may "
        "be read (aws:ResourceTag condition), in this account and region."
    ),
    ECS_CLUSTERS: (
        "AWS Batch creates the ECS cluster of a managed EC2 compute environment under a "
        "generated name; the ECS agent on its instances registers with it. Limited to this "
        "account and region."
    ),
    ECS_CONTAINER_INSTANCES: (
        "Container instance ARNs are assigned when the ECS agent registers an instance that "
        "AWS Batch launched; limited to this account and region."
    ),
    BEDROCK_FOUNDATION_MODELS: (
        "An evaluation's request names the Bedrock judge or embedding model it uses; limited "
        "to foundation models in this region and to InvokeModel."
    ),
    BEDROCK_GUARDRAILS: (
        "Guardrail ids are assigned by Bedrock when the guardrails stack creates them; only "
        "guardrails tagged with this stage (aws:ResourceTag/maas:stage) may be applied, in "
        "this account and region."
    ),
}
#: Why each action that is granted on ``*`` needs it (cdk-nag IAM5 ``Resource::*``).
ANY_RESOURCE_REASONS: dict[str, str] = {
    "application-autoscaling:RegisterScalableTarget": (
        "application-autoscaling:RegisterScalableTarget: a scalable target's ARN holds an id "
        "assigned at registration, so it cannot be named in advance."
    ),
    "application-autoscaling:PutScalingPolicy": (
        "application-autoscaling:PutScalingPolicy: the scalable target's ARN is assigned at "
        "registration, so it cannot be named in advance."
    ),
    "application-autoscaling:DeregisterScalableTarget": (
        "application-autoscaling:DeregisterScalableTarget: the scalable target's ARN is "
        "assigned at registration and not recorded, so it cannot be named in advance."
    ),
    "ecr:GetAuthorizationToken": (
        "ecr:GetAuthorizationToken supports no resource-level permissions."
    ),
    "cloudwatch:PutMetricData": (
        "cloudwatch:PutMetricData supports no resource-level permissions; it is limited to "
        "the /aws/sagemaker/ namespaces by the cloudwatch:namespace condition."
    ),
    "sagemaker:ListModelPackages": (
        "sagemaker:ListModelPackages supports no resource-level permissions."
    ),
    "batch:DescribeJobs": ("batch:DescribeJobs supports no resource-level permissions."),
    "cloudwatch:GetMetricStatistics": (
        "cloudwatch:GetMetricStatistics supports no resource-level permissions."
    ),
    **{
        f"sagemaker:{action}": f"sagemaker:{action} supports no resource-level permissions."
        for action in ("ListEndpoints", "ListEndpointConfigs", "ListModels")
    },
    "ecs:DiscoverPollEndpoint": (
        "ecs:DiscoverPollEndpoint, which the ECS agent calls to find its endpoint, supports "
        "no resource-level permissions."
    ),
    "states:SendTaskSuccess": (
        "states:SendTaskSuccess supports no resource-level permissions: a task token names no "
        "ARN. The token is kept on the tenant's own evaluation record and never shown to "
        "callers, so a session can only resume a task it was handed."
    ),
    "xray:PutTraceSegments": (
        "xray:PutTraceSegments supports no resource-level permissions (the evaluator job's "
        "traces of each request to the endpoint)."
    ),
}

#: Why a role may touch every object of a bucket (``<bucket arn>/*``), by what it does there.
BUCKET_OBJECTS_REASON = (
    "Model artifacts live under <tenant>/<model>/<version>/ prefixes that each deployment "
    "names; limited to the objects of this stage's artifacts bucket."
)
#: Why a role may touch the objects under any version prefix (``<bucket arn>/*/*/*/*``).
VERSION_OBJECTS_REASON = (
    "A version's package is written under <tenant>/<model>/<version>/ "
    "(maas.registry.versions); the pattern admits only keys at least three folders deep in "
    "this stage's artifacts bucket, never a top-level object."
)


def bucket_objects(bucket_arn: str) -> str:
    """Every object of a bucket."""
    return f"{bucket_arn}/*"


def version_objects(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> str:
    """The objects under the version prefixes ``<tenant>/<model>/<version>/`` of a bucket:
    every tenant's, or the session's tenant's."""
    if owner is Owner.SESSION_TENANT:
        return tenant_version_objects(bucket_arn)
    return f"{bucket_arn}/*/*/*/*"


#: Where an evaluation's files live: ``evaluations/<tenant>/<evaluation id>/``
#: (``maas.evaluation.plan.evaluation_prefix``).
EVALUATIONS_FOLDER = "evaluations"
#: The files of an evaluation that each step writes, under its folder.
EVALUATION_PLAN_FILES = ("shards/*", "job.json")
EVALUATION_RESULT_FILES = ("results/*",)
EVALUATION_REPORT_FILES = ("report.html", "summary.json")


def evaluation_objects(bucket_arn: str, name: str = "*", owner: Owner = Owner.PRODUCT) -> str:
    """The objects ``name`` (a pattern) of every evaluation's folder, or all of them; of
    every tenant's evaluations, or of the session's tenant's."""
    tenant = "" if owner is Owner.PRODUCT else f"{SESSION_TENANT}/"
    if name == "*":
        return f"{bucket_arn}/{EVALUATIONS_FOLDER}/{tenant}*"
    return f"{bucket_arn}/{EVALUATIONS_FOLDER}/{tenant}*/{name}"


def tenant_evaluation_objects(bucket_arn: str) -> str:
    """The objects of the session's tenant's evaluations only."""
    return f"{bucket_arn}/{EVALUATIONS_FOLDER}/{SESSION_TENANT}/*"


def tenant_objects(bucket_arn: str) -> str:
    """The session's tenant's own files (``<tenant>/...``: knowledge corpora, question sets)."""
    return f"{bucket_arn}/{SESSION_TENANT}/*"


def tenant_version_objects(bucket_arn: str) -> str:
    """The objects under the session's tenant's version prefixes ``<tenant>/<model>/<version>/``."""
    return f"{bucket_arn}/{SESSION_TENANT}/*/*/*"


def owned_objects(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> str:
    """The objects of a bucket that ``owner``'s roles read: every object, or the session's
    tenant's own folder."""
    return bucket_objects(bucket_arn) if owner is Owner.PRODUCT else tenant_objects(bucket_arn)


#: Where a tenant's dataset versions live: ``<tenant>/_datasets/<name>/<sha256>.jsonl``
#: (``maas.datasets.store``); ``_`` is in no model name, so never a model's version prefix.
DATASETS_FOLDER = "_datasets"


def tenant_dataset_objects(bucket_arn: str) -> str:
    """The objects of the session's tenant's datasets only."""
    return f"{bucket_arn}/{SESSION_TENANT}/{DATASETS_FOLDER}/*"


def artifact_object_reasons(bucket_arn: str) -> dict[str, str]:
    """IAM5 reasons for the object patterns of ``bucket_arn`` (see ``acknowledge_wildcards``)."""
    folder = "evaluations/<tenant>/<evaluation id>/"
    reasons = {
        bucket_objects(bucket_arn): BUCKET_OBJECTS_REASON,
        version_objects(bucket_arn): VERSION_OBJECTS_REASON,
        evaluation_objects(bucket_arn): (
            f"An evaluation's files live under {folder} (maas.evaluation.plan), named per "
            "evaluation; limited to the evaluations folder of this stage's artifacts bucket."
        ),
        tenant_evaluation_objects(bucket_arn): (
            f"The evaluations of the session's tenant: {folder} with the tenant taken from the "
            "session tag maas:tenant, so a session reads its own tenant's files only."
        ),
        tenant_objects(bucket_arn): (
            "The session's tenant's own files (<tenant>/..., its knowledge corpora): the "
            "session tag maas:tenant names the folder, so a session reads its own tenant's "
            "files only."
        ),
        tenant_dataset_objects(bucket_arn): (
            "The session's tenant's datasets (<tenant>/_datasets/<name>/<sha256>.jsonl, "
            "maas.datasets.store): the session tag maas:tenant names the folder."
        ),
        tenant_version_objects(bucket_arn): (
            "The session's tenant's model versions (<tenant>/<model>/<version>/..., "
            "maas.registry.versions): the session tag maas:tenant names the folder, so a "
            "packaging session writes its own tenant's packages only."
        ),
    }
    for name in (*EVALUATION_PLAN_FILES, *EVALUATION_RESULT_FILES, *EVALUATION_REPORT_FILES):
        reasons[evaluation_objects(bucket_arn, name)] = (
            f"Each evaluation writes {name} in its own folder {folder}, named per evaluation; "
            "limited to that file name in the evaluations folder of this stage's artifacts "
            "bucket."
        )
        reasons[evaluation_objects(bucket_arn, name, Owner.SESSION_TENANT)] = (
            f"Each evaluation writes {name} in its own folder {folder}, named per evaluation; "
            "the session tag maas:tenant names the tenant's folder, so a session reaches its "
            "own tenant's evaluations only."
        )
    return reasons


def guardrail_parameters(stage: str) -> str:
    """The SSM parameters that announce a stage's guardrails (``maas.guardrails.config``)."""
    return arn("ssm", f"parameter{parameter_prefix(stage)}/*")


def guardrail_parameter_reasons(stage: str) -> dict[str, str]:
    """The IAM5 reason for reading a stage's guardrail parameters."""
    return {
        guardrail_parameters(stage): (
            f"The stage's default guardrail and one per tenant are announced under "
            f"{parameter_prefix(stage)}/ (default, tenants/<tenant>); limited to that path in "
            "this account and region, read only."
        )
    }


# --- Grants: every statement a role is given, each written once ----------------------------
#
# A grant is one statement as data: its actions, what it reaches (fixed patterns, or ARNs the
# role's stack knows, from its Scope) and its condition. What each workflow, function, job and
# role is granted is the table in ``stacks.rights``; a role's statements are built from it for
# the owner its role acts for (Owner.PRODUCT for a principal's own role, Owner.SESSION_TENANT
# for the roles that act for one tenant), so one grant serves both, held to each.

Conditions = dict[str, dict[str, object]]


def _unresolved(resource: str) -> str:
    raise KeyError(f"this stack's scope names no {resource!r}")


@dataclass(frozen=True)
class Scope:
    """The stage's resources a stack's grants name.

    Parameters
    ----------
    stage
        The stage's name (its guardrails are tagged and announced under it).
    key
        The customer managed key of the stage's tables and buckets.
    artifacts
        The artifacts bucket's ARN.
    resolve
        A resource's ARN by its manifest id: a table (``EndpointsTable``), the bus
        (``EventBus``), a log group (``EventLog``), a state machine, a role, a job's queue
        (``<job>:queue``) and definition (``<job>:definition``), the tenant workflow policy
        (``TenantWorkflowPolicy``). Called as a grant is built: a state machine built after
        the scope is made resolves then.
    name_of
        A state machine's name by its manifest id (execution ARNs are built from names).
    workflow_role_prefix
        The name prefix of the tenants' workflow roles (maas.workflow_roles).
    """

    stage: str
    key: str
    artifacts: str
    resolve: Callable[[str], str] = _unresolved
    name_of: Callable[[str], str] = _unresolved
    workflow_role_prefix: str = ""


#: What a grant reaches, and under which condition: as written, or as a scope and an owner
#: make it.
Reach = tuple[str, ...] | Callable[[Scope, Owner], Sequence[str]]
Condition = Conditions | Callable[[Scope, Owner], Conditions | None] | None


@dataclass(frozen=True)
class Grant:
    """One statement: ``actions`` on ``resources`` under ``conditions``."""

    actions: tuple[str, ...]
    resources: Reach
    conditions: Condition = None

    def statement(self, scope: Scope, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
        """The statement for a role of ``scope`` acting for ``owner``."""
        resources = self.resources(scope, owner) if callable(self.resources) else self.resources
        conditions = self.conditions(scope, owner) if callable(self.conditions) else self.conditions
        return iam.PolicyStatement(
            actions=list(self.actions), resources=list(resources), conditions=conditions
        )


def statements(
    grants: Iterable[Grant], scope: Scope, owner: Owner = Owner.PRODUCT
) -> list[iam.PolicyStatement]:
    """The statements of ``grants`` for a role of ``scope`` acting for ``owner``."""
    return [grant.statement(scope, owner) for grant in grants]


def _resolved(*resources: str) -> Callable[[Scope, Owner], list[str]]:
    return lambda scope, _owner: [scope.resolve(resource) for resource in resources]


def _artifacts(*paths: Callable[[str, Owner], str]) -> Callable[[Scope, Owner], list[str]]:
    return lambda scope, owner: [path(scope.artifacts, owner) for path in paths]


def _owned(_scope: Scope, owner: Owner) -> Conditions:
    return owned_by(owner)


def _created(_scope: Scope, owner: Owner) -> Conditions:
    return created_for(owner)


def _items(_scope: Scope, owner: Owner) -> Conditions | None:
    return items_of(owner)


def _via(service: str) -> Conditions:
    return {"StringEquals": {"kms:ViaService": f"{service}.{Aws.REGION}.amazonaws.com"}}


# --- DynamoDB and the key ---


def items(tables: str | tuple[str, ...], *actions: str) -> Grant:
    """``actions`` (``GetItem``...) on single items of ``tables``: any for the product (its
    tables hold nothing else), the session's tenant's partition for a tenant (:func:`items_of`)."""
    named = (tables,) if isinstance(tables, str) else tables
    return Grant(tuple(f"dynamodb:{action}" for action in actions), _resolved(*named), _items)


def use_key(service: str) -> Grant:
    """Use the stage's key for reads and writes, only through ``service`` (dynamodb, s3)."""
    actions = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
    return Grant(actions, lambda scope, _owner: [scope.key], _via(service))


def read_with_key(service: str) -> Grant:
    """Use the stage's key for reads only, only through ``service``."""
    actions = ("kms:Decrypt", "kms:DescribeKey")
    return Grant(actions, lambda scope, _owner: [scope.key], _via(service))


#: Powertools Idempotency's calls on its table: mark in progress, read, complete, forget.
KEEP_IDEMPOTENCY_RECORDS = items(
    "IdempotencyTable", "GetItem", "PutItem", "UpdateItem", "DeleteItem"
)
#: The reconciler reads every record.
SCAN_ENDPOINT_RECORDS = Grant(("dynamodb:Scan",), _resolved("EndpointsTable"))
USE_KEY_FOR_TABLES, USE_KEY_FOR_FILES = use_key("dynamodb"), use_key("s3")
READ_WITH_KEY_FOR_TABLES, READ_WITH_KEY_FOR_FILES = read_with_key("dynamodb"), read_with_key("s3")

# --- Lambda, Step Functions, EventBridge, CloudWatch Logs ---


def invoke_functions(*function_ids: str) -> Grant:
    """Invoke these functions, unqualified (the state machines call ``$LATEST``)."""
    return Grant(("lambda:InvokeFunction",), _resolved(*function_ids))


def pass_role(role_id: str, service: str) -> Grant:
    """Pass one role, and only to ``service`` (the service principal that assumes it)."""
    passed_to: Conditions = {"StringEquals": {"iam:PassedToService": service}}
    return Grant(("iam:PassRole",), _resolved(role_id), passed_to)


def start(state_machine_id: str) -> Grant:
    """Start executions of one state machine."""
    return Grant(("states:StartExecution",), _resolved(state_machine_id))


def executions_of(state_machine_name: str) -> str:
    """Every execution of one state machine (execution names are chosen when started)."""
    return arn("states", f"execution:{state_machine_name}:*")


def tenant_executions_of(state_machine_name: str) -> str:
    """The executions of one state machine that the session's tenant's requests started."""
    return arn("states", f"execution:{state_machine_name}:{SESSION_TENANT}_*")


def run_children(*state_machine_ids: str) -> tuple[Grant, ...]:
    """``states:startExecution.sync:2`` of child machines: start each, follow it (through
    the managed events rule and DescribeExecution), stop it when the parent is stopped."""
    return (
        *(start(child) for child in state_machine_ids),
        Grant(
            ("states:DescribeExecution", "states:StopExecution"),
            lambda scope, _owner: [executions_of(scope.name_of(c)) for c in state_machine_ids],
        ),
        Grant(
            ("events:DescribeRule", "events:PutRule", "events:PutTargets"),
            (STEP_FUNCTIONS_EXECUTION_EVENTS_RULE,),
        ),
    )


def read_tenant_executions(*state_machine_ids: str) -> Grant:
    """Read the status and history of the session's tenant's executions."""
    return Grant(
        ("states:DescribeExecution", "states:GetExecutionHistory"),
        lambda scope, _owner: [tenant_executions_of(scope.name_of(m)) for m in state_machine_ids],
    )


#: Resume a workflow waiting on a task token (an action with no resource-level permissions).
SEND_TASK_SUCCESS = Grant(("states:SendTaskSuccess",), (ANY_RESOURCE,))
PUT_EVENTS = Grant(("events:PutEvents",), _resolved("EventBus"))
#: Read (filter) the events of the event log.
READ_EVENT_LOG = Grant(("logs:FilterLogEvents",), _resolved("EventLog"))

# --- The tenants' workflow roles ---


def tenant_workflow_roles(prefix: str) -> str:
    """The tenants' workflow roles of a stage: ``<prefix>-<tenant>`` (maas.workflow_roles)."""
    return arn("iam", f"role/{prefix}-*", region="")


def _workflow_roles(scope: Scope, _owner: Owner) -> list[str]:
    return [tenant_workflow_roles(scope.workflow_role_prefix)]


#: Make a Task state's calls as a tenant's workflow role (the state's ``Credentials``). Step
#: Functions assumes the role with the state machine's role and passes no session tags: the
#: tenant is the role's own ``maas:tenant`` tag.
ACT_AS_TENANT_WORKFLOW_ROLES = Grant(("sts:AssumeRole",), _workflow_roles)
#: Find, or create, a tenant's workflow role: only under the stage's prefix, only tagged with
#: a tenant (``maas:`` keys alone), and holding only the tenant workflow policy. IAM authorizes
#: the tags given to ``CreateRole`` as ``iam:TagRole`` too; ``iam:PolicyARN`` holds
#: ``AttachRolePolicy`` to the one policy, so the role this makes can never have more rights
#: than a tenant's workflows
#: (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
MAKE_TENANT_WORKFLOW_ROLES = (
    Grant(("iam:GetRole",), _workflow_roles),
    Grant(("iam:CreateRole", "iam:TagRole"), _workflow_roles, created_with_tenant_tag()),
    Grant(
        ("iam:AttachRolePolicy",),
        _workflow_roles,
        lambda scope, _owner: {
            "ArnEquals": {"iam:PolicyARN": scope.resolve("TenantWorkflowPolicy")}
        },
    ),
)

# --- SageMaker hosting ---
#
# A create must carry maas:tenant and only maas: tag keys (created_for); AddTags is needed
# because SageMaker authorizes tags given at creation as a separate action. A change or delete
# reaches only what is tagged (owned_by): an endpoint of the account that is not the product's
# cannot be touched by a name that happens to match it.

#: Create models, endpoint configurations and endpoints (a deployment).
CREATE_HOSTING = Grant(
    (
        "sagemaker:AddTags",
        "sagemaker:CreateEndpoint",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateModel",
    ),
    (SAGEMAKER_MODELS, SAGEMAKER_ENDPOINT_CONFIGS, SAGEMAKER_ENDPOINTS),
    _created,
)
#: Create models and endpoint configurations, not endpoints (an update: its endpoint exists).
CREATE_MODELS_AND_CONFIGS = Grant(
    ("sagemaker:AddTags", "sagemaker:CreateEndpointConfig", "sagemaker:CreateModel"),
    (SAGEMAKER_MODELS, SAGEMAKER_ENDPOINT_CONFIGS),
    _created,
)
#: Create endpoints from kept configurations (a start within an endpoint's hours); SageMaker
#: authorizes CreateEndpoint on the configuration too.
CREATE_ENDPOINTS = Grant(
    ("sagemaker:AddTags", "sagemaker:CreateEndpoint"),
    (SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS),
    _created,
)
#: Move an endpoint to another configuration: SageMaker authorizes UpdateEndpoint on both.
UPDATE_ENDPOINTS = Grant(
    ("sagemaker:UpdateEndpoint",), (SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS), _owned
)
#: Read an endpoint's status. Unconditioned: a wait loop tells a deleted endpoint by
#: DescribeEndpoint's ValidationException, which a tag condition would turn into AccessDenied.
DESCRIBE_ENDPOINTS = Grant(("sagemaker:DescribeEndpoint",), (SAGEMAKER_ENDPOINTS,))
#: Describe only the owner's endpoints (the API shows a tenant its own).
DESCRIBE_OWN_ENDPOINTS = Grant(("sagemaker:DescribeEndpoint",), (SAGEMAKER_ENDPOINTS,), _owned)
#: Read an endpoint's status and tags: each plan reads the maas:tenant tag
#: (maas.endpoints.ownership), any endpoint's, to tell another tenant's (refused as missing)
#: from none.
INSPECT_ENDPOINTS = Grant(
    ("sagemaker:DescribeEndpoint", "sagemaker:ListTags"), (SAGEMAKER_ENDPOINTS,)
)
#: List endpoints, configurations and models (no resource-level permissions).
LIST_HOSTING = Grant(
    ("sagemaker:ListEndpoints", "sagemaker:ListEndpointConfigs", "sagemaker:ListModels"),
    (ANY_RESOURCE,),
)
#: Read whose endpoints, configurations and models are (their tags).
READ_HOSTING_TAGS = Grant(
    ("sagemaker:ListTags",),
    (SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS, SAGEMAKER_MODELS),
)
DELETE_ENDPOINTS = Grant(("sagemaker:DeleteEndpoint",), (SAGEMAKER_ENDPOINTS,), _owned)
DELETE_ENDPOINT_CONFIGS = Grant(
    ("sagemaker:DeleteEndpointConfig",), (SAGEMAKER_ENDPOINT_CONFIGS,), _owned
)
DELETE_MODELS = Grant(("sagemaker:DeleteModel",), (SAGEMAKER_MODELS,), _owned)
#: Invoke only the owner's endpoints (the API's invoke, an evaluation's answers).
INVOKE_ENDPOINTS = Grant(("sagemaker:InvokeEndpoint",), (SAGEMAKER_ENDPOINTS,), _owned)

# --- CloudWatch alarms ---

#: The alarms that roll an update back: create (with their tags), delete; and read every
#: alarm, since SageMaker checks the caller may read an update's rollback alarms.
CREATE_ROLLBACK_ALARMS = Grant(
    ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"), (ROLLBACK_ALARMS,), _created
)
DELETE_ROLLBACK_ALARMS = Grant(("cloudwatch:DeleteAlarms",), (ROLLBACK_ALARMS,), _owned)
DESCRIBE_ALARMS = Grant(("cloudwatch:DescribeAlarms",), (ALARMS,))
#: An endpoint's idle-limit alarm: put it with its tags (which takes TagResource too), delete
#: it, set it back to OK when its endpoint starts again; read it and its tags (whose endpoint
#: it watches).
CREATE_IDLE_ALARMS = Grant(
    ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"), (IDLE_ALARMS,), _created
)
DELETE_IDLE_ALARMS = Grant(("cloudwatch:DeleteAlarms",), (IDLE_ALARMS,), _owned)
RESTART_IDLE_CLOCKS = Grant(("cloudwatch:SetAlarmState",), (IDLE_ALARMS,), _owned)
JUDGE_IDLE_ALARMS = Grant(
    ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"), (IDLE_ALARMS,)
)
#: Read endpoint metrics' datapoints (GetMetricStatistics has no resource type).
READ_ENDPOINT_METRICS = Grant(("cloudwatch:GetMetricStatistics",), (ANY_RESOURCE,))

# --- Application Auto Scaling ---

#: Register an endpoint variant as a scalable target and put its scaling policy. A scalable
#: target's ARN holds an id assigned at registration, so no statement can name it: ``*``.
REGISTER_SCALING = Grant(
    (
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:RegisterScalableTarget",
    ),
    (ANY_RESOURCE,),
)
#: Deregister an endpoint variant's scalable target (and with it its policies).
DEREGISTER_SCALING = Grant(("application-autoscaling:DeregisterScalableTarget",), (ANY_RESOURCE,))
#: What Application Auto Scaling checks the caller may read of the endpoint it registers (it
#: checks UpdateEndpointWeightsAndCapacities too: UPDATE_CAPACITIES, held to the owner's).
READ_SCALED_VARIANTS = Grant(
    ("sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig"),
    (SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS),
)
#: Change an endpoint variant's instance count in place.
UPDATE_CAPACITIES = Grant(
    ("sagemaker:UpdateEndpointWeightsAndCapacities",), (SAGEMAKER_ENDPOINTS,), _owned
)
#: The alarms of an endpoint's target-tracking policy: create, read and delete; read and
#: delete only (a clean-up).
MANAGE_SCALING_ALARMS = Grant(
    ("cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"),
    (TARGET_TRACKING_ALARMS,),
)
DELETE_SCALING_ALARMS = Grant(
    ("cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"), (TARGET_TRACKING_ALARMS,)
)
#: Create Application Auto Scaling's SageMaker service-linked role on first use.
CREATE_AUTOSCALING_ROLE = Grant(
    ("iam:CreateServiceLinkedRole",),
    (SAGEMAKER_AUTOSCALING_ROLE,),
    {"StringEquals": {"iam:AWSServiceName": SAGEMAKER_AUTOSCALING_SERVICE}},
)
#: What an endpoint's autoscaling takes: its target and policy, what Application Auto Scaling
#: checks, the policy's alarms, its service-linked role.
AUTOSCALE = (
    REGISTER_SCALING,
    READ_SCALED_VARIANTS,
    UPDATE_CAPACITIES,
    MANAGE_SCALING_ALARMS,
    CREATE_AUTOSCALING_ROLE,
)

# --- EventBridge Scheduler: an endpoint's time-to-live and on/off hours ---

CREATE_TTL_SCHEDULES = Grant(("scheduler:CreateSchedule",), (TTL_SCHEDULES,))
DELETE_TTL_SCHEDULES = Grant(("scheduler:DeleteSchedule",), (TTL_SCHEDULES,))
CREATE_HOURS_SCHEDULES = Grant(("scheduler:CreateSchedule",), (STOP_SCHEDULES, START_SCHEDULES))
DELETE_HOURS_SCHEDULES = Grant(("scheduler:DeleteSchedule",), (STOP_SCHEDULES, START_SCHEDULES))

# --- The model registry ---

#: Create model package groups and versioned model packages (created_for, as for endpoints).
CREATE_MODEL_PACKAGES = Grant(
    (
        "sagemaker:AddTags",
        "sagemaker:CreateModelPackage",
        "sagemaker:CreateModelPackageGroup",
    ),
    (SAGEMAKER_MODEL_PACKAGE_GROUPS, SAGEMAKER_MODEL_PACKAGES),
    _created,
)
#: Read model package groups and packages (a retry finds the package it made).
DESCRIBE_MODEL_PACKAGES = Grant(
    ("sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"),
    (SAGEMAKER_MODEL_PACKAGE_GROUPS, SAGEMAKER_MODEL_PACKAGES),
)
#: List a group's model packages (an action with no resource-level permissions).
LIST_MODEL_PACKAGES = Grant(("sagemaker:ListModelPackages",), (ANY_RESOURCE,))
#: Set a model package's approval (Rejected), only on the owner's.
REJECT_MODEL_PACKAGES = Grant(
    ("sagemaker:UpdateModelPackage",), (SAGEMAKER_MODEL_PACKAGES,), _owned
)

# --- The artifacts bucket ---
#
# Every path is the owner's: the product's reach every tenant's folder, a tenant's session
# only its own (the session tag maas:tenant names it).

#: Read the objects under the version prefixes (a package's manifest).
READ_VERSIONS = Grant(("s3:GetObject",), _artifacts(version_objects))
#: Delete them (what a failed packaging left).
DELETE_VERSIONS = Grant(("s3:DeleteObject",), _artifacts(version_objects))
#: Upload (in parts) and delete them (the packaging job).
WRITE_VERSIONS = Grant(
    ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"), _artifacts(version_objects)
)
#: List the bucket only under a version prefix <tenant>/<model>/<version>/.
LIST_VERSIONS = Grant(
    ("s3:ListBucket",),
    lambda scope, _owner: [scope.artifacts],
    lambda _scope, owner: {
        "StringLike": {"s3:prefix": f"{'*' if owner is Owner.PRODUCT else SESSION_TENANT}/*/*/"}
    },
)
#: List the bucket only under the session's tenant's folder.
LIST_TENANT_FOLDER = Grant(
    ("s3:ListBucket",),
    lambda scope, _owner: [scope.artifacts],
    {"StringLike": {"s3:prefix": f"{SESSION_TENANT}/*"}},
)
#: Read the owner's files: any object for the product (a source may be anywhere), the
#: tenant's folder <tenant>/... for a tenant (a packaging source, a question set).
READ_FILES = Grant(("s3:GetObject",), _artifacts(owned_objects))
#: Read the evaluations' files and the knowledge corpora an evaluation retrieves from: any
#: object for the product; the tenant's evaluations and own folder for a tenant.
READ_EVALUATIONS_AND_CORPORA = Grant(
    ("s3:GetObject",),
    lambda scope, owner: (
        [bucket_objects(scope.artifacts)]
        if owner is Owner.PRODUCT
        else [tenant_evaluation_objects(scope.artifacts), tenant_objects(scope.artifacts)]
    ),
)
#: An evaluation's files: read them (job documents, shards, results); write its shards and
#: job document, a shard's scored answers, its report and summary, nothing else of its folder.
READ_EVALUATIONS = Grant(
    ("s3:GetObject",),
    lambda scope, owner: [evaluation_objects(scope.artifacts, owner=owner)],
)


def write_evaluation_files(names: Sequence[str]) -> Grant:
    """Put the files ``names`` (patterns) of an evaluation's folder, nothing else of it."""
    return Grant(
        ("s3:PutObject",),
        lambda scope, owner: [evaluation_objects(scope.artifacts, name, owner) for name in names],
    )


WRITE_EVALUATION_PLANS = write_evaluation_files(EVALUATION_PLAN_FILES)
WRITE_EVALUATION_RESULTS = write_evaluation_files(EVALUATION_RESULT_FILES)
WRITE_EVALUATION_REPORTS = write_evaluation_files(EVALUATION_REPORT_FILES)
#: Read the session's tenant's Hugging Face tokens: secrets named maas/<tenant>/... and tagged
#: maas:purpose=hub-token and maas:tenant=<the session's tenant>, no other. DescribeSecret too:
#: the job checks the owner before it reads the value (maas.tenancy.owns_secret).
READ_TENANT_HUB_TOKENS = Grant(
    ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"),
    (TENANT_SECRETS,),
    {
        "StringEquals": {
            f"aws:ResourceTag/{HUB_TOKEN_TAG}": HUB_TOKEN_PURPOSE,
            f"aws:ResourceTag/{TENANT_TAG}": SESSION_TENANT,
        }
    },
)

# --- Batch jobs ---


def run_batch_job(job_id: str) -> tuple[Grant, ...]:
    """``batch:submitJob.sync`` of one manifest job: submit it (its definition's ARN without a
    revision, which Batch reads as the latest active one, and each revision) with the
    workflow's ``maas:`` tags, follow it through the managed events rule and DescribeJobs (no
    resource-level permissions), terminate it when the task is stopped."""
    return (
        Grant(
            ("batch:SubmitJob",),
            lambda scope, _owner: [
                scope.resolve(f"{job_id}:queue"),
                scope.resolve(f"{job_id}:definition"),
                job_definition_revisions(scope.resolve(f"{job_id}:definition")),
            ],
        ),
        Grant(
            ("batch:TagResource",),
            (BATCH_JOBS,),
            {"ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]}},
        ),
        Grant(("batch:DescribeJobs",), (ANY_RESOURCE,)),
        Grant(("batch:TerminateJob",), (BATCH_JOBS,)),
        Grant(
            ("events:DescribeRule", "events:PutRule", "events:PutTargets"),
            (BATCH_JOB_EVENTS_RULE,),
        ),
    )


def job_definition_revisions(job_definition_arn: str) -> str:
    """Every revision of a job definition, given its ARN without a revision."""
    return f"{job_definition_arn}:*"


# --- Bedrock, guardrails, X-Ray ---

#: Invoke Bedrock foundation models of this region (a judge, an embedder).
INVOKE_FOUNDATION_MODELS = Grant(("bedrock:InvokeModel",), (BEDROCK_FOUNDATION_MODELS,))
#: Apply the guardrails of the stage (tagged maas:stage), no other.
APPLY_STAGE_GUARDRAILS = Grant(
    ("bedrock:ApplyGuardrail",),
    (BEDROCK_GUARDRAILS,),
    lambda scope, _owner: {"StringEquals": {f"aws:ResourceTag/{STAGE_TAG}": scope.stage}},
)
#: Read the SSM parameters that say which guardrail guards a tenant in the stage.
READ_GUARDRAIL_PARAMETERS = Grant(
    ("ssm:GetParameter",), lambda scope, _owner: [guardrail_parameters(scope.stage)]
)
#: Send X-Ray segments (an action with no resource-level permissions).
PUT_TRACE_SEGMENTS = Grant(("xray:PutTraceSegments",), (ANY_RESOURCE,))

# --- What SageMaker runs a model with (the SageMaker execution role) ---

#: List the artifacts bucket and read its objects (model data is under tenant prefixes).
READ_ARTIFACTS_BUCKET = Grant(
    ("s3:GetObject", "s3:ListBucket"),
    lambda scope, _owner: [scope.artifacts, bucket_objects(scope.artifacts)],
)
#: Pull serving images from ECR repositories in this region; the token has no resource.
PULL_SERVING_IMAGES = Grant(
    ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
    (ECR_REPOSITORIES_IN_REGION,),
)
GET_REGISTRY_TOKEN = Grant(("ecr:GetAuthorizationToken",), (ANY_RESOURCE,))
#: Write the serving containers' logs to SageMaker's log groups.
WRITE_SAGEMAKER_LOGS = Grant(
    (
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ),
    (SAGEMAKER_LOG_GROUPS,),
)
#: Publish metrics, only to SageMaker's namespaces (the action has no resource ARNs).
PUT_SAGEMAKER_METRICS = Grant(
    ("cloudwatch:PutMetricData",),
    (ANY_RESOURCE,),
    {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
)

# --- Datasets: the API acting for one tenant (maas.datasets) ---

#: Write and delete the objects of the session's tenant's datasets only (a version's JSONL;
#: a delete empties the dataset's folder).
WRITE_TENANT_DATASETS = Grant(
    ("s3:DeleteObject", "s3:PutObject"),
    lambda scope, _owner: [tenant_dataset_objects(scope.artifacts)],
)


# --- Statements of constructs, trust and resource policies --------------------------------


def write_logs(log_group_arn: str) -> iam.PolicyStatement:
    """Write log events to one log group (its ARN from ``LogGroup.log_group_arn``)."""
    return iam.PolicyStatement(
        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[log_group_arn],
    )


def trust_conditions(service_principal: str) -> dict[str, dict[str, str]] | None:
    """Conditions on a service's assumption of a role, where the service documents them.

    EventBridge Scheduler sets ``aws:SourceAccount`` when it assumes a schedule's role, so
    the trust policy can refuse schedules of other accounts (the confused deputy).
    """
    if service_principal == "scheduler.amazonaws.com":
        return {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
    return None


#: A session for one tenant names exactly one tenant, in the ``maas:tenant`` tag.
_ONE_TENANT_TAG = {
    "StringLike": {"aws:RequestTag/maas:tenant": "?*"},
    "ForAllValues:StringEquals": {"aws:TagKeys": ["maas:tenant"]},
}


def tenant_session_principal(role_arn: str) -> iam.IPrincipal:
    """Trust a role (a function's, a job's) to assume a role for one tenant, naming it in a
    session tag."""
    return iam.ArnPrincipal(role_arn).with_conditions(_ONE_TENANT_TAG).with_session_tags()


def assume_for_tenants(role_arn: str) -> iam.PolicyStatement:
    """Assume ``role_arn`` for one tenant at a time (the tenant in the session tag)."""
    return iam.PolicyStatement(
        actions=["sts:AssumeRole", "sts:TagSession"],
        resources=[role_arn],
        conditions=_ONE_TENANT_TAG,
    )


# --- Resource policies -------------------------------------------------------------------


def logs_use_key() -> iam.PolicyStatement:
    """Key policy: let CloudWatch Logs in this region encrypt this account's log groups."""
    return iam.PolicyStatement(
        principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
        actions=[
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ],
        # In a key policy, "*" is the key itself.
        resources=[ANY_RESOURCE],
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": arn("logs", "log-group:*")}},
    )


def rule_writes_logs(log_group_arn: str, rule_arn: str) -> iam.PolicyStatement:
    """Log group resource policy: let one EventBridge rule deliver events to the group."""
    return iam.PolicyStatement(
        principals=[
            iam.ServicePrincipal("events.amazonaws.com"),
            iam.ServicePrincipal("delivery.logs.amazonaws.com"),
        ],
        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[log_group_arn],
        conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
    )


def alarms_use_key() -> iam.PolicyStatement:
    """Key policy of an alarm topic's key: let CloudWatch publish to the encrypted topic.

    CloudWatch needs a data key to put a notification in an SSE topic. No condition: the
    key encrypts that one topic only, so the service may use it for nothing else.
    """
    return iam.PolicyStatement(
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        # In a key policy, "*" is the key itself.
        resources=[ANY_RESOURCE],
    )


def alarms_publish(topic_arn: str, alarm_name_prefix: str) -> iam.PolicyStatement:
    """Topic policy: let this account's alarms named ``<alarm_name_prefix>*`` publish."""
    return iam.PolicyStatement(
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["sns:Publish"],
        resources=[topic_arn],
        conditions={
            "ArnLike": {"aws:SourceArn": arn("cloudwatch", f"alarm:{alarm_name_prefix}*")},
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
        },
    )


# --- The ECS agent on EC2 compute ----------------------------------------------------------


def run_ecs_container_instances() -> iam.PolicyStatement:
    """What the ECS agent on a Batch instance does with its cluster and its own instance."""
    return iam.PolicyStatement(
        actions=[
            "ecs:DeregisterContainerInstance",
            "ecs:Poll",
            "ecs:RegisterContainerInstance",
            "ecs:StartTelemetrySession",
            "ecs:SubmitAttachmentStateChanges",
            "ecs:SubmitContainerStateChange",
            "ecs:SubmitTaskStateChange",
            "ecs:UpdateContainerInstancesState",
        ],
        resources=[ECS_CLUSTERS, ECS_CONTAINER_INSTANCES],
    )


def discover_ecs_endpoints() -> iam.PolicyStatement:
    """Find the ECS agent's endpoint (an action with no resource-level permissions)."""
    return iam.PolicyStatement(actions=["ecs:DiscoverPollEndpoint"], resources=[ANY_RESOURCE])


__all__ = [
    "ACT_AS_TENANT_WORKFLOW_ROLES",
    "ALARMS",
    "ANY_RESOURCE",
    "ANY_RESOURCE_REASONS",
    "APPLY_STAGE_GUARDRAILS",
    "AUTOSCALE",
    "BATCH_JOBS",
    "BATCH_JOB_EVENTS_RULE",
    "BEDROCK_FOUNDATION_MODELS",
    "BEDROCK_GUARDRAILS",
    "BUCKET_OBJECTS_REASON",
    "CREATE_AUTOSCALING_ROLE",
    "CREATE_ENDPOINTS",
    "CREATE_HOSTING",
    "CREATE_HOURS_SCHEDULES",
    "CREATE_IDLE_ALARMS",
    "CREATE_MODELS_AND_CONFIGS",
    "CREATE_MODEL_PACKAGES",
    "CREATE_ROLLBACK_ALARMS",
    "CREATE_TTL_SCHEDULES",
    "DATASETS_FOLDER",
    "DELETE_ENDPOINTS",
    "DELETE_ENDPOINT_CONFIGS",
    "DELETE_HOURS_SCHEDULES",
    "DELETE_IDLE_ALARMS",
    "DELETE_MODELS",
    "DELETE_ROLLBACK_ALARMS",
    "DELETE_SCALING_ALARMS",
    "DELETE_TTL_SCHEDULES",
    "DELETE_VERSIONS",
    "DEREGISTER_SCALING",
    "DESCRIBE_ALARMS",
    "DESCRIBE_ENDPOINTS",
    "DESCRIBE_MODEL_PACKAGES",
    "DESCRIBE_OWN_ENDPOINTS",
    "ECR_REPOSITORIES_IN_REGION",
    "ECS_CLUSTERS",
    "ECS_CONTAINER_INSTANCES",
    "EVALUATIONS_FOLDER",
    "EVALUATION_PLAN_FILES",
    "EVALUATION_REPORT_FILES",
    "EVALUATION_RESULT_FILES",
    "GET_REGISTRY_TOKEN",
    "HOURS_SCHEDULE_PREFIXES",
    "HUB_TOKEN_PURPOSE",
    "HUB_TOKEN_TAG",
    "IDLE_ALARMS",
    "INSPECT_ENDPOINTS",
    "INVOKE_ENDPOINTS",
    "INVOKE_FOUNDATION_MODELS",
    "JUDGE_IDLE_ALARMS",
    "KEEP_IDEMPOTENCY_RECORDS",
    "LIST_HOSTING",
    "LIST_MODEL_PACKAGES",
    "LIST_TENANT_FOLDER",
    "LIST_VERSIONS",
    "MAKE_TENANT_WORKFLOW_ROLES",
    "MANAGE_SCALING_ALARMS",
    "PATTERN_REASONS",
    "PULL_SERVING_IMAGES",
    "PUT_EVENTS",
    "PUT_SAGEMAKER_METRICS",
    "PUT_TRACE_SEGMENTS",
    "READ_ARTIFACTS_BUCKET",
    "READ_ENDPOINT_METRICS",
    "READ_EVALUATIONS",
    "READ_EVALUATIONS_AND_CORPORA",
    "READ_EVENT_LOG",
    "READ_FILES",
    "READ_GUARDRAIL_PARAMETERS",
    "READ_HOSTING_TAGS",
    "READ_SCALED_VARIANTS",
    "READ_TENANT_HUB_TOKENS",
    "READ_VERSIONS",
    "READ_WITH_KEY_FOR_FILES",
    "READ_WITH_KEY_FOR_TABLES",
    "REGISTER_SCALING",
    "REJECT_MODEL_PACKAGES",
    "RESTART_IDLE_CLOCKS",
    "ROLLBACK_ALARMS",
    "ROLLBACK_ALARM_PREFIX",
    "SAGEMAKER_AUTOSCALING_ROLE",
    "SAGEMAKER_AUTOSCALING_SERVICE",
    "SAGEMAKER_ENDPOINTS",
    "SAGEMAKER_ENDPOINT_CONFIGS",
    "SAGEMAKER_LOG_GROUPS",
    "SAGEMAKER_MODELS",
    "SAGEMAKER_MODEL_PACKAGES",
    "SAGEMAKER_MODEL_PACKAGE_GROUPS",
    "SCAN_ENDPOINT_RECORDS",
    "SEND_TASK_SUCCESS",
    "SESSION_TENANT",
    "STAGE_TAG",
    "START_SCHEDULES",
    "STEP_FUNCTIONS_EXECUTION_EVENTS_RULE",
    "STOP_SCHEDULES",
    "TARGET_TRACKING_ALARMS",
    "TENANT_SECRETS",
    "TENANT_TAG",
    "TTL_SCHEDULES",
    "TTL_SCHEDULE_PREFIX",
    "UPDATE_CAPACITIES",
    "UPDATE_ENDPOINTS",
    "USE_KEY_FOR_FILES",
    "USE_KEY_FOR_TABLES",
    "VERSION_OBJECTS_REASON",
    "WRITE_EVALUATION_PLANS",
    "WRITE_EVALUATION_REPORTS",
    "WRITE_EVALUATION_RESULTS",
    "WRITE_SAGEMAKER_LOGS",
    "WRITE_TENANT_DATASETS",
    "WRITE_VERSIONS",
    "Condition",
    "Conditions",
    "Grant",
    "Owner",
    "Reach",
    "Scope",
    "alarms_publish",
    "alarms_use_key",
    "arn",
    "artifact_object_reasons",
    "assume_for_tenants",
    "bucket_objects",
    "created_for",
    "created_for_session_tenant",
    "created_with_tenant_tag",
    "discover_ecs_endpoints",
    "evaluation_objects",
    "executions_of",
    "guardrail_parameter_reasons",
    "guardrail_parameters",
    "invoke_functions",
    "items",
    "items_of",
    "job_definition_revisions",
    "logs_use_key",
    "owned_by",
    "owned_objects",
    "pass_role",
    "product_tagged",
    "read_tenant_executions",
    "read_with_key",
    "rule_writes_logs",
    "run_batch_job",
    "run_children",
    "run_ecs_container_instances",
    "start",
    "statements",
    "tagged_for_session_tenant",
    "tenant_dataset_objects",
    "tenant_evaluation_objects",
    "tenant_executions_of",
    "tenant_objects",
    "tenant_session_principal",
    "tenant_version_objects",
    "tenant_workflow_roles",
    "trust_conditions",
    "use_key",
    "version_objects",
    "write_evaluation_files",
    "write_logs",
]
