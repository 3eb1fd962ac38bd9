"""What IAM authorizes for one API call: its action, its resource ARN and its condition keys.

AWS authorizes a call as one or more (action, resource) pairs in a request context; which
action, which resource type and which condition keys each operation brings is the Service
Authorization Reference's word (the "Actions, resources, and condition keys" page of each
service). This module says it for the operations the API function makes with a tenant's
session (``functions/api``, ``maas.tenancy``) and those the functions make with their own
roles (``functions/``, collected from the workflow tests with function enforcement on):

- DynamoDB items: the table (or index) ARN, and ``dynamodb:LeadingKeys``, the partition key
  values the request names (from ``Key``, ``Item`` or the key condition of a query); a batch
  or a transaction is one authorization per item, as AWS checks each.
- SageMaker: ``endpoint/<name>``, ``endpoint-config/<name>``, ``model/<name>`` (SageMaker's
  ARNs hold names in lower case), the ``ResourceArn`` of ``ListTags``/``AddTags``, model
  packages and their groups, each with its ``aws:ResourceTag/...`` read from the emulated
  resource; a missing resource has no tags, so a tag condition fails as it does on AWS
  (AccessDenied, not NotFound). ``List*`` calls are ``Resource: *``.
- CloudWatch alarms named in the call (``alarm:<name>``, with their tags); EventBridge
  ``PutEvents`` on each bus its entries name; EventBridge Scheduler schedules
  (``schedule/<group>/<name>``); STS ``AssumeRole`` on the role, plus ``sts:TagSession``
  when it passes session tags.
- Step Functions: the state machine (start, list), the execution (describe, history, stop),
  ``*`` for task tokens.
- What the state machines' roles call (:mod:`maas.local.workflow_credentials`): Lambda
  ``Invoke`` on the function's ARN (qualified when the call is), Batch ``SubmitJob`` on the
  job definition and the job queue, ``TerminateJob`` on the job, EventBridge rules by name.
- S3: the object ARN (``HeadObject`` is ``s3:GetObject``), the bucket ARN and ``s3:prefix``
  for listings.
- CloudWatch Logs (the log group ARN, with CloudFormation's ``:*``), SSM parameters, Bedrock
  foundation models and guardrails (their ``aws:ResourceTag/...``), Secrets Manager secrets
  (with their tags).

Not derived, because the resource is not known from the request: a Batch job definition
named without its revision (AWS authorizes the revision it resolves; here the name as given);
Application Auto Scaling's ``scalable-target`` ARN, which holds an id the service generates
(``RegisterScalableTarget``, ``PutScalingPolicy``, ``DeregisterScalableTarget`` are
authorized as ``Resource: *``, which only a statement granting ``*`` allows; the state
machines' statements do); and
``DescribeAlarms`` by prefix. KMS is not emulated: no call is a KMS call, so the ``kms:*``
statements (``kms:ViaService``) are never compared with anything locally.
``sts:GetCallerIdentity`` needs no permission and is not checked.

Every call also carries the request's tags (``aws:RequestTag/...``, ``aws:TagKeys``) when it
has a ``Tags`` list. An operation not listed here is authorized as an action without
resource-level permissions (``Resource: *``), which is what AWS does for such actions; one
that has a resource type must be listed, or the statements naming that resource deny it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

#: Condition key -> its values, as :class:`maas.local.iam.Request` takes them.
Keys = dict[str, tuple[str, ...]]

#: Where the IAM service prefix differs from the service's signing name.
_ACTION_PREFIXES = {"monitoring": "cloudwatch"}
#: Operations whose IAM action is named otherwise (service prefix, operation) -> action.
_ACTION_NAMES = {
    # S3's operations are authorized as the actions "Required permissions for Amazon S3 API
    # operations" names (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
    # and each operation's page): a multipart upload's steps are s3:PutObject.
    ("s3", "HeadObject"): "GetObject",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "CopyObject"): "PutObject",
    ("s3", "UploadPartCopy"): "PutObject",
    ("s3", "ListParts"): "ListMultipartUploadParts",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads",
    ("s3", "GetObjectAttributes"): "GetObject",
    ("sagemaker", "InvokeEndpointWithResponseStream"): "InvokeEndpoint",
    ("bedrock", "InvokeModelWithResponseStream"): "InvokeModelWithResponseStream",
}
#: Operations IAM does not authorize: "No permissions are required to perform this operation"
#: (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
_NOT_AUTHORIZED = frozenset({("sts", "GetCallerIdentity")})
#: ``name = :value`` (either way round) in a key condition expression.
_EQUALITY = re.compile(r"([#:]?[\w.]+)\s*=\s*([#:]?[\w.]+)")


@dataclass(frozen=True)
class Authorization:
    """One (action, resource) pair a call needs allowed, with its own condition keys."""

    action: str
    resource: str
    keys: Keys


@dataclass(frozen=True)
class Lookups:
    """What the emulated account knows that the request does not say.

    Parameters
    ----------
    account_id, region
        Where the calls are made.
    partition_key
        A table's partition key attribute name (None if no such table).
    resource_tags
        A SageMaker resource's, a CloudWatch alarm's or a secret's tags by ARN (None if no
        such resource).
    guardrail_tags
        A guardrail's tags by id (None if no such guardrail).
    """

    account_id: str
    region: str
    partition_key: Callable[[str], str | None]
    resource_tags: Callable[[str], Mapping[str, str] | None]
    guardrail_tags: Callable[[str], Mapping[str, str] | None]

    def arn(self, service: str, resource: str, *, account: bool = True) -> str:
        """An ARN of this account and region."""
        return f"arn:aws:{service}:{self.region}:{self.account_id if account else ''}:{resource}"


def action_prefix(signing_name: str) -> str:
    """The IAM service prefix of a service whose requests are signed for ``signing_name``."""
    return _ACTION_PREFIXES.get(signing_name, signing_name)


def authorizations(
    prefix: str, operation: str, params: Mapping[str, Any], lookups: Lookups
) -> list[Authorization]:
    """The (action, resource) pairs of one call of ``operation`` with API ``params``."""
    if (prefix, operation) in _NOT_AUTHORIZED:
        return []
    derive = _DERIVATIONS.get(prefix)
    found = list(derive(operation, params, lookups)) if derive else []
    if not found:
        action = _ACTION_NAMES.get((prefix, operation), operation)
        found = [Authorization(f"{prefix}:{action}", "*", {})]
    tags = _request_tags(params.get("Tags"))
    return [Authorization(a.action, a.resource, {**tags, **a.keys}) for a in found]


def _request_tags(tags: Any) -> Keys:
    """``aws:RequestTag/<key>`` and ``aws:TagKeys`` of a ``Tags: [{Key, Value}]`` list."""
    if not isinstance(tags, list) or not tags:
        return {}
    pairs = [(str(tag["Key"]), str(tag.get("Value", ""))) for tag in tags if "Key" in tag]
    keys: Keys = {f"aws:RequestTag/{key}": (value,) for key, value in pairs}
    keys["aws:TagKeys"] = tuple(key for key, _ in pairs)
    return keys


def _resource_tags(tags: Mapping[str, str] | None) -> Keys:
    return {f"aws:ResourceTag/{key}": (value,) for key, value in (tags or {}).items()}


# --- DynamoDB --------------------------------------------------------------------------------


def _dynamodb(
    operation: str, params: Mapping[str, Any], lookups: Lookups
) -> Iterator[Authorization]:
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"):
        yield _item_access(operation, params, lookups)
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        for table, request in params.get("RequestItems", {}).items():
            keys = (
                request["Keys"]
                if operation == "BatchGetItem"
                else [
                    write.get("PutRequest", {}).get("Item") or write["DeleteRequest"]["Key"]
                    for write in request
                ]
            )
            yield _table_access(f"dynamodb:{operation}", table, keys, lookups)
    elif operation in ("TransactGetItems", "TransactWriteItems"):
        for item in params.get("TransactItems", []):
            ((kind, request),) = item.items()
            action = {
                "Get": "GetItem",
                "Put": "PutItem",
                "Update": "UpdateItem",
                "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem",
            }[kind]
            yield _item_access(action, request, lookups)
    elif "TableName" in params:
        yield Authorization(
            f"dynamodb:{operation}", _table_arn(params["TableName"], None, lookups), {}
        )


def _item_access(action: str, params: Mapping[str, Any], lookups: Lookups) -> Authorization:
    table = params["TableName"]
    if action == "Query":
        leading = [_queried_partition(params, lookups.partition_key(table))]
        resource = _table_arn(table, params.get("IndexName"), lookups)
        return Authorization(
            f"dynamodb:{action}", resource, {"dynamodb:LeadingKeys": tuple(leading)}
        )
    item = params.get("Item") if action == "PutItem" else params.get("Key")
    return _table_access(f"dynamodb:{action}", table, [item or {}], lookups)


def _table_access(
    action: str, table: str, items: list[Mapping[str, Any]], lookups: Lookups
) -> Authorization:
    partition_key = lookups.partition_key(table)
    leading = [
        _attribute_text(item[partition_key])
        for item in items
        if partition_key is not None and partition_key in item
    ]
    keys: Keys = {"dynamodb:LeadingKeys": tuple(dict.fromkeys(leading))} if leading else {}
    return Authorization(action, _table_arn(table, None, lookups), keys)


def _table_arn(table: str, index: str | None, lookups: Lookups) -> str:
    if table.startswith("arn:"):
        return f"{table}/index/{index}" if index else table
    resource = f"table/{table}" + (f"/index/{index}" if index else "")
    return lookups.arn("dynamodb", resource)


def _queried_partition(params: Mapping[str, Any], partition_key: str | None) -> str:
    """The partition key value a query's key condition names (a query must name one)."""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    expression = params.get("KeyConditionExpression")
    if expression is None and "KeyConditions" in params:
        condition = params["KeyConditions"].get(partition_key, {})
        return _attribute_text(condition["AttributeValueList"][0])
    for left, right in _EQUALITY.findall(str(expression)):
        for name, value in ((left, right), (right, left)):
            if names.get(name, name) == partition_key and value in values:
                return _attribute_text(values[value])
    raise ValueError(f"no partition key condition on {partition_key!r} in {expression!r}")


def _attribute_text(value: Any) -> str:
    """An attribute value (``{"S": "x"}`` on the wire, or a plain value) as its text."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


# --- Other services --------------------------------------------------------------------------


#: SageMaker parameters that name the resource an operation acts on -> its ARN's type.
_SAGEMAKER_NAMES = {
    "EndpointName": "endpoint",
    "EndpointConfigName": "endpoint-config",
    "ModelName": "model",
}
#: Operations whose model package group is named by ``ModelPackageGroupName``.
_MODEL_PACKAGE_GROUP_OPERATIONS = frozenset(
    {"CreateModelPackageGroup", "DescribeModelPackageGroup", "DeleteModelPackageGroup"}
)


def _sagemaker(
    operation: str, params: Mapping[str, Any], lookups: Lookups
) -> Iterator[Authorization]:
    action = f"sagemaker:{_ACTION_NAMES.get(('sagemaker', operation), operation)}"
    arn = _sagemaker_resource(operation, params, lookups)
    if arn is not None:
        yield Authorization(action, arn, _resource_tags(lookups.resource_tags(arn)))


def _sagemaker_resource(operation: str, params: Mapping[str, Any], lookups: Lookups) -> str | None:
    """The ARN of the resource a SageMaker call acts on (names in lower case, as SageMaker's
    ARNs hold them), or None for a call on no one resource (``List*``: ``Resource: *``).

    ``CreateModelPackage`` is authorized on its group: the versioned package's own ARN
    (``model-package/<group>/<version>``) is SageMaker's to number and not known before it
    exists, so this is not AWS's resource (a statement granting only ``model-package/*``
    would be refused here and allowed on AWS; the stacks grant both).
    ``CreateEndpoint``/``CreateEndpointConfig``/``CreateModel`` are authorized on the
    resource they create; the other resources their requests name (the configuration, the
    models, the execution role: ``iam:PassRole``) are checked by AWS too and not here.
    """
    if "ResourceArn" in params:  # AddTags, ListTags, DeleteTags
        return str(params["ResourceArn"])
    package = params.get("ModelPackageArn") or params.get("ModelPackageName")
    if package is not None:  # UpdateModelPackage's ARN; DescribeModelPackage's name or ARN
        name = str(package)
        return name if name.startswith("arn:") else _sagemaker_arn("model-package", name, lookups)
    if operation == "CreateModelPackage" or operation in _MODEL_PACKAGE_GROUP_OPERATIONS:
        group = params.get("ModelPackageGroupName")
        if group is not None:
            name = str(group)
            return (
                name
                if name.startswith("arn:")
                else _sagemaker_arn("model-package-group", name, lookups)
            )
    for parameter, kind in _SAGEMAKER_NAMES.items():
        if parameter in params and not operation.startswith("List"):
            return _sagemaker_arn(kind, str(params[parameter]), lookups)
    return None


def _sagemaker_arn(kind: str, name: str, lookups: Lookups) -> str:
    return lookups.arn("sagemaker", f"{kind}/{name.lower()}")


def _events(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    # PutEvents is authorized on each bus its entries name (the default bus where none is);
    # a rule's calls on the rule (``rule/<name>`` on the default bus, ``rule/<bus>/<name>``).
    rule = params.get("Name") if operation in ("PutRule", "DescribeRule") else params.get("Rule")
    if rule is not None and operation in ("PutRule", "DescribeRule", "PutTargets"):
        bus = params.get("EventBusName")
        path = f"{bus}/{rule}" if bus and bus != "default" else str(rule)
        yield Authorization(f"events:{operation}", lookups.arn("events", f"rule/{path}"), {})
    if operation == "PutEvents":
        buses = dict.fromkeys(
            str(entry.get("EventBusName") or "default") for entry in params.get("Entries", [])
        )
        for bus in buses:
            arn = bus if bus.startswith("arn:") else lookups.arn("events", f"event-bus/{bus}")
            yield Authorization("events:PutEvents", arn, {})


def _sts(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    # A role session with session tags needs sts:TagSession on the role too ("Passing session
    # tags in AWS STS": https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html).
    if operation == "AssumeRole":
        role = str(params["RoleArn"])
        yield Authorization("sts:AssumeRole", role, {})
        if params.get("Tags"):
            yield Authorization("sts:TagSession", role, {})


def _iam(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    """A role by name (the product makes roles without a path), and what IAM checks with it:
    the tags given at creation as ``iam:TagRole`` too, and the policy ``AttachRolePolicy``
    attaches as ``iam:PolicyARN`` ("Actions, resources, and condition keys for AWS Identity
    and Access Management":
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html)."""
    if "RoleName" not in params:
        return
    role = f"arn:aws:iam::{lookups.account_id}:role/{params['RoleName']}"
    keys: Keys = {}
    if operation == "AttachRolePolicy":
        keys["iam:PolicyARN"] = (str(params["PolicyArn"]),)
    yield Authorization(f"iam:{operation}", role, keys)
    if operation == "CreateRole" and params.get("Tags"):
        yield Authorization("iam:TagRole", role, {})


def _cloudwatch(
    operation: str, params: Mapping[str, Any], lookups: Lookups
) -> Iterator[Authorization]:
    """Alarms by name (``DescribeAlarms`` only when it names them: a listing by prefix is
    authorized on a resource this module does not know, and is left as ``Resource: *``)."""
    names = [params["AlarmName"]] if "AlarmName" in params else params.get("AlarmNames", [])
    arns = [lookups.arn("cloudwatch", f"alarm:{name}") for name in names]
    if "ResourceARN" in params:  # ListTagsForResource, TagResource
        arns = [str(params["ResourceARN"])]
    for arn in arns:
        yield Authorization(
            f"cloudwatch:{operation}", arn, _resource_tags(lookups.resource_tags(arn))
        )


def _scheduler(
    operation: str, params: Mapping[str, Any], lookups: Lookups
) -> Iterator[Authorization]:
    if "Name" in params and operation.endswith("Schedule"):
        group = params.get("GroupName") or "default"
        yield Authorization(
            f"scheduler:{operation}",
            lookups.arn("scheduler", f"schedule/{group}/{params['Name']}"),
            {},
        )


def _states(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    arn = params.get("executionArn") or params.get("stateMachineArn")
    if arn is not None:
        yield Authorization(f"states:{operation}", str(arn), {})


def _s3(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    """The object (or bucket) a call names; a copy also reads its source (``s3:GetObject`` on
    ``CopySource``), and ``DeleteObjects`` deletes each key it lists."""
    bucket = params.get("Bucket")
    if bucket is None:
        return
    action = f"s3:{_ACTION_NAMES.get(('s3', operation), operation)}"
    if operation == "DeleteObjects":
        for item in (params.get("Delete") or {}).get("Objects", []):
            yield Authorization("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{item['Key']}", {})
    elif "Key" in params:
        yield Authorization(action, f"arn:aws:s3:::{bucket}/{params['Key']}", {})
        source = params.get("CopySource")
        if source is not None:
            yield Authorization("s3:GetObject", f"arn:aws:s3:::{_copy_source(source)}", {})
    else:
        prefix = params.get("Prefix")
        keys: Keys = {"s3:prefix": (str(prefix),)} if prefix is not None else {}
        yield Authorization(action, f"arn:aws:s3:::{bucket}", keys)


def _copy_source(source: Any) -> str:
    """``bucket/key`` of a ``CopySource``: ``bucket/key`` (URL-encoded, perhaps with a leading
    ``/`` and a ``?versionId=``), or botocore's ``{"Bucket", "Key"}``."""
    if isinstance(source, dict):
        return f"{source['Bucket']}/{source['Key']}"
    return unquote(str(source).lstrip("/").split("?versionId=", 1)[0])


def _logs(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    group = params.get("logGroupIdentifier") or params.get("logGroupName")
    if group is not None:
        arn = (
            str(group)
            if str(group).startswith("arn:")
            else lookups.arn("logs", f"log-group:{group}")
        )
        yield Authorization(f"logs:{operation}", f"{arn.removesuffix(':*')}:*", {})


def _ssm(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    for name in [params["Name"]] if "Name" in params else params.get("Names", []):
        text = str(name)
        arn = (
            text if text.startswith("arn:") else lookups.arn("ssm", f"parameter/{text.lstrip('/')}")
        )
        yield Authorization(f"ssm:{operation}", arn, {})


def _bedrock(
    operation: str, params: Mapping[str, Any], lookups: Lookups
) -> Iterator[Authorization]:
    if "modelId" in params:
        model = str(params["modelId"])
        arn = (
            model
            if model.startswith("arn:")
            else lookups.arn("bedrock", f"foundation-model/{model}", account=False)
        )
        yield Authorization(f"bedrock:{operation}", arn, {})
    elif "guardrailIdentifier" in params:
        guardrail = str(params["guardrailIdentifier"]).rsplit("/", 1)[-1]
        yield Authorization(
            f"bedrock:{operation}",
            lookups.arn("bedrock", f"guardrail/{guardrail}"),
            _resource_tags(lookups.guardrail_tags(guardrail)),
        )


def _secretsmanager(
    operation: str, params: Mapping[str, Any], lookups: Lookups
) -> Iterator[Authorization]:
    """The secret ``SecretId`` names, with its tags. Named by name, it is authorized on
    ``secret:<name>``; AWS authorizes the full ARN, which ends in six characters Secrets
    Manager adds, and which statements therefore name with a trailing ``*`` that both match
    ("Secrets Manager resource types",
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html)."""
    if "SecretId" in params:
        secret = str(params["SecretId"])
        arn = (
            secret
            if secret.startswith("arn:")
            else lookups.arn("secretsmanager", f"secret:{secret}")
        )
        yield Authorization(
            f"secretsmanager:{operation}", arn, _resource_tags(lookups.resource_tags(arn))
        )


def _lambda(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    """``Invoke`` on the function its ``FunctionName`` names (a name, a partial or a full ARN,
    each perhaps with a version or alias), qualified as the request qualifies it: a qualified
    call is authorized on the qualified ARN ("Lambda resource types",
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html)."""
    if operation == "Invoke" and "FunctionName" in params:
        parts = str(params["FunctionName"]).split(":")
        # name[:qualifier] | account:function:name[:qualifier] | arn:aws:lambda:region:...
        named = parts[parts.index("function") + 1 :] if "function" in parts else parts
        name, qualifier = named[0], params.get("Qualifier") or ":".join(named[1:])
        arn = lookups.arn("lambda", f"function:{name}") + (f":{qualifier}" if qualifier else "")
        yield Authorization("lambda:InvokeFunction", arn, {})


def _batch(operation: str, params: Mapping[str, Any], lookups: Lookups) -> Iterator[Authorization]:
    """``SubmitJob`` on the job definition and the job queue it names (both: AWS checks
    each), ``TerminateJob`` on the job, ``TagResource`` on its ``resourceArn``; a name is made
    an ARN of this account (a definition's revision kept as named: without one, AWS runs the
    latest active revision, which this module does not look up). ``DescribeJobs`` has no
    resource type (``Resource: *``)."""
    if operation == "SubmitJob":
        for kind, name in (
            ("job-definition", params.get("jobDefinition")),
            ("job-queue", params.get("jobQueue")),
        ):
            text = str(name)
            arn = text if text.startswith("arn:") else lookups.arn("batch", f"{kind}/{text}")
            yield Authorization("batch:SubmitJob", arn, {})
    elif operation == "TerminateJob" and "jobId" in params:
        yield Authorization(
            "batch:TerminateJob", lookups.arn("batch", f"job/{params['jobId']}"), {}
        )
    elif operation == "TagResource" and "resourceArn" in params:
        yield Authorization("batch:TagResource", str(params["resourceArn"]), {})


_DERIVATIONS: dict[str, Callable[[str, Mapping[str, Any], Lookups], Iterator[Authorization]]] = {
    "dynamodb": _dynamodb,
    "sagemaker": _sagemaker,
    "states": _states,
    "s3": _s3,
    "logs": _logs,
    "ssm": _ssm,
    "bedrock": _bedrock,
    "events": _events,
    "sts": _sts,
    "iam": _iam,
    "cloudwatch": _cloudwatch,
    "scheduler": _scheduler,
    "lambda": _lambda,
    "batch": _batch,
    "secretsmanager": _secretsmanager,
}


__all__ = ["Authorization", "Lookups", "action_prefix", "authorizations"]
