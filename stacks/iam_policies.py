"""IAM statements, one small function per permission, each as narrow as AWS allows.

Every statement names its actions explicitly (no ``*`` and no ``service:*``) and builds its
ARNs from the partition, region and account pseudo-parameters, so they stay valid in any
account and the cdk-nag findings they produce are the same in every stage. Where AWS does
not support resource-level permissions for an action, the statement says so and the stack
acknowledges the ``*`` with that reason (see ``docs/stacks.md``).

Examples
--------
>>> statement = describe_endpoints()
>>> statement.actions
['sagemaker:DescribeEndpoint']
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from maas.guardrails.config import parameter_prefix
from maas.naming import IDLE_ALARM_PREFIX

if TYPE_CHECKING:
    from collections.abc import Sequence

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


# --- Lambda functions and state machines -------------------------------------------------


def write_logs(log_group_arn: str) -> iam.PolicyStatement:
    """Write log events to one log group (its ARN from ``LogGroup.log_group_arn``)."""
    return iam.PolicyStatement(
        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[log_group_arn],
    )


def invoke_functions(function_arns: Sequence[str]) -> iam.PolicyStatement:
    """Invoke these functions, unqualified (the state machines call ``$LATEST``)."""
    return iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=list(function_arns))


def read_write_items(table_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Get and put single items of one table (the registry's guarded writes are puts)."""
    return iam.PolicyStatement(
        actions=["dynamodb:GetItem", "dynamodb:PutItem"],
        resources=[table_arn],
        conditions=items_of(owner),
    )


def keep_idempotency_records(table_arn: str) -> iam.PolicyStatement:
    """Powertools Idempotency's calls on its table: mark in progress, read, complete, forget."""
    return iam.PolicyStatement(
        actions=[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
        resources=[table_arn],
    )


def read_items(table_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Get single items of one table."""
    return iam.PolicyStatement(
        actions=["dynamodb:GetItem"], resources=[table_arn], conditions=items_of(owner)
    )


def update_items(table_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Update attributes of single items of one table (the registry's counters and progress)."""
    return iam.PolicyStatement(
        actions=["dynamodb:UpdateItem"], resources=[table_arn], conditions=items_of(owner)
    )


def scan_items(table_arn: str) -> iam.PolicyStatement:
    """Scan one table (the reconciler reads every record)."""
    return iam.PolicyStatement(actions=["dynamodb:Scan"], resources=[table_arn])


def query_items(table_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Query one table (not its indexes): a model's versions, in order."""
    return iam.PolicyStatement(
        actions=["dynamodb:Query"], resources=[table_arn], conditions=items_of(owner)
    )


def encrypt_decrypt_via(key_arn: str, service: str) -> iam.PolicyStatement:
    """Use a customer managed key for reads and writes, only through ``service`` (e.g. dynamodb)."""
    return iam.PolicyStatement(
        actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
        resources=[key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"{service}.{Aws.REGION}.amazonaws.com"}},
    )


def decrypt_via(key_arn: str, service: str) -> iam.PolicyStatement:
    """Use a customer managed key for reads only, only through ``service`` (e.g. s3)."""
    return iam.PolicyStatement(
        actions=["kms:Decrypt", "kms:DescribeKey"],
        resources=[key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"{service}.{Aws.REGION}.amazonaws.com"}},
    )


def put_events(event_bus_arn: str) -> iam.PolicyStatement:
    """Put events on one bus."""
    return iam.PolicyStatement(actions=["events:PutEvents"], resources=[event_bus_arn])


def start_execution(state_machine_arn: str) -> iam.PolicyStatement:
    """Start executions of one state machine."""
    return iam.PolicyStatement(actions=["states:StartExecution"], resources=[state_machine_arn])


def pass_role(role_arn: str, service: str) -> iam.PolicyStatement:
    """Pass one role, and only to ``service`` (the service principal that assumes it)."""
    return iam.PolicyStatement(
        actions=["iam:PassRole"],
        resources=[role_arn],
        conditions={"StringEquals": {"iam:PassedToService": service}},
    )


def trust_conditions(service_principal: str) -> dict[str, dict[str, str]] | None:
    """Conditions on a service's assumption of a role, where the service documents them.

    EventBridge Scheduler sets ``aws:SourceAccount`` when it assumes a schedule's role, so
    the trust policy can refuse schedules of other accounts (the confused deputy).
    """
    if service_principal == "scheduler.amazonaws.com":
        return {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
    return None


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


# --- SageMaker hosting -------------------------------------------------------------------


def create_tagged_sagemaker_resources(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Create models, endpoint configurations and endpoints, only with the tenant tag.

    The request must carry ``maas:tenant`` and only ``maas:`` tag keys; ``AddTags`` is
    needed because SageMaker authorizes tags given at creation as a separate action.
    """
    return iam.PolicyStatement(
        actions=[
            "sagemaker:AddTags",
            "sagemaker:CreateEndpoint",
            "sagemaker:CreateEndpointConfig",
            "sagemaker:CreateModel",
        ],
        resources=[SAGEMAKER_MODELS, SAGEMAKER_ENDPOINT_CONFIGS, SAGEMAKER_ENDPOINTS],
        conditions=created_for(owner),
    )


def create_tagged_models_and_endpoint_configs(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Create models and endpoint configurations (not endpoints), only with the tenant tag.

    As :func:`create_tagged_sagemaker_resources`, for an update: its endpoint exists.
    """
    return iam.PolicyStatement(
        actions=[
            "sagemaker:AddTags",
            "sagemaker:CreateEndpointConfig",
            "sagemaker:CreateModel",
        ],
        resources=[SAGEMAKER_MODELS, SAGEMAKER_ENDPOINT_CONFIGS],
        conditions=created_for(owner),
    )


def create_tagged_endpoints(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Create endpoints (from existing configurations), only with the tenant tag.

    As :func:`create_tagged_sagemaker_resources`, for a start within an endpoint's hours:
    its model and configuration were kept. SageMaker authorizes ``CreateEndpoint`` on the
    configuration too.
    """
    return iam.PolicyStatement(
        actions=["sagemaker:AddTags", "sagemaker:CreateEndpoint"],
        resources=[SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS],
        conditions=created_for(owner),
    )


def update_endpoints(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Move a tenant's endpoint to another of the product's endpoint configurations.

    SageMaker authorizes ``UpdateEndpoint`` on the endpoint and on the configuration; both
    must carry the ``maas:tenant`` tag.
    """
    return iam.PolicyStatement(
        actions=["sagemaker:UpdateEndpoint"],
        resources=[SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS],
        conditions=owned_by(owner),
    )


def create_rollback_alarms(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Create the alarms that roll an update back, only with the tenant tag."""
    return iam.PolicyStatement(
        actions=["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"],
        resources=[ROLLBACK_ALARMS],
        conditions=created_for(owner),
    )


def delete_rollback_alarms(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Delete the alarms that roll an update back, only those tagged for a tenant."""
    return iam.PolicyStatement(
        actions=["cloudwatch:DeleteAlarms"],
        resources=[ROLLBACK_ALARMS],
        conditions=owned_by(owner),
    )


def describe_alarms() -> iam.PolicyStatement:
    """Read alarms: SageMaker checks the caller may read an update's rollback alarms."""
    return iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[ALARMS])


def describe_endpoints() -> iam.PolicyStatement:
    """Read an endpoint's status."""
    return iam.PolicyStatement(
        actions=["sagemaker:DescribeEndpoint"], resources=[SAGEMAKER_ENDPOINTS]
    )


def inspect_endpoints() -> iam.PolicyStatement:
    """Read an endpoint's status and tags (to tell whether a deployment created it)."""
    return iam.PolicyStatement(
        actions=["sagemaker:DescribeEndpoint", "sagemaker:ListTags"],
        resources=[SAGEMAKER_ENDPOINTS],
    )


def list_sagemaker_hosting() -> iam.PolicyStatement:
    """List endpoints, endpoint configurations and models (no resource-level permissions)."""
    return iam.PolicyStatement(
        actions=[
            "sagemaker:ListEndpoints",
            "sagemaker:ListEndpointConfigs",
            "sagemaker:ListModels",
        ],
        resources=[ANY_RESOURCE],
    )


def read_hosting_tags() -> iam.PolicyStatement:
    """Read the tags of endpoints, endpoint configurations and models (whose they are)."""
    return iam.PolicyStatement(
        actions=["sagemaker:ListTags"],
        resources=[SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS, SAGEMAKER_MODELS],
    )


def delete_endpoints(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Delete endpoints, only those the workflows made for a tenant (:func:`product_tagged`).

    An endpoint of the account that is not the product's (no ``maas:tenant`` tag) cannot
    be deleted by a name that happens to match it.
    """
    return iam.PolicyStatement(
        actions=["sagemaker:DeleteEndpoint"],
        resources=[SAGEMAKER_ENDPOINTS],
        conditions=owned_by(owner),
    )


def delete_endpoint_configs(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Delete endpoint configurations, only the product's (:func:`product_tagged`)."""
    return iam.PolicyStatement(
        actions=["sagemaker:DeleteEndpointConfig"],
        resources=[SAGEMAKER_ENDPOINT_CONFIGS],
        conditions=owned_by(owner),
    )


def delete_models(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Delete models, only the product's (:func:`product_tagged`)."""
    return iam.PolicyStatement(
        actions=["sagemaker:DeleteModel"],
        resources=[SAGEMAKER_MODELS],
        conditions=owned_by(owner),
    )


# --- Application Auto Scaling ------------------------------------------------------------


def register_endpoint_scaling() -> iam.PolicyStatement:
    """Register an endpoint variant as a scalable target and put its scaling policy.

    A scalable target's ARN holds an id Application Auto Scaling assigns when the target is
    registered, so the statement cannot name it in advance: ``*``, acknowledged.
    """
    return iam.PolicyStatement(
        actions=[
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:RegisterScalableTarget",
        ],
        resources=[ANY_RESOURCE],
    )


def deregister_endpoint_scaling() -> iam.PolicyStatement:
    """Deregister an endpoint variant's scalable target (and with it its policies)."""
    return iam.PolicyStatement(
        actions=["application-autoscaling:DeregisterScalableTarget"],
        resources=[ANY_RESOURCE],
    )


def scale_endpoint_variants() -> iam.PolicyStatement:
    """What Application Auto Scaling checks the caller may read of the endpoint it registers.

    It also checks ``UpdateEndpointWeightsAndCapacities``: callers add
    :func:`update_endpoint_capacities`, which holds it to the product's endpoints. The reads
    stay unconditioned: a wait loop tells a deleted endpoint by DescribeEndpoint's
    ValidationException, which a tag condition would turn into AccessDenied.
    """
    return iam.PolicyStatement(
        actions=["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig"],
        resources=[SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS],
    )


def update_endpoint_capacities(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Change a tenant's endpoint variant's instance count in place.

    Only endpoints that carry the ``maas:tenant`` tag: the product's own.
    """
    return iam.PolicyStatement(
        actions=["sagemaker:UpdateEndpointWeightsAndCapacities"],
        resources=[SAGEMAKER_ENDPOINTS],
        conditions=owned_by(owner),
    )


def manage_scaling_alarms() -> iam.PolicyStatement:
    """Create, read and delete the alarms of an endpoint's target-tracking policy."""
    return iam.PolicyStatement(
        actions=[
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:PutMetricAlarm",
        ],
        resources=[TARGET_TRACKING_ALARMS],
    )


def delete_scaling_alarms() -> iam.PolicyStatement:
    """Read and delete the alarms of an endpoint's target-tracking policy."""
    return iam.PolicyStatement(
        actions=["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"],
        resources=[TARGET_TRACKING_ALARMS],
    )


def create_idle_alarms(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Put an endpoint's idle-limit alarm with its tags (which takes TagResource too), only
    with the tenant tag."""
    return iam.PolicyStatement(
        actions=["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"],
        resources=[IDLE_ALARMS],
        conditions=created_for(owner),
    )


def delete_idle_alarms(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Delete an endpoint's idle-limit alarm, only one tagged for a tenant."""
    return iam.PolicyStatement(
        actions=["cloudwatch:DeleteAlarms"], resources=[IDLE_ALARMS], conditions=owned_by(owner)
    )


def restart_idle_clocks(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Set an idle-limit alarm back to OK when its endpoint starts again (a tagged one)."""
    return iam.PolicyStatement(
        actions=["cloudwatch:SetAlarmState"], resources=[IDLE_ALARMS], conditions=owned_by(owner)
    )


def judge_idle_alarms() -> iam.PolicyStatement:
    """Read an idle-limit alarm and its tags (whose endpoint it watches).

    Setting it back to OK when it went off early is :func:`restart_idle_clocks`, which holds
    to the product's tagged alarms.
    """
    return iam.PolicyStatement(
        actions=["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
        resources=[IDLE_ALARMS],
    )


def create_autoscaling_service_linked_role() -> iam.PolicyStatement:
    """Create Application Auto Scaling's SageMaker service-linked role on first use."""
    return iam.PolicyStatement(
        actions=["iam:CreateServiceLinkedRole"],
        resources=[SAGEMAKER_AUTOSCALING_ROLE],
        conditions={"StringEquals": {"iam:AWSServiceName": SAGEMAKER_AUTOSCALING_SERVICE}},
    )


# --- EventBridge Scheduler ---------------------------------------------------------------


def create_ttl_schedules() -> iam.PolicyStatement:
    """Create an endpoint's time-to-live schedule."""
    return iam.PolicyStatement(actions=["scheduler:CreateSchedule"], resources=[TTL_SCHEDULES])


def delete_ttl_schedules() -> iam.PolicyStatement:
    """Delete an endpoint's time-to-live schedule."""
    return iam.PolicyStatement(actions=["scheduler:DeleteSchedule"], resources=[TTL_SCHEDULES])


def create_hours_schedules() -> iam.PolicyStatement:
    """Create an endpoint's on/off-hours schedules (stop and start)."""
    return iam.PolicyStatement(
        actions=["scheduler:CreateSchedule"], resources=[STOP_SCHEDULES, START_SCHEDULES]
    )


def delete_hours_schedules() -> iam.PolicyStatement:
    """Delete an endpoint's on/off-hours schedules (stop and start)."""
    return iam.PolicyStatement(
        actions=["scheduler:DeleteSchedule"], resources=[STOP_SCHEDULES, START_SCHEDULES]
    )


# --- The model registry ------------------------------------------------------------------


def create_tagged_model_packages(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Create model package groups and versioned model packages, only with the tenant tag.

    As for endpoints, the request must carry ``maas:tenant`` and only ``maas:`` tag keys, and
    ``AddTags`` is what SageMaker authorizes the creation tags as.
    """
    return iam.PolicyStatement(
        actions=[
            "sagemaker:AddTags",
            "sagemaker:CreateModelPackage",
            "sagemaker:CreateModelPackageGroup",
        ],
        resources=[SAGEMAKER_MODEL_PACKAGE_GROUPS, SAGEMAKER_MODEL_PACKAGES],
        conditions=created_for(owner),
    )


def describe_model_packages() -> iam.PolicyStatement:
    """Read model package groups and model packages (a retry finds the package it made)."""
    return iam.PolicyStatement(
        actions=["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
        resources=[SAGEMAKER_MODEL_PACKAGE_GROUPS, SAGEMAKER_MODEL_PACKAGES],
    )


def list_model_packages() -> iam.PolicyStatement:
    """List a group's model packages (an action with no resource-level permissions)."""
    return iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=[ANY_RESOURCE])


def read_version_objects(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Read the objects under a bucket's version prefixes (a package's manifest)."""
    return iam.PolicyStatement(
        actions=["s3:GetObject"], resources=[version_objects(bucket_arn, owner)]
    )


def list_version_prefixes(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """List a bucket, only under a version prefix ``<tenant>/<model>/<version>/`` (of the
    session's tenant, for :attr:`Owner.SESSION_TENANT`)."""
    tenant = "*" if owner is Owner.PRODUCT else SESSION_TENANT
    return iam.PolicyStatement(
        actions=["s3:ListBucket"],
        resources=[bucket_arn],
        conditions={"StringLike": {"s3:prefix": f"{tenant}/*/*/"}},
    )


def delete_version_objects(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Delete the objects under a bucket's version prefixes (what a failed packaging left)."""
    return iam.PolicyStatement(
        actions=["s3:DeleteObject"], resources=[version_objects(bucket_arn, owner)]
    )


# --- Batch jobs ---------------------------------------------------------------------------


def job_definition_revisions(job_definition_arn: str) -> str:
    """Every revision of a job definition, given its ARN without a revision."""
    return f"{job_definition_arn}:*"


def submit_batch_jobs(job_queue_arn: str, job_definition_arn: str) -> iam.PolicyStatement:
    """Submit jobs of one definition (any revision) to one queue.

    ``job_definition_arn`` is the definition's ARN without a revision, which Batch reads as
    the latest active one; the statement also names each revision (``<arn>:<n>``).
    """
    return iam.PolicyStatement(
        actions=["batch:SubmitJob"],
        resources=[job_queue_arn, job_definition_arn, job_definition_revisions(job_definition_arn)],
    )


def tag_batch_jobs() -> iam.PolicyStatement:
    """Tag the jobs a workflow submits, only with ``maas:`` tag keys."""
    return iam.PolicyStatement(
        actions=["batch:TagResource"],
        resources=[BATCH_JOBS],
        conditions={"ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]}},
    )


def describe_batch_jobs() -> iam.PolicyStatement:
    """Read jobs' status (an action with no resource-level permissions)."""
    return iam.PolicyStatement(actions=["batch:DescribeJobs"], resources=[ANY_RESOURCE])


def terminate_batch_jobs() -> iam.PolicyStatement:
    """Terminate jobs (Step Functions does when a ``.sync`` task is stopped)."""
    return iam.PolicyStatement(actions=["batch:TerminateJob"], resources=[BATCH_JOBS])


def manage_batch_job_events_rule() -> iam.PolicyStatement:
    """Keep the managed rule through which ``batch:submitJob.sync`` learns a job ended."""
    return iam.PolicyStatement(
        actions=["events:DescribeRule", "events:PutRule", "events:PutTargets"],
        resources=[BATCH_JOB_EVENTS_RULE],
    )


# --- The lifecycle's children ---------------------------------------------------------------


def executions_of(state_machine_name: str) -> str:
    """Every execution of one state machine (execution names are chosen when started)."""
    return arn("states", f"execution:{state_machine_name}:*")


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


def tenant_workflow_roles(prefix: str) -> str:
    """The tenants' workflow roles of a stage: ``<prefix>-<tenant>`` (maas.workflow_roles)."""
    return arn("iam", f"role/{prefix}-*", region="")


def assume_tenant_workflow_roles(prefix: str) -> iam.PolicyStatement:
    """Make a Task state's calls as a tenant's workflow role (the state's ``Credentials``).

    Step Functions assumes the role with the state machine's role and passes no session
    tags: the tenant is the role's own ``maas:tenant`` tag.
    """
    return iam.PolicyStatement(
        actions=["sts:AssumeRole"], resources=[tenant_workflow_roles(prefix)]
    )


def create_tenant_workflow_roles(prefix: str, policy_arn: str) -> list[iam.PolicyStatement]:
    """Find, or create, a tenant's workflow role: only under the stage's prefix, only
    tagged with a tenant (``maas:`` keys alone), and holding only the tenant workflow policy.

    IAM authorizes the tags given to ``CreateRole`` as ``iam:TagRole`` too; ``iam:PolicyARN``
    holds ``AttachRolePolicy`` to the one policy, so the role this makes can never have more
    rights than a tenant's workflows
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
    """
    roles = tenant_workflow_roles(prefix)
    return [
        iam.PolicyStatement(actions=["iam:GetRole"], resources=[roles]),
        iam.PolicyStatement(
            actions=["iam:CreateRole", "iam:TagRole"],
            resources=[roles],
            conditions=created_with_tenant_tag(),
        ),
        iam.PolicyStatement(
            actions=["iam:AttachRolePolicy"],
            resources=[roles],
            conditions={"ArnEquals": {"iam:PolicyARN": policy_arn}},
        ),
    ]


def read_tenant_items(table_arns: Sequence[str]) -> iam.PolicyStatement:
    """Read only the session's tenant's items: partition keys ``TENANT#<tenant>``."""
    return iam.PolicyStatement(
        actions=["dynamodb:GetItem", "dynamodb:Query"],
        resources=list(table_arns),
        conditions={
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}
        },
    )


def get_tenant_items(table_arn: str) -> iam.PolicyStatement:
    """Get only the session's tenant's items (partition keys ``TENANT#<tenant>``) of a table."""
    return iam.PolicyStatement(
        actions=["dynamodb:GetItem"],
        resources=[table_arn],
        conditions={
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}
        },
    )


def update_tenant_items(table_arn: str) -> iam.PolicyStatement:
    """Update only the session's tenant's items (partition keys ``TENANT#<tenant>``)."""
    return iam.PolicyStatement(
        actions=["dynamodb:UpdateItem"],
        resources=[table_arn],
        conditions={
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}
        },
    )


def write_tenant_items(table_arn: str) -> iam.PolicyStatement:
    """Put only the session's tenant's items (partition keys ``TENANT#<tenant>``) of a table."""
    return iam.PolicyStatement(
        actions=["dynamodb:PutItem"],
        resources=[table_arn],
        conditions={
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}
        },
    )


def read_tenant_evaluation_objects(bucket_arn: str) -> iam.PolicyStatement:
    """Read the session's tenant's files: its evaluations' (answers, report) and its own
    (``<tenant>/...``: the knowledge corpora its endpoints' pipelines retrieve from)."""
    return iam.PolicyStatement(
        actions=["s3:GetObject"],
        resources=[tenant_evaluation_objects(bucket_arn), tenant_objects(bucket_arn)],
    )


def send_task_success() -> iam.PolicyStatement:
    """Resume a workflow waiting on a task token (an action with no resource-level permissions)."""
    return iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[ANY_RESOURCE])


def describe_tenant_endpoints() -> iam.PolicyStatement:
    """Describe only the endpoints tagged with the session's tenant."""
    return iam.PolicyStatement(
        actions=["sagemaker:DescribeEndpoint"],
        resources=[SAGEMAKER_ENDPOINTS],
        conditions=tagged_for_session_tenant(),
    )


def invoke_tenant_endpoints() -> iam.PolicyStatement:
    """Invoke only the endpoints tagged with the session's tenant (the API's ``invoke``, the
    evaluator job's answers)."""
    return iam.PolicyStatement(
        actions=["sagemaker:InvokeEndpoint"],
        resources=[SAGEMAKER_ENDPOINTS],
        conditions=tagged_for_session_tenant(),
    )


def tenant_executions_of(state_machine_name: str) -> str:
    """The executions of one state machine that the session's tenant's requests started."""
    return arn("states", f"execution:{state_machine_name}:{SESSION_TENANT}_*")


def read_log_events(log_group_arn: str) -> iam.PolicyStatement:
    """Read (filter) the events of one log group."""
    return iam.PolicyStatement(actions=["logs:FilterLogEvents"], resources=[log_group_arn])


def read_tenant_executions(state_machine_names: Sequence[str]) -> iam.PolicyStatement:
    """Read the status and history of the session's tenant's executions."""
    return iam.PolicyStatement(
        actions=["states:DescribeExecution", "states:GetExecutionHistory"],
        resources=[tenant_executions_of(name) for name in state_machine_names],
    )


def read_endpoint_metrics() -> iam.PolicyStatement:
    """Read endpoint metrics' datapoints (``GetMetricStatistics`` has no resource type)."""
    return iam.PolicyStatement(actions=["cloudwatch:GetMetricStatistics"], resources=[ANY_RESOURCE])


def follow_child_executions(state_machine_names: list[str]) -> iam.PolicyStatement:
    """Follow (``.sync``) and stop the executions of the lifecycle's children."""
    return iam.PolicyStatement(
        actions=["states:DescribeExecution", "states:StopExecution"],
        resources=[executions_of(name) for name in state_machine_names],
    )


def manage_execution_events_rule() -> iam.PolicyStatement:
    """Keep the managed rule through which ``states:startExecution.sync`` learns a child ended."""
    return iam.PolicyStatement(
        actions=["events:DescribeRule", "events:PutRule", "events:PutTargets"],
        resources=[STEP_FUNCTIONS_EXECUTION_EVENTS_RULE],
    )


# --- The packaging job ----------------------------------------------------------------------


def read_artifact_objects(bucket_arn: str) -> iam.PolicyStatement:
    """Read every object of the artifacts bucket (model sources may be anywhere in it)."""
    return iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket_objects(bucket_arn)])


def read_tenant_hub_tokens() -> iam.PolicyStatement:
    """Read the session's tenant's Hugging Face tokens: secrets named ``maas/<tenant>/...``
    and tagged ``maas:purpose=hub-token`` and ``maas:tenant=<the session's tenant>``, no
    other. ``DescribeSecret`` too: the job checks the owner before it reads the value
    (:func:`maas.tenancy.owns_secret`)."""
    return iam.PolicyStatement(
        actions=["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        resources=[TENANT_SECRETS],
        conditions={
            "StringEquals": {
                f"aws:ResourceTag/{HUB_TOKEN_TAG}": HUB_TOKEN_PURPOSE,
                f"aws:ResourceTag/{TENANT_TAG}": SESSION_TENANT,
            }
        },
    )


# --- Jobs acting for one tenant (maas.tenancy.act_as_tenant) -------------------------------


def read_tenant_artifacts(bucket_arn: str) -> iam.PolicyStatement:
    """Read the session's tenant's files of the artifacts bucket (``<tenant>/...``): a
    packaging source there, never another tenant's."""
    return iam.PolicyStatement(actions=["s3:GetObject"], resources=[tenant_objects(bucket_arn)])


def list_tenant_folders(bucket_arn: str) -> iam.PolicyStatement:
    """List the artifacts bucket only under the session's tenant's folder."""
    return iam.PolicyStatement(
        actions=["s3:ListBucket"],
        resources=[bucket_arn],
        conditions={"StringLike": {"s3:prefix": f"{SESSION_TENANT}/*"}},
    )


def write_tenant_version_objects(bucket_arn: str) -> iam.PolicyStatement:
    """Upload (in parts) and delete objects only under the session's tenant's versions."""
    return iam.PolicyStatement(
        actions=["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"],
        resources=[tenant_version_objects(bucket_arn)],
    )


def package_tenant_models(*, artifacts: str, key: str, models: str) -> list[iam.PolicyStatement]:
    """What the packaging job does under its tenant's session (:mod:`maas.packaging`): read
    a source in the tenant's folder or the tenant's Hub token, upload the package under the
    tenant's version prefix, report on the tenant's version record."""
    return [
        read_tenant_artifacts(artifacts),
        list_tenant_folders(artifacts),
        write_tenant_version_objects(artifacts),
        encrypt_decrypt_via(key, "s3"),
        get_tenant_items(models),
        update_tenant_items(models),
        encrypt_decrypt_via(key, "dynamodb"),
        read_tenant_hub_tokens(),
    ]


def score_tenant_evaluation_shards(
    *, artifacts: str, key: str, models: str, stage: str
) -> list[iam.PolicyStatement]:
    """What scoring one shard calls under its tenant's session (the Evaluator job): as
    :func:`score_evaluation_shards`, with every read, write and invoke held to the session's
    tenant: its evaluations' files and corpora, its endpoints, its assertion sets. The
    session's traces too (every client of the job acts as the tenant)."""
    return [
        read_tenant_evaluation_objects(artifacts),
        write_evaluation_results(artifacts, Owner.SESSION_TENANT),
        encrypt_decrypt_via(key, "s3"),
        invoke_tenant_endpoints(),
        invoke_foundation_models(),
        apply_stage_guardrails(stage),
        read_guardrail_parameters(stage),
        get_tenant_items(models),
        encrypt_decrypt_via(key, "dynamodb"),
        put_trace_segments(),
    ]


# --- Evaluations ----------------------------------------------------------------------------


def read_evaluation_objects(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Read the files of ``owner``'s evaluations (job documents, shards, results)."""
    return iam.PolicyStatement(
        actions=["s3:GetObject"], resources=[evaluation_objects(bucket_arn, owner=owner)]
    )


def write_evaluation_plans(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Write an evaluation's shards and job document, nothing else of its folder."""
    return iam.PolicyStatement(
        actions=["s3:PutObject"],
        resources=[evaluation_objects(bucket_arn, name, owner) for name in EVALUATION_PLAN_FILES],
    )


def write_evaluation_results(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Write a shard's scored answers, only under an evaluation's ``results/``."""
    return iam.PolicyStatement(
        actions=["s3:PutObject"],
        resources=[evaluation_objects(bucket_arn, name, owner) for name in EVALUATION_RESULT_FILES],
    )


def write_evaluation_reports(bucket_arn: str, owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Write an evaluation's HTML report and JSON summary, nothing else of its folder."""
    return iam.PolicyStatement(
        actions=["s3:PutObject"],
        resources=[evaluation_objects(bucket_arn, name, owner) for name in EVALUATION_REPORT_FILES],
    )


def reject_tagged_model_packages(owner: Owner = Owner.PRODUCT) -> iam.PolicyStatement:
    """Set a model package's approval (Rejected), only on ``owner``'s tagged packages."""
    return iam.PolicyStatement(
        actions=["sagemaker:UpdateModelPackage"],
        resources=[SAGEMAKER_MODEL_PACKAGES],
        conditions=owned_by(owner),
    )


def invoke_tagged_endpoints() -> iam.PolicyStatement:
    """Invoke endpoints, only those the workflows made for a tenant (the ``maas:tenant`` tag)."""
    return iam.PolicyStatement(
        actions=["sagemaker:InvokeEndpoint"],
        resources=[SAGEMAKER_ENDPOINTS],
        conditions=product_tagged(),
    )


def invoke_foundation_models() -> iam.PolicyStatement:
    """Invoke Bedrock foundation models of this region (a judge, an embedder)."""
    return iam.PolicyStatement(
        actions=["bedrock:InvokeModel"], resources=[BEDROCK_FOUNDATION_MODELS]
    )


def apply_stage_guardrails(stage: str) -> iam.PolicyStatement:
    """Apply the guardrails of one stage (tagged ``maas:stage``), no other."""
    return iam.PolicyStatement(
        actions=["bedrock:ApplyGuardrail"],
        resources=[BEDROCK_GUARDRAILS],
        conditions={"StringEquals": {f"aws:ResourceTag/{STAGE_TAG}": stage}},
    )


def read_guardrail_parameters(stage: str) -> iam.PolicyStatement:
    """Read the SSM parameters that say which guardrail guards a tenant in one stage."""
    return iam.PolicyStatement(
        actions=["ssm:GetParameter"], resources=[guardrail_parameters(stage)]
    )


def score_evaluation_shards(
    *, artifacts: str, key: str, models: str, stage: str
) -> list[iam.PolicyStatement]:
    """What scoring one shard of an evaluation calls, from a Batch job or a function alike
    (:func:`maas.evaluation.shard.evaluate_shard`).

    Read the job document, the shard and knowledge corpora (anywhere in the artifacts
    bucket), write the shard's results; ask the tenant's endpoint, a Bedrock judge or
    embedder, the stage's guardrail (found through its SSM parameter); read the version's
    EvalGen assertion set. Tracing is the caller's: a function's own, a job's
    :func:`put_trace_segments`.
    """
    return [
        read_artifact_objects(artifacts),
        write_evaluation_results(artifacts),
        encrypt_decrypt_via(key, "s3"),
        invoke_tagged_endpoints(),
        invoke_foundation_models(),
        apply_stage_guardrails(stage),
        read_guardrail_parameters(stage),
        read_items(models),
        encrypt_decrypt_via(key, "dynamodb"),
    ]


def put_trace_segments() -> iam.PolicyStatement:
    """Send X-Ray segments (an action with no resource-level permissions)."""
    return iam.PolicyStatement(actions=["xray:PutTraceSegments"], resources=[ANY_RESOURCE])


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


# --- The SageMaker execution role --------------------------------------------------------


def read_artifacts(bucket_arn: str) -> iam.PolicyStatement:
    """List the artifacts bucket and read its objects (model data is under tenant prefixes)."""
    return iam.PolicyStatement(
        actions=["s3:GetObject", "s3:ListBucket"],
        resources=[bucket_arn, f"{bucket_arn}/*"],
    )


def pull_serving_images() -> iam.PolicyStatement:
    """Pull serving images from ECR repositories in this region."""
    return iam.PolicyStatement(
        actions=[
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ],
        resources=[ECR_REPOSITORIES_IN_REGION],
    )


def get_registry_token() -> iam.PolicyStatement:
    """Get an ECR authorization token (an action with no resource-level permissions)."""
    return iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=[ANY_RESOURCE])


def write_sagemaker_logs() -> iam.PolicyStatement:
    """Write the serving containers' logs to SageMaker's log groups."""
    return iam.PolicyStatement(
        actions=[
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        ],
        resources=[SAGEMAKER_LOG_GROUPS],
    )


def put_sagemaker_metrics() -> iam.PolicyStatement:
    """Publish metrics, only to SageMaker's namespaces (the action has no resource ARNs)."""
    return iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"],
        resources=[ANY_RESOURCE],
        conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
    )


__all__ = [
    "ANY_RESOURCE",
    "ANY_RESOURCE_REASONS",
    "BATCH_JOBS",
    "BATCH_JOB_EVENTS_RULE",
    "BEDROCK_FOUNDATION_MODELS",
    "BEDROCK_GUARDRAILS",
    "BUCKET_OBJECTS_REASON",
    "ECR_REPOSITORIES_IN_REGION",
    "ECS_CLUSTERS",
    "ECS_CONTAINER_INSTANCES",
    "EVALUATIONS_FOLDER",
    "EVALUATION_PLAN_FILES",
    "EVALUATION_REPORT_FILES",
    "EVALUATION_RESULT_FILES",
    "HOURS_SCHEDULE_PREFIXES",
    "HUB_TOKEN_PURPOSE",
    "HUB_TOKEN_TAG",
    "IDLE_ALARMS",
    "PATTERN_REASONS",
    "SAGEMAKER_AUTOSCALING_ROLE",
    "SAGEMAKER_AUTOSCALING_SERVICE",
    "SAGEMAKER_ENDPOINTS",
    "SAGEMAKER_ENDPOINT_CONFIGS",
    "SAGEMAKER_LOG_GROUPS",
    "SAGEMAKER_MODELS",
    "SAGEMAKER_MODEL_PACKAGES",
    "SAGEMAKER_MODEL_PACKAGE_GROUPS",
    "SESSION_TENANT",
    "STAGE_TAG",
    "START_SCHEDULES",
    "STOP_SCHEDULES",
    "TARGET_TRACKING_ALARMS",
    "TENANT_SECRETS",
    "TENANT_TAG",
    "TTL_SCHEDULES",
    "TTL_SCHEDULE_PREFIX",
    "VERSION_OBJECTS_REASON",
    "Owner",
    "apply_stage_guardrails",
    "arn",
    "artifact_object_reasons",
    "assume_for_tenants",
    "assume_tenant_workflow_roles",
    "bucket_objects",
    "create_autoscaling_service_linked_role",
    "create_hours_schedules",
    "create_idle_alarms",
    "create_rollback_alarms",
    "create_tagged_endpoints",
    "create_tagged_model_packages",
    "create_tagged_sagemaker_resources",
    "create_tenant_workflow_roles",
    "create_ttl_schedules",
    "created_for",
    "created_for_session_tenant",
    "created_with_tenant_tag",
    "decrypt_via",
    "delete_endpoint_configs",
    "delete_endpoints",
    "delete_hours_schedules",
    "delete_idle_alarms",
    "delete_models",
    "delete_rollback_alarms",
    "delete_scaling_alarms",
    "delete_ttl_schedules",
    "delete_version_objects",
    "deregister_endpoint_scaling",
    "describe_batch_jobs",
    "describe_endpoints",
    "describe_model_packages",
    "describe_tenant_endpoints",
    "discover_ecs_endpoints",
    "encrypt_decrypt_via",
    "evaluation_objects",
    "executions_of",
    "get_registry_token",
    "get_tenant_items",
    "guardrail_parameter_reasons",
    "guardrail_parameters",
    "inspect_endpoints",
    "invoke_foundation_models",
    "invoke_functions",
    "invoke_tagged_endpoints",
    "invoke_tenant_endpoints",
    "job_definition_revisions",
    "judge_idle_alarms",
    "list_model_packages",
    "list_tenant_folders",
    "list_version_prefixes",
    "logs_use_key",
    "manage_batch_job_events_rule",
    "manage_scaling_alarms",
    "owned_by",
    "package_tenant_models",
    "pass_role",
    "product_tagged",
    "pull_serving_images",
    "put_events",
    "put_sagemaker_metrics",
    "put_trace_segments",
    "query_items",
    "read_artifact_objects",
    "read_artifacts",
    "read_evaluation_objects",
    "read_guardrail_parameters",
    "read_items",
    "read_tenant_artifacts",
    "read_tenant_evaluation_objects",
    "read_tenant_hub_tokens",
    "read_tenant_items",
    "read_version_objects",
    "read_write_items",
    "register_endpoint_scaling",
    "reject_tagged_model_packages",
    "restart_idle_clocks",
    "rule_writes_logs",
    "run_ecs_container_instances",
    "scale_endpoint_variants",
    "score_evaluation_shards",
    "score_tenant_evaluation_shards",
    "send_task_success",
    "start_execution",
    "submit_batch_jobs",
    "tag_batch_jobs",
    "tagged_for_session_tenant",
    "tenant_evaluation_objects",
    "tenant_executions_of",
    "tenant_objects",
    "tenant_session_principal",
    "tenant_version_objects",
    "tenant_workflow_roles",
    "terminate_batch_jobs",
    "trust_conditions",
    "update_items",
    "update_tenant_items",
    "version_objects",
    "write_evaluation_plans",
    "write_evaluation_reports",
    "write_evaluation_results",
    "write_logs",
    "write_sagemaker_logs",
    "write_tenant_items",
    "write_tenant_version_objects",
]
