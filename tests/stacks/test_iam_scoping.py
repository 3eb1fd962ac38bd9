"""IAM: explicit actions, narrow resources, conditions where AWS supports them."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from maas.manifest import MANIFEST, tenant_role_id
from maas.naming import IDLE_ALARM_PREFIX, hours_schedule_name, idle_alarm_name, ttl_schedule_name
from stacks.iam_policies import HOURS_SCHEDULE_PREFIXES, TENANT_TAG, TTL_SCHEDULE_PREFIX
from tests.stacks.cfn_template import (
    as_list,
    function_by_handler,
    identity_statements,
    logical_id_of,
    managed_policy_statements,
    policy_statements,
    resources,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from stacks.control_plane import ControlPlane

pytestmark = pytest.mark.stacks

#: Actions AWS authorizes on no resource narrower than "*"; nothing else may get "*".
ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:DeregisterScalableTarget",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricStatistics",
    "sagemaker:ListModelPackages",
    "batch:DescribeJobs",
    "ecs:DiscoverPollEndpoint",
    "sagemaker:ListEndpoints",
    "sagemaker:ListEndpointConfigs",
    "sagemaker:ListModels",
    # A task token names no ARN (the API resumes an evaluation waiting for its grades).
    "states:SendTaskSuccess",
}
#: Keys of a model version's record and of the KMS key through DynamoDB.
_VERSION_RECORDS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
}
#: The KMS key through DynamoDB, for the tables' encrypted items.
_TABLE_KEY = {"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}
#: Keys of an endpoint's record: read, then guarded updates.
_ENDPOINT_RECORDS = {"dynamodb:GetItem", "dynamodb:UpdateItem"} | _TABLE_KEY
#: Powertools Idempotency's calls on its table: mark in progress, read, complete, forget.
_IDEMPOTENCY = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
}
#: The SageMaker endpoint's maas:tenant tag, read before acting on it
#: (maas.endpoints.ownership).
_OWNER_CHECK = {"sagemaker:DescribeEndpoint", "sagemaker:ListTags"}
#: Assuming the function's tenant role, for the tenant its input names (maas.tenancy).
_ACT_FOR_TENANT = {"sts:AssumeRole", "sts:TagSession"}
#: What each workflow step does through its tenant role (see TENANT_ROLE_ACTIONS below),
#: by function: held there to the tenant's partition, prefix and tag.
TENANT_ROLE_ACTIONS = {
    # maas.endpoints.plan.resolve_model: a registered version's record.
    # The version to deploy (get), the tenant's quota ledger (get, guarded updates) and its
    # endpoints, when the ledger opens or is swept (query).
    "PlanDeployment": _ENDPOINT_RECORDS | {"dynamodb:Query"},
    "PlanTeardown": _ENDPOINT_RECORDS | _OWNER_CHECK,
    # maas.endpoints.records.EndpointRegistry.begin_update: read, then a guarded update.
    # ... and a query of the tenant's endpoints, for its instance quota.
    "PlanScaling": _ENDPOINT_RECORDS | _OWNER_CHECK | {"dynamodb:Query"},
    # The endpoint's record (guarded writes) and the version it moves to (get).
    "PlanUpdate": _ENDPOINT_RECORDS | _OWNER_CHECK,
    # maas.endpoints.records.EndpointRegistry.begin_stop / begin_start: read, guarded update.
    **{function_id: _ENDPOINT_RECORDS | _OWNER_CHECK for function_id in ("PlanStop", "PlanStart")},
    "RecordEndpointStatus": _ENDPOINT_RECORDS,
    # What maas.endpoints.cleanup.DeploymentCleaner deletes that carries the tenant's tag.
    "CleanupDeployment": _OWNER_CHECK
    | {
        "sagemaker:DeleteEndpoint",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:DeleteModel",
        "cloudwatch:DeleteAlarms",
    },
    # maas.registry.ModelRegistry.open_version: query the versions, count, put the record.
    "PlanPackaging": _VERSION_RECORDS | {"dynamodb:Query", "dynamodb:UpdateItem"},
    # maas.quantization.steps.plan_quantization: read the parent, then open_version as above.
    "PlanQuantization": _VERSION_RECORDS | {"dynamodb:Query", "dynamodb:UpdateItem"},
    # maas.registry.packaging_steps.register_version and maas.registry.ModelPackages.
    "RegisterModelVersion": _VERSION_RECORDS
    | {
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "s3:GetObject",
        "s3:ListBucket",
        "sagemaker:AddTags",
        "sagemaker:CreateModelPackage",
        "sagemaker:CreateModelPackageGroup",
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:ListModelPackages",
    },
    # maas.registry.packaging_steps.fail_version: delete_prefix, then the FAILED record.
    "FailModelVersion": _VERSION_RECORDS
    | {"dynamodb:Query", "dynamodb:UpdateItem", "s3:ListBucket", "s3:DeleteObject"},
    # maas.evaluation.plan: the endpoint's record, the question set (in the tenant's folder),
    # the shards and job document, the EVALUATION# record.
    "PlanEvaluation": _VERSION_RECORDS | {"s3:GetObject", "s3:PutObject"},
    # maas.evaluation.outcome.gather over the shards' results, then the record.
    "AggregateEvaluation": _VERSION_RECORDS | {"s3:GetObject"},
    # maas.evaluation.store: the record only.
    "RequestEvaluationReview": _VERSION_RECORDS,
    "RecordEvaluationFailure": _VERSION_RECORDS,
    # maas.evaluation.finish: results, report and summary, the record, a rejected package.
    "FinishEvaluation": _VERSION_RECORDS
    | {"s3:GetObject", "s3:PutObject", "sagemaker:UpdateModelPackage"},
}
#: What each function may do besides writing its logs and traces.
FUNCTION_ACTIONS = {
    # The workflows' steps that act for one tenant: assume their tenant role; keep their
    # idempotency records (functions.common.idempotency: Powertools marks, completes and,
    # on error, forgets).
    "PlanDeployment": _ACT_FOR_TENANT,
    "RecordEndpointStatus": _ACT_FOR_TENANT,
    **{
        function_id: _ACT_FOR_TENANT | _IDEMPOTENCY
        for function_id in (
            "PlanTeardown",
            "PlanScaling",
            "PlanUpdate",
            "PlanStop",
            "PlanStart",
            "PlanPackaging",
            "PlanQuantization",
            "RegisterModelVersion",
            "FailModelVersion",
        )
    },
    # The clean-up of what takes no tag, with the function's own role: the scalable target
    # and the alarms deregistering it deletes, the schedules.
    "CleanupDeployment": _ACT_FOR_TENANT
    | {
        "application-autoscaling:DeregisterScalableTarget",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DescribeAlarms",
        "scheduler:DeleteSchedule",
    },
    # maas.workflow_roles.TenantWorkflowRoles.ensure: find, or create and attach the policy.
    "ActForTenant": {"iam:GetRole", "iam:CreateRole", "iam:TagRole", "iam:AttachRolePolicy"},
    # functions.api: nothing but acting as the caller's tenant (maas.tenancy).
    "Api": _ACT_FOR_TENANT,
    # A repeated announcement gets the first one's event id (functions.common.idempotency).
    "PublishEvent": {"events:PutEvents"} | _IDEMPOTENCY | _TABLE_KEY,
    # functions.start_lifecycle: one StartExecution, named after the request.
    "StartLifecycle": {"states:StartExecution"},
    # maas.endpoints.idle.IdleTeardown: the alarm's tags and configuration, the endpoint's
    # record, an early alarm set back to OK, one StartExecution of teardown.
    "TearDownIdleEndpoint": {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:SetAlarmState",
        "dynamodb:GetItem",
        "kms:Decrypt",
        "kms:DescribeKey",
        "states:StartExecution",
    },
    # maas.endpoints.records.EndpointRegistry.observe_sagemaker: a read, guarded updates.
    "EndpointStateChanged": {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
    # maas.registry.ModelRegistry.observe_packaging_job: one guarded update.
    "PackagingJobChanged": {
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
    # maas.endpoints.reconcile.Reconciler: every record against every tagged resource;
    # repairs are guarded puts, orphans are deleted only when a run asks; then the reports.
    "ReconcileEndpoints": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Scan",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "sagemaker:ListEndpoints",
        "sagemaker:ListEndpointConfigs",
        "sagemaker:ListModels",
        "sagemaker:ListTags",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:DeleteModel",
        "events:PutEvents",
    },
    # The evaluation's steps act for its tenant, and only so.
    **{
        function_id: _ACT_FOR_TENANT
        for function_id in (
            "PlanEvaluation",
            "AggregateEvaluation",
            "RequestEvaluationReview",
            "RecordEvaluationFailure",
            "FinishEvaluation",
        )
    },
    # maas.evaluation.shard, as the Evaluator job: read the shard and corpora, write results,
    # the endpoint, a Bedrock judge, the guardrail and its parameter, the assertion set.
    "EvaluateShard": {
        "s3:GetObject",
        "s3:PutObject",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "sagemaker:InvokeEndpoint",
        "bedrock:InvokeModel",
        "bedrock:ApplyGuardrail",
        "ssm:GetParameter",
        "dynamodb:GetItem",
    },
}
BASELINE_FUNCTION_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
#: ``aws-sdk`` integration service names whose IAM prefix differs.
IAM_PREFIXES = {"applicationautoscaling": "application-autoscaling"}
#: Optimized integrations: the IAM actions a task resource calls.
OPTIMIZED_ACTIONS = {
    "lambda:invoke": {"lambda:InvokeFunction"},
    # The callback pattern is a plain invoke that hands the function a task token.
    "lambda:invoke.waitForTaskToken": {"lambda:InvokeFunction"},
    "batch:submitJob": {"batch:SubmitJob"},
    # .sync follows the job: the managed rule, polling, and terminating a stopped task's job.
    "batch:submitJob.sync": {
        "batch:SubmitJob",
        "batch:DescribeJobs",
        "batch:TerminateJob",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
    # .sync:2 follows the child: the managed rule, polling, and stopping it with the parent.
    "states:startExecution.sync:2": {
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
}


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for statement in statements for action in as_list(statement["Action"])}


def _role_of_state_machine(template: dict[str, Any], plane: ControlPlane, machine_id: str) -> str:
    machine = plane.lifecycle.state_machines[machine_id].state_machine
    properties = template["Resources"][logical_id_of(machine)]["Properties"]
    role: str = properties["RoleArn"]["Fn::GetAtt"][0]
    return role


def _service_role(template: dict[str, Any], role_id: str) -> str:
    spec = next(spec for spec in MANIFEST.roles if spec.id == role_id)
    [logical_id] = [
        logical_id
        for logical_id, properties in resources(template, "AWS::IAM::Role").items()
        if properties.get("Description") == spec.description
    ]
    return logical_id


def test_no_identity_policy_allows_a_wildcard_action(
    foundation_json: dict[str, Any],
    packaging_json: dict[str, Any],
    lifecycle_json: dict[str, Any],
) -> None:
    statements = [
        *identity_statements(foundation_json),
        *identity_statements(packaging_json),
        *identity_statements(lifecycle_json),
    ]
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement


def test_only_actions_without_resource_level_permissions_get_any_resource(
    packaging_json: dict[str, Any], lifecycle_json: dict[str, Any]
) -> None:
    on_any_resource = _actions(
        [
            statement
            for statement in identity_statements(lifecycle_json)
            + identity_statements(packaging_json)
            if "*" in as_list(statement["Resource"])
        ]
    )
    assert on_any_resource <= ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS


def test_pass_role_names_one_role_and_the_service_it_is_passed_to(
    lifecycle_json: dict[str, Any],
) -> None:
    pass_role = [
        statement
        for statement in identity_statements(lifecycle_json)
        if "iam:PassRole" in as_list(statement["Action"])
    ]
    # Each machine that passes a role has its own statement; together they pass every role.
    passed = {statement["Resource"]["Fn::GetAtt"][0] for statement in pass_role}
    assert len(passed) == len([spec for spec in MANIFEST.roles if spec.service_principal])
    for statement in pass_role:
        assert statement["Action"] == "iam:PassRole"
        role = statement["Resource"]["Fn::GetAtt"][0]
        trusted = lifecycle_json["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
        service = trusted["Statement"][0]["Principal"]["Service"]
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": service}}


def test_sagemaker_resources_are_created_only_with_the_tenant_tag(
    lifecycle_json: dict[str, Any],
) -> None:
    creates = [
        statement
        for statement in identity_statements(lifecycle_json)
        if any(action.startswith("sagemaker:Create") for action in as_list(statement["Action"]))
    ]
    assert creates
    for statement in creates:
        assert "sagemaker:AddTags" in statement["Action"]
        # Some tenant's (the registry's functions), or the session's own (the tenant's
        # workflow role, whose statements the endpoint workflows' creates use).
        tenant_tag = f"aws:RequestTag/{TENANT_TAG}"
        assert statement["Condition"].get("Null") == {tenant_tag: "false"} or statement[
            "Condition"
        ].get("StringEquals") == {tenant_tag: "${aws:PrincipalTag/maas:tenant}"}
        assert statement["Condition"]["ForAllValues:StringLike"] == {"aws:TagKeys": ["maas:*"]}


@pytest.mark.parametrize("function_id", sorted(FUNCTION_ACTIONS))
def test_function_may_do_what_its_handler_calls_and_no_more(
    lifecycle_json: dict[str, Any], function_id: str
) -> None:
    _, properties = function_by_handler(lifecycle_json, MANIFEST.function(function_id).handler)
    statements = policy_statements(lifecycle_json, properties["Role"]["Fn::GetAtt"][0])
    assert _actions(statements) == BASELINE_FUNCTION_ACTIONS | FUNCTION_ACTIONS[function_id]
    for statement in statements:
        if any(action.startswith("kms:") for action in as_list(statement["Action"])):
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]


def test_every_manifest_function_has_its_permissions_listed() -> None:
    assert set(FUNCTION_ACTIONS) == {spec.id for spec in MANIFEST.functions}
    assert {tenant_role_id(function_id) for function_id in TENANT_ROLE_ACTIONS} == {
        spec.id for spec in MANIFEST.roles if spec.assumed_by_function not in (None, "Api")
    }


@pytest.mark.parametrize("function_id", sorted(TENANT_ROLE_ACTIONS))
def test_a_step_acts_for_its_tenant_only_through_its_tenant_role(
    lifecycle_json: dict[str, Any], plane: ControlPlane, function_id: str
) -> None:
    """Each statement of a step's tenant role is held to the session's tenant: DynamoDB to
    its partition, S3 to its prefix, SageMaker and CloudWatch changes to its tag; reads that
    tell another tenant's resource from none (the owner check) and descriptions of model
    packages, whose names are the tenant's, are the only ones without."""
    role = plane.lifecycle.roles[tenant_role_id(function_id)]
    statements = policy_statements(lifecycle_json, logical_id_of(role))
    assert _actions(statements) == TENANT_ROLE_ACTIONS[function_id]
    tenant = "${aws:PrincipalTag/maas:tenant}"
    for statement in statements:
        actions = as_list(statement["Action"])
        text = json.dumps(statement)
        if any(action.startswith("dynamodb:") for action in actions):
            assert statement["Condition"] == {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{tenant}"]}
            }
        elif any(action.startswith("s3:") for action in actions):
            assert tenant in text, statement
        elif set(actions) & {
            "sagemaker:DeleteEndpoint",
            "sagemaker:DeleteEndpointConfig",
            "sagemaker:DeleteModel",
            "sagemaker:CreateModelPackage",
            "sagemaker:UpdateModelPackage",
            "cloudwatch:DeleteAlarms",
        }:
            assert tenant in json.dumps(statement["Condition"]), statement
        else:
            assert set(actions) <= _OWNER_CHECK | _TABLE_KEY | {
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:ListModelPackages",
            }, statement


def _tasks(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Task state of a definition's ``States``, in Parallel branches and Maps too."""
    for state in states.values():
        if state["Type"] == "Task":
            yield state
        for branch in state.get("Branches", []):
            yield from _tasks(branch["States"])
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _tasks(state[key]["States"])


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_state_machine_may_call_every_integration_of_its_definition(
    lifecycle_json: dict[str, Any], plane: ControlPlane, spec: Any
) -> None:
    """A Task with ``Credentials`` calls as the tenant's workflow role (its one policy); any
    other as the machine's own role."""
    own = _actions(
        policy_statements(lifecycle_json, _role_of_state_machine(lifecycle_json, plane, spec.id))
    )
    tenant = _actions(
        managed_policy_statements(lifecycle_json, plane.lifecycle.tenant_workflow_policy)
    )
    tasks = list(_tasks(json.loads(spec.definition_text())["States"]))
    assert tasks
    for task in tasks:
        allowed = tenant if "Credentials" in task else own
        sdk = re.fullmatch(r"arn:aws:states:::aws-sdk:([a-z]+):(\w+)", task["Resource"])
        if sdk:
            service, action = sdk.groups()
            iam_action = f"{IAM_PREFIXES.get(service, service)}:{action[0].upper()}{action[1:]}"
            assert iam_action in allowed, iam_action
        else:
            resource = task["Resource"].removeprefix("arn:aws:states:::")
            assert OPTIMIZED_ACTIONS[resource] <= allowed, resource


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_every_call_on_a_tenants_endpoint_is_made_as_the_tenants_workflow_role(spec: Any) -> None:
    """SageMaker, Application Auto Scaling and CloudWatch calls name the role the workflow's
    first step found for the request's tenant (maas.workflow_roles); schedules, which take
    no tags, stay with the machine's role."""
    definition = json.loads(spec.definition_text())
    tenant_calls = [
        task
        for task in _tasks(definition["States"])
        if re.match(
            r"arn:aws:states:::aws-sdk:(sagemaker|applicationautoscaling|cloudwatch):",
            task["Resource"],
        )
    ]
    # Every machine is JSONata (state_machines/sources): a task reads the role from the variable.
    assert definition["QueryLanguage"] == "JSONata"
    for task in tenant_calls:
        assert task["Credentials"] == {"RoleArn": "{% $tenantRole %}"}, task["Resource"]
    if tenant_calls:
        first = definition["States"][definition["StartAt"]]
        assert first["Arguments"]["FunctionName"] == "${ActForTenantFunctionArn}"
        assert first["Assign"] == {"tenantRole": "{% $states.result.Payload.role_arn %}"}


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_state_machine_invokes_exactly_its_substituted_functions(
    lifecycle_json: dict[str, Any], plane: ControlPlane, spec: Any
) -> None:
    statements = policy_statements(
        lifecycle_json, _role_of_state_machine(lifecycle_json, plane, spec.id)
    )
    [invoke] = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    invoked = {resource["Fn::GetAtt"][0] for resource in as_list(invoke["Resource"])}
    substituted = {
        function_by_handler(lifecycle_json, MANIFEST.function(ref.target).handler)[0]
        for ref in spec.substitutions.values()
        if ref.kind.value == "function_arn"
    }
    assert invoked == substituted


def test_schedules_are_scoped_to_the_prefixes_the_names_use() -> None:
    assert ttl_schedule_name("acme", "chat").startswith(TTL_SCHEDULE_PREFIX)
    stop, start = HOURS_SCHEDULE_PREFIXES
    assert hours_schedule_name("acme", "chat", "stop").startswith(stop)
    assert hours_schedule_name("acme", "chat", "start").startswith(start)


def test_schedules_are_created_and_deleted_only_under_the_product_prefixes(
    lifecycle_json: dict[str, Any],
) -> None:
    schedule_statements = [
        statement
        for statement in identity_statements(lifecycle_json)
        if any(action.startswith("scheduler:") for action in as_list(statement["Action"]))
    ]
    assert schedule_statements
    allowed = {
        f":schedule/default/{prefix}*" for prefix in (TTL_SCHEDULE_PREFIX, *HOURS_SCHEDULE_PREFIXES)
    }
    for statement in schedule_statements:
        for resource in as_list(statement["Resource"]):
            assert resource["Fn::Join"][1][-1] in allowed


def test_only_idle_alarms_may_be_set_to_a_state(lifecycle_json: dict[str, Any]) -> None:
    assert idle_alarm_name("acme", "chat").startswith(IDLE_ALARM_PREFIX)
    statements = [
        statement
        for statement in identity_statements(lifecycle_json)
        if "cloudwatch:SetAlarmState" in as_list(statement["Action"])
    ]
    assert statements
    for statement in statements:
        [resource] = as_list(statement["Resource"])
        assert resource["Fn::Join"][1][-1] == f":alarm:{IDLE_ALARM_PREFIX}*"


def test_scheduler_role_may_only_start_its_workflows_and_invoke_the_reconciler(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    statements = policy_statements(lifecycle_json, _service_role(lifecycle_json, "SchedulerRole"))
    machines = plane.lifecycle.state_machines
    reconciler = plane.lifecycle.functions["ReconcileEndpoints"].function
    assert statements == [
        {
            "Action": "states:StartExecution",
            "Effect": "Allow",
            "Resource": [
                {"Ref": logical_id_of(machines[machine_id].state_machine)}
                for machine_id in ("StartEndpoint", "StopEndpoint", "Teardown")
            ],
        },
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id_of(reconciler), "Arn"]},
        },
    ]


def test_sagemaker_execution_role_reads_only_the_artifacts_bucket(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    statements = policy_statements(
        lifecycle_json, _service_role(lifecycle_json, "SageMakerExecutionRole")
    )
    [read] = [s for s in statements if "s3:GetObject" in as_list(s["Action"])]
    assert sorted(read["Action"]) == ["s3:GetObject", "s3:ListBucket"]
    prefix = f":s3:::maas-{plane.config.name}-artifacts-"
    for resource in read["Resource"]:
        assert prefix in resource["Fn::Join"][1]
    assert not any(action.startswith(("s3:Put", "s3:Delete")) for action in _actions(statements))


def test_package_model_submits_only_to_the_packager_queue_and_definition(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    statements = policy_statements(
        lifecycle_json, _role_of_state_machine(lifecycle_json, plane, "PackageModel")
    )
    [submit] = [s for s in statements if "batch:SubmitJob" in as_list(s["Action"])]
    assert submit["Action"] == "batch:SubmitJob"
    tails = sorted(resource["Fn::Join"][1][-1] for resource in submit["Resource"])
    name = plane.config.resource_name("Packager")
    assert tails == [
        f":job-definition/{name}",
        f":job-definition/{name}:*",
        f":job-queue/{plane.config.resource_name('PackagerQueue')}",
    ]
    [tag] = [s for s in statements if "batch:TagResource" in as_list(s["Action"])]
    assert tag["Condition"] == {"ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]}}
    [rule] = [s for s in statements if "events:PutRule" in as_list(s["Action"])]
    assert rule["Resource"]["Fn::Join"][1][-1] == ":rule/StepFunctionsGetEventsForBatchJobsRule"


def test_registry_functions_list_only_version_prefixes_and_delete_only_under_them(
    lifecycle_json: dict[str, Any],
) -> None:
    for function_id in ("RegisterModelVersion", "FailModelVersion"):
        _, properties = function_by_handler(lifecycle_json, MANIFEST.function(function_id).handler)
        for statement in policy_statements(lifecycle_json, properties["Role"]["Fn::GetAtt"][0]):
            actions = as_list(statement["Action"])
            if "s3:ListBucket" in actions:
                assert statement["Condition"] == {"StringLike": {"s3:prefix": "*/*/*/"}}
            if any(action.startswith(("s3:GetObject", "s3:Delete")) for action in actions):
                [resource] = as_list(statement["Resource"])
                assert resource["Fn::Join"][1][-1].endswith("/*/*/*/*"), function_id
