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

from typing import TYPE_CHECKING

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The tag every SageMaker resource the workflows create carries (``maas.endpoints.plan``).
TENANT_TAG = "maas:tenant"
#: Names of time-to-live schedules start with this (``maas.naming.ttl_schedule_name``).
TTL_SCHEDULE_PREFIX = "maas-ttl-"
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
#: The alarms Application Auto Scaling creates for an endpoint's target-tracking policy.
TARGET_TRACKING_ALARMS = arn("cloudwatch", "alarm:TargetTracking-endpoint/*")
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
#: Resource for actions that support no resource-level permissions.
ANY_RESOURCE = "*"

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
    TARGET_TRACKING_ALARMS: (
        "Application Auto Scaling names a target-tracking policy's alarms "
        "TargetTracking-<resource id>-Alarm<High|Low>-<uuid>; limited to endpoint variants' "
        "alarms in this account and region."
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


def read_write_items(table_arn: str) -> iam.PolicyStatement:
    """Get and put single items of one table (the registry's guarded writes are puts)."""
    return iam.PolicyStatement(
        actions=["dynamodb:GetItem", "dynamodb:PutItem"],
        resources=[table_arn],
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


# --- SageMaker hosting -------------------------------------------------------------------


def create_tagged_sagemaker_resources() -> iam.PolicyStatement:
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
        conditions={
            "Null": {f"aws:RequestTag/{TENANT_TAG}": "false"},
            "ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]},
        },
    )


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


def delete_endpoints() -> iam.PolicyStatement:
    """Delete endpoints."""
    return iam.PolicyStatement(
        actions=["sagemaker:DeleteEndpoint"], resources=[SAGEMAKER_ENDPOINTS]
    )


def delete_endpoint_configs() -> iam.PolicyStatement:
    """Delete endpoint configurations."""
    return iam.PolicyStatement(
        actions=["sagemaker:DeleteEndpointConfig"], resources=[SAGEMAKER_ENDPOINT_CONFIGS]
    )


def delete_models() -> iam.PolicyStatement:
    """Delete models."""
    return iam.PolicyStatement(actions=["sagemaker:DeleteModel"], resources=[SAGEMAKER_MODELS])


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
    """What Application Auto Scaling checks the caller may do to the endpoint it registers."""
    return iam.PolicyStatement(
        actions=[
            "sagemaker:DescribeEndpoint",
            "sagemaker:DescribeEndpointConfig",
            "sagemaker:UpdateEndpointWeightsAndCapacities",
        ],
        resources=[SAGEMAKER_ENDPOINTS, SAGEMAKER_ENDPOINT_CONFIGS],
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
    "ECR_REPOSITORIES_IN_REGION",
    "PATTERN_REASONS",
    "SAGEMAKER_AUTOSCALING_ROLE",
    "SAGEMAKER_AUTOSCALING_SERVICE",
    "SAGEMAKER_ENDPOINTS",
    "SAGEMAKER_ENDPOINT_CONFIGS",
    "SAGEMAKER_LOG_GROUPS",
    "SAGEMAKER_MODELS",
    "TARGET_TRACKING_ALARMS",
    "TENANT_TAG",
    "TTL_SCHEDULES",
    "TTL_SCHEDULE_PREFIX",
    "arn",
    "create_autoscaling_service_linked_role",
    "create_tagged_sagemaker_resources",
    "create_ttl_schedules",
    "decrypt_via",
    "delete_endpoint_configs",
    "delete_endpoints",
    "delete_models",
    "delete_scaling_alarms",
    "delete_ttl_schedules",
    "deregister_endpoint_scaling",
    "describe_endpoints",
    "encrypt_decrypt_via",
    "get_registry_token",
    "inspect_endpoints",
    "invoke_functions",
    "logs_use_key",
    "manage_scaling_alarms",
    "pass_role",
    "pull_serving_images",
    "put_events",
    "put_sagemaker_metrics",
    "read_artifacts",
    "read_write_items",
    "register_endpoint_scaling",
    "rule_writes_logs",
    "scale_endpoint_variants",
    "start_execution",
    "trust_conditions",
    "write_logs",
]
