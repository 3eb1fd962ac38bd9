"""Tenant conditions in the synthesized templates: what each role may touch, for whom.

Roles assumed for one tenant (the API's tenant access role, the jobs' tenant roles) compare
resources with their session tag ``${aws:PrincipalTag/maas:tenant}``; roles that act for
every tenant (state machines, functions) may change or delete only what carries a
``maas:tenant`` tag, and create only with one. Which condition keys each action supports
is the Service Authorization Reference's word (a key an action does not support never
matches): SageMaker
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html,
CloudWatch
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html,
EventBridge Scheduler (schedules take no tags)
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html,
Secrets Manager
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.manifest import MANIFEST
from maas.tenancy import TENANT_ROLE_VARIABLE
from maas.workflow_roles import ACTS_FOR_TENANTS_TAG
from stacks.iam_policies import SESSION_TENANT, TENANT_TAG
from tests.stacks.cfn_template import (
    arn_text,
    as_list,
    function_by_handler,
    identity_statements,
    logical_id_of,
    managed_policy_statements,
    policy_statements,
)

if TYPE_CHECKING:
    from stacks.control_plane import ControlPlane

pytestmark = pytest.mark.stacks

RESOURCE_TAG = f"aws:ResourceTag/{TENANT_TAG}"
REQUEST_TAG = f"aws:RequestTag/{TENANT_TAG}"
#: The conditions that hold a statement to the product's resources, or to one tenant's.
PRODUCT_TAGGED = {"Null": {RESOURCE_TAG: "false"}}
SESSION_TENANT_TAGGED = {"StringEquals": {RESOURCE_TAG: SESSION_TENANT}}
CREATED_WITH_TENANT_TAG = {
    "Null": {REQUEST_TAG: "false"},
    "ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]},
}
CREATED_FOR_SESSION_TENANT = {
    "StringEquals": {REQUEST_TAG: SESSION_TENANT},
    "ForAllValues:StringLike": {"aws:TagKeys": ["maas:*"]},
}
#: Actions that change or delete a tenant's SageMaker resource, or use it.
SAGEMAKER_CHANGES = {
    "sagemaker:DeleteEndpoint",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteModel",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:UpdateModelPackage",
    "sagemaker:InvokeEndpoint",
}
#: Actions whose resources support ``aws:ResourceTag`` (the reference's resource types):
#: only these may carry a resource-tag condition.
SUPPORTS_RESOURCE_TAG = SAGEMAKER_CHANGES | {
    "sagemaker:DescribeEndpoint",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:SetAlarmState",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "bedrock:ApplyGuardrail",
}
#: Actions that support ``aws:RequestTag`` and ``aws:TagKeys``.
SUPPORTS_REQUEST_TAG = {
    "sagemaker:AddTags",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateModel",
    "sagemaker:CreateModelPackage",
    "sagemaker:CreateModelPackageGroup",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:TagResource",
    "sts:AssumeRole",
    "sts:TagSession",
    "iam:CreateRole",
    "iam:TagRole",
}
#: Alarms the product creates itself, with its tags (Application Auto Scaling creates the
#: target-tracking alarms, untagged).
TAGGED_ALARM_NAMES = (":alarm:maas-idle-", ":alarm:maas-rollback-")


@pytest.fixture(scope="module")
def every_statement(
    lifecycle_json: dict[str, Any], packaging_json: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every identity statement of the lifecycle and packaging stacks."""
    return [*identity_statements(lifecycle_json), *identity_statements(packaging_json)]


def _granting(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements if action in as_list(statement["Action"])]


def _machine_statements(
    template: dict[str, Any], plane: ControlPlane, machine_id: str
) -> list[dict[str, Any]]:
    machine = plane.lifecycle.state_machines[machine_id].state_machine
    role = template["Resources"][logical_id_of(machine)]["Properties"]["RoleArn"]
    return policy_statements(template, role["Fn::GetAtt"][0])


def _tenant_role_statements(
    plane: ControlPlane, lifecycle_json: dict[str, Any], packaging_json: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """The statements of every role assumed for one tenant, by the role's manifest id."""
    roles = {
        "TenantAccessRole": policy_statements(
            lifecycle_json, logical_id_of(plane.lifecycle.roles["TenantAccessRole"])
        )
    }
    for job_id, role in plane.packaging.tenant_roles.items():
        spec = next(spec for spec in MANIFEST.roles if spec.assumed_by_job == job_id)
        roles[spec.id] = policy_statements(packaging_json, logical_id_of(role))
    return roles


# --- Roles that act for every tenant: only the product's tagged resources --------------------


def test_teardown_deletes_only_its_tenants_endpoints_configs_and_models(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    # The machine's own role deletes nothing: its states delete as the tenant's workflow
    # role, whose one policy holds each delete to the role's own tenant.
    machine = _machine_statements(lifecycle_json, plane, "Teardown")
    tenant = managed_policy_statements(lifecycle_json, plane.lifecycle.tenant_workflow_policy)
    for action in ("DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"):
        assert not _granting(machine, f"sagemaker:{action}")
        [delete] = _granting(tenant, f"sagemaker:{action}")
        assert delete["Condition"] == SESSION_TENANT_TAGGED


def test_the_tenant_workflow_policy_reaches_only_the_roles_own_tenant(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    statements = managed_policy_statements(lifecycle_json, plane.lifecycle.tenant_workflow_policy)
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        if actions & (SAGEMAKER_CHANGES | {"cloudwatch:DeleteAlarms", "cloudwatch:SetAlarmState"}):
            resources_ = [arn_text(resource) for resource in as_list(statement["Resource"])]
            if all(":alarm:TargetTracking-" in resource for resource in resources_):
                continue  # Application Auto Scaling's own alarms, which it does not tag.
            assert statement["Condition"] == SESSION_TENANT_TAGGED, statement
        if any(action.startswith("sagemaker:Create") for action in actions):
            assert statement["Condition"] == CREATED_FOR_SESSION_TENANT, statement


def test_tenant_workflow_roles_are_made_only_with_a_tenant_and_the_one_policy(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    _, properties = function_by_handler(lifecycle_json, "functions.act_for_tenant.handler")
    statements = policy_statements(lifecycle_json, properties["Role"]["Fn::GetAtt"][0])
    prefix = plane.config.resource_name("TenantWorkflows")
    [create] = _granting(statements, "iam:CreateRole")
    assert create["Condition"] == CREATED_WITH_TENANT_TAG
    [attach] = _granting(statements, "iam:AttachRolePolicy")
    assert attach["Condition"] == {
        "ArnEquals": {
            "iam:PolicyARN": {"Ref": logical_id_of(plane.lifecycle.tenant_workflow_policy)}
        }
    }
    for statement in [*_granting(statements, "iam:GetRole"), create, attach]:
        assert arn_text(statement["Resource"]).endswith(f":role/{prefix}-*")


def test_only_the_machines_that_act_for_a_tenant_may_assume_its_workflow_role(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    prefix = plane.config.resource_name("TenantWorkflows")
    for machine_id, machine in plane.lifecycle.state_machines.items():
        acts = "${ActForTenantFunctionArn}" in MANIFEST.state_machine(machine_id).definition_text()
        statements = _machine_statements(lifecycle_json, plane, machine_id)
        assumes = _granting(statements, "sts:AssumeRole")
        role = lifecycle_json["Resources"][logical_id_of(machine.state_machine.role)]
        tags = {tag["Key"]: tag["Value"] for tag in role["Properties"].get("Tags", [])}
        assert bool(assumes) == acts, machine_id
        assert (tags.get(ACTS_FOR_TENANTS_TAG) == prefix) == acts, machine_id
        for statement in assumes:
            assert arn_text(statement["Resource"]).endswith(f":role/{prefix}-*")


def test_every_sagemaker_change_delete_or_invoke_is_held_to_tagged_resources(
    every_statement: list[dict[str, Any]],
) -> None:
    changing = [
        statement
        for statement in every_statement
        if SAGEMAKER_CHANGES & set(as_list(statement["Action"]))
    ]
    assert changing
    for statement in changing:
        assert statement.get("Condition") in (PRODUCT_TAGGED, SESSION_TENANT_TAGGED), statement
        # Nothing else shares a conditioned statement but a describe under the same condition
        # (CDK merges statements with equal conditions and resources).
        allowed = SAGEMAKER_CHANGES | {"sagemaker:DescribeEndpoint"}
        assert set(as_list(statement["Action"])) <= allowed, statement


def test_every_create_carries_the_tenant_tag(every_statement: list[dict[str, Any]]) -> None:
    creates = [
        statement
        for statement in every_statement
        if any(
            action.startswith("sagemaker:Create") or action == "cloudwatch:PutMetricAlarm"
            for action in as_list(statement["Action"])
        )
    ]
    assert creates
    for statement in creates:
        resources_ = [arn_text(resource) for resource in as_list(statement["Resource"])]
        if all(":alarm:TargetTracking-" in resource for resource in resources_):
            continue  # Application Auto Scaling's own alarms, which it does not tag.
        assert statement["Condition"] in (CREATED_WITH_TENANT_TAG, CREATED_FOR_SESSION_TENANT)


def test_the_products_alarms_are_changed_and_deleted_only_when_tagged(
    every_statement: list[dict[str, Any]],
) -> None:
    tagged_alarm_statements = [
        statement
        for statement in every_statement
        if any(
            name in arn_text(resource)
            for resource in as_list(statement["Resource"])
            for name in TAGGED_ALARM_NAMES
        )
        and {"cloudwatch:DeleteAlarms", "cloudwatch:SetAlarmState"}
        & set(as_list(statement["Action"]))
    ]
    assert tagged_alarm_statements
    for statement in tagged_alarm_statements:
        assert statement["Condition"] in (PRODUCT_TAGGED, SESSION_TENANT_TAGGED), statement


def test_conditions_name_only_keys_their_actions_support(
    every_statement: list[dict[str, Any]],
) -> None:
    for statement in every_statement:
        conditions = json.dumps(statement.get("Condition", {}))
        actions = set(as_list(statement["Action"]))
        if "aws:ResourceTag/" in conditions:
            assert actions <= SUPPORTS_RESOURCE_TAG, statement
        if "aws:RequestTag/" in conditions or "aws:TagKeys" in conditions:
            assert actions <= SUPPORTS_REQUEST_TAG | {"batch:TagResource"}, statement


def test_schedules_carry_no_tag_condition_since_schedules_take_no_tags(
    every_statement: list[dict[str, Any]],
) -> None:
    schedules = [
        statement
        for statement in every_statement
        if any(action.startswith("scheduler:") for action in as_list(statement["Action"]))
    ]
    assert schedules
    for statement in schedules:
        assert "Condition" not in statement, statement


# --- Roles assumed for one tenant: the session tag names the tenant ---------------------------


def test_roles_assumed_for_a_tenant_invoke_and_read_only_that_tenants_resources(
    plane: ControlPlane, lifecycle_json: dict[str, Any], packaging_json: dict[str, Any]
) -> None:
    for role_id, statements in _tenant_role_statements(
        plane, lifecycle_json, packaging_json
    ).items():
        for statement in statements:
            actions = set(as_list(statement["Action"]))
            if actions & {"sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"}:
                assert statement["Condition"] == SESSION_TENANT_TAGGED, role_id
            if "secretsmanager:GetSecretValue" in actions:
                assert statement["Condition"]["StringEquals"][RESOURCE_TAG] == SESSION_TENANT
                assert SESSION_TENANT in arn_text(statement["Resource"])
            if actions & {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"}:
                leading = statement["Condition"]["ForAllValues:StringEquals"]
                assert leading == {"dynamodb:LeadingKeys": [f"TENANT#{SESSION_TENANT}"]}
            if any(action.startswith("s3:") and action != "s3:ListBucket" for action in actions):
                # Objects only under the tenant's folder or its evaluations' folder.
                for resource in as_list(statement["Resource"]):
                    assert f"/{SESSION_TENANT}/" in arn_text(resource), (role_id, resource)
            if "s3:ListBucket" in actions:
                assert statement["Condition"] == {
                    "StringLike": {"s3:prefix": f"{SESSION_TENANT}/*"}
                }


def test_the_packagers_tenant_role_writes_only_its_tenants_versions(
    plane: ControlPlane, packaging_json: dict[str, Any]
) -> None:
    statements = policy_statements(
        packaging_json, logical_id_of(plane.packaging.tenant_roles["Packager"])
    )
    [write] = _granting(statements, "s3:PutObject")
    assert sorted(write["Action"]) == [
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:PutObject",
    ]
    assert arn_text(write["Resource"]).endswith(
        f"-artifacts-<AWS::AccountId>-<AWS::Region>/{SESSION_TENANT}/*/*/*"
    )
    [read] = _granting(statements, "s3:GetObject")
    assert arn_text(read["Resource"]).endswith(f"/{SESSION_TENANT}/*")


@pytest.mark.parametrize("spec", MANIFEST.jobs, ids=lambda spec: spec.id)
def test_a_job_role_may_only_assume_its_tenant_role_for_one_tenant(
    plane: ControlPlane, packaging_json: dict[str, Any], spec: Any
) -> None:
    job = plane.packaging.jobs[spec.id]
    tenant_role = logical_id_of(plane.packaging.tenant_roles[spec.id])
    statements = policy_statements(packaging_json, logical_id_of(job.job_role))
    assert statements == [
        {
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringLike": {REQUEST_TAG: "?*"},
                "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
            },
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [tenant_role, "Arn"]},
        }
    ]
    # ... and the tenant role trusts that job role alone, with the tenant as a session tag.
    trust = packaging_json["Resources"][tenant_role]["Properties"]["AssumeRolePolicyDocument"]
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"AWS": {"Fn::GetAtt": [logical_id_of(job.job_role), "Arn"]}}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"]["StringLike"] == {REQUEST_TAG: "?*"}


def test_no_job_role_reads_the_artifacts_bucket_or_any_bucket(
    plane: ControlPlane, packaging_json: dict[str, Any]
) -> None:
    for spec in MANIFEST.jobs:
        job_role = logical_id_of(plane.packaging.jobs[spec.id].job_role)
        actions = {
            action
            for statement in policy_statements(packaging_json, job_role)
            for action in as_list(statement["Action"])
        }
        assert not {action for action in actions if action.split(":")[0] != "sts"}, spec.id


@pytest.mark.parametrize("spec", MANIFEST.jobs, ids=lambda spec: spec.id)
def test_a_jobs_environment_names_its_tenant_role(
    plane: ControlPlane, packaging_json: dict[str, Any], spec: Any
) -> None:
    definition = plane.packaging.jobs[spec.id].definition
    container = packaging_json["Resources"][logical_id_of(definition)]["Properties"][
        "ContainerProperties"
    ]
    [role_arn] = [
        variable["Value"]
        for variable in container["Environment"]
        if variable["Name"] == TENANT_ROLE_VARIABLE
    ]
    role_id = next(role.id for role in MANIFEST.roles if role.assumed_by_job == spec.id)
    assert arn_text(role_arn).endswith(f":role/{plane.config.resource_name(role_id)}")
