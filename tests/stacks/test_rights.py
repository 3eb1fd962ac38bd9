"""The table of rights (stacks.rights): every principal of the manifest in it, each grant
of stacks.iam_policies written once. No synthesis: the grants are built from a plain scope."""

from __future__ import annotations

import itertools
import json

import pytest

pytest.importorskip("aws_cdk", reason="the stack tests need the cdk extra")

from maas.manifest import MANIFEST, tenant_role_id
from stacks import iam_policies, rights
from stacks.iam_policies import Grant, Owner, Scope

SCOPE = Scope(
    stage="dev",
    key="key-arn",
    artifacts="bucket-arn",
    resolve=lambda resource: f"{resource}-arn",
    name_of=lambda machine: f"{machine}-name",
    workflow_role_prefix="maas-dev-TenantWorkflows",
)


def _named() -> dict[str, Grant]:
    """Every grant stacks.iam_policies names."""
    return {name: value for name, value in vars(iam_policies).items() if isinstance(value, Grant)}


def _made() -> list[Grant]:
    """Every grant the table makes with a factory of stacks.iam_policies (``items(...)``)."""
    named = list(_named().values())
    tables = (rights.FUNCTIONS, rights.WORKFLOWS, rights.JOBS, rights.ROLES)
    return [
        grant
        for table in tables
        for entry in table.values()
        for grant in (*entry.own, *entry.tenant)
        if not any(grant is constant for constant in named)
    ]


def _built(grant: Grant) -> tuple[str, ...]:
    return tuple(
        json.dumps(grant.statement(SCOPE, owner).to_json(), sort_keys=True) for owner in Owner
    )


def test_every_function_workflow_and_job_of_the_manifest_has_its_rights() -> None:
    assert {spec.id for spec in MANIFEST.functions} == set(rights.FUNCTIONS)
    assert {spec.id for spec in MANIFEST.state_machines} == set(rights.WORKFLOWS)
    assert {spec.id for spec in MANIFEST.jobs} == set(rights.JOBS)


def test_every_role_a_function_assumes_for_a_tenant_has_its_tenant_rights() -> None:
    tenant_roles = {spec.id for spec in MANIFEST.roles if spec.assumed_by_function}
    with_tenant_rights = {
        tenant_role_id(function) for function, entry in rights.FUNCTIONS.items() if entry.tenant
    } | {role for role, entry in rights.ROLES.items() if entry.tenant}
    assert with_tenant_rights == tenant_roles


def test_the_other_roles_of_the_table_are_roles_of_the_manifest() -> None:
    assert set(rights.ROLES) <= {spec.id for spec in MANIFEST.roles}


def test_no_two_grants_are_the_same_statement() -> None:
    """No policy is written twice: two named grants differ for at least one owner, and what
    the table makes with a factory (a table's items, a machine to start) is no named grant."""
    named = {name: _built(grant) for name, grant in _named().items()}
    same = [
        (first, second)
        for (first, a), (second, b) in itertools.combinations(named.items(), 2)
        if a == b
    ]
    assert same == []
    assert [grant for grant in _made() if _built(grant) in named.values()] == []


def test_a_tenants_grant_reaches_only_its_tenants_items_and_tagged_resources() -> None:
    [record_update] = iam_policies.statements(
        [iam_policies.items("EndpointsTable", "UpdateItem")], SCOPE, Owner.SESSION_TENANT
    )
    assert record_update.to_json()["Condition"] == {
        "ForAllValues:StringEquals": {
            "dynamodb:LeadingKeys": [f"TENANT#{iam_policies.SESSION_TENANT}"]
        }
    }
    product = iam_policies.DELETE_MODELS.statement(SCOPE, Owner.PRODUCT).to_json()
    assert product["Condition"] == {"Null": {"aws:ResourceTag/maas:tenant": "false"}}
