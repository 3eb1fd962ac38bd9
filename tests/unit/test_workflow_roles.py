"""Each tenant's workflow role: found, or made once with its tag and its one policy.

Against moto's IAM: ``GetRole`` answers the role's tags
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html), ``CreateRole`` of a
name taken answers ``EntityAlreadyExists``
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from maas.exceptions import ValidationError
from maas.workflow_roles import (
    ACTS_FOR_TENANTS_TAG,
    ROLE_NAME_LENGTH,
    TenantWorkflowRoles,
    workflow_role_name,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

PREFIX = "maas-dev-tenant-workflows"


@pytest.fixture
def iam() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")
        yield client


@pytest.fixture
def policy_arn(iam: Any) -> str:
    created = iam.create_policy(
        PolicyName="maas-dev-tenant-workflow-policy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sagemaker:DescribeEndpoint", "Resource": "*"}
                ],
            }
        ),
    )
    return str(created["Policy"]["Arn"])


def test_a_new_tenant_gets_a_role_tagged_for_it_trusting_the_stages_workflows(
    iam: Any, policy_arn: str
) -> None:
    waited: list[float] = []
    roles = TenantWorkflowRoles(
        iam, PREFIX, policy_arn, propagation_seconds=10, sleep=waited.append
    )

    arn = roles.ensure("acme")

    role = iam.get_role(RoleName=f"{PREFIX}-acme")["Role"]
    assert arn == role["Arn"]
    assert role["Tags"] == [{"Key": "maas:tenant", "Value": "acme"}]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": f"{policy_arn.split(':policy/', maxsplit=1)[0]}:root"}
    assert statement["Condition"] == {
        "StringEquals": {f"aws:PrincipalTag/{ACTS_FOR_TENANTS_TAG}": PREFIX}
    }
    [attached] = iam.list_attached_role_policies(RoleName=f"{PREFIX}-acme")["AttachedPolicies"]
    assert attached["PolicyArn"] == policy_arn
    assert waited == [10]  # a new role is given time to be assumable


def test_a_known_tenants_role_is_found_without_waiting(iam: Any, policy_arn: str) -> None:
    waited: list[float] = []
    roles = TenantWorkflowRoles(
        iam, PREFIX, policy_arn, propagation_seconds=10, sleep=waited.append
    )
    first = roles.ensure("acme")
    waited.clear()

    assert roles.ensure("acme") == first
    assert waited == []


def test_two_tenants_get_two_roles(iam: Any, policy_arn: str) -> None:
    roles = TenantWorkflowRoles(iam, PREFIX, policy_arn)

    assert roles.ensure("acme") != roles.ensure("acme-x")


def test_a_role_of_the_name_tagged_for_another_tenant_is_refused_and_left_alone(
    iam: Any, policy_arn: str
) -> None:
    iam.create_role(
        RoleName=f"{PREFIX}-acme",
        AssumeRolePolicyDocument="{}",
        Tags=[{"Key": "maas:tenant", "Value": "globex"}],
    )
    roles = TenantWorkflowRoles(iam, PREFIX, policy_arn)

    with pytest.raises(ValidationError, match="exists and is not tenant acme's"):
        roles.ensure("acme")
    assert not iam.list_attached_role_policies(RoleName=f"{PREFIX}-acme")["AttachedPolicies"]


def test_a_role_made_meanwhile_by_another_workflow_is_taken(iam: Any, policy_arn: str) -> None:
    """Two workflows of a new tenant race: the second's CreateRole finds the name taken."""
    roles = TenantWorkflowRoles(iam, PREFIX, policy_arn)
    original_get_role = iam.get_role
    calls = {"n": 0}

    def get_role_missing_once(**params: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            # The other workflow creates the role right after this one looked.
            TenantWorkflowRoles(iam, PREFIX, policy_arn).ensure("acme")
            raise iam.exceptions.NoSuchEntityException(
                {"Error": {"Code": "NoSuchEntity", "Message": "not yet"}}, "GetRole"
            )
        return original_get_role(**params)

    iam.get_role = get_role_missing_once

    arn = roles.ensure("acme")

    assert arn.endswith(f":role/{PREFIX}-acme")
    [attached] = iam.list_attached_role_policies(RoleName=f"{PREFIX}-acme")["AttachedPolicies"]
    assert attached["PolicyArn"] == policy_arn


def test_a_tenant_too_long_for_the_stages_prefix_is_cut_and_hashed() -> None:
    long_prefix = "maas-production-eu-tenant-workflows"
    names = {workflow_role_name(long_prefix, tenant) for tenant in ("a" * 32, "a" * 31 + "b")}

    assert len(names) == 2
    assert all(len(name) <= ROLE_NAME_LENGTH for name in names)
