"""The statements the local runtime enforces are the ones the stacks synthesize."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from maas.manifest import MANIFEST
from stacks.policy_export import EXPORT_PATH, export

if TYPE_CHECKING:
    from tests.stacks.synthesis import Synthesized


def test_the_committed_export_is_what_the_templates_hold(synthesized: Synthesized) -> None:
    """Fails when a statement changed in stacks/ but maas/data/role_policies.json did not:
    run ``make schemas`` (``python -m stacks.policy_export``) and commit the file."""
    exported = export(synthesized.plane, synthesized.template_dict)

    assert json.loads(EXPORT_PATH.read_text()) == exported


def test_the_tenant_access_role_is_exported_with_its_conditions(
    synthesized: Synthesized,
) -> None:
    documents = export(synthesized.plane, synthesized.template_dict)["Roles"]["TenantAccessRole"]
    conditions = json.dumps(documents["PolicyDocuments"])

    assert "dynamodb:LeadingKeys" in conditions
    assert "aws:ResourceTag/maas:tenant" in conditions


def test_every_functions_execution_role_is_exported(synthesized: Synthesized) -> None:
    """The local runtime gives each function its role's session and enforces these."""
    roles = export(synthesized.plane, synthesized.template_dict)["Roles"]

    assert {spec.role_id for spec in MANIFEST.functions} <= set(roles)
    # PlanTeardown only assumes its tenant role, which holds the ownership check and
    # nothing that deletes.
    plan_teardown = json.dumps(roles["PlanTeardownFunctionRole"]["PolicyDocuments"])
    assert "sts:AssumeRole" in plan_teardown
    assert "sagemaker:" not in plan_teardown
    for_tenant = json.dumps(roles["PlanTeardownTenantRole"]["PolicyDocuments"])
    assert "sagemaker:ListTags" in for_tenant
    assert "sagemaker:DeleteEndpoint" not in for_tenant


def test_every_state_machines_execution_role_is_exported(synthesized: Synthesized) -> None:
    """The local runtime signs each state machine's service calls with its role's session."""
    exported = export(synthesized.plane, synthesized.template_dict)

    assert {spec.role_id for spec in MANIFEST.state_machines} <= set(exported["Roles"])
    # Teardown invokes its functions (resolved locally by manifest id) and assumes the
    # tenants' workflow roles, whose one policy (exported on its own) deletes endpoints.
    teardown = json.dumps(exported["Roles"]["TeardownStateMachineRole"]["PolicyDocuments"])
    assert "lambda:InvokeFunction" in teardown
    assert "sts:AssumeRole" in teardown
    assert "sagemaker:DeleteEndpoint" not in teardown
    tenant = json.dumps(exported["ManagedPolicies"]["TenantWorkflowPolicy"]["PolicyDocuments"])
    assert "sagemaker:DeleteEndpoint" in tenant
    assert "${aws:PrincipalTag/maas:tenant}" in tenant
    assert exported["NamePrefixes"] == {"TenantWorkflows": "maas-dev-tenant-workflows"}
    functions = exported["Resources"][synthesized.plane.lifecycle.stack_name].values()
    assert {"Type": "AWS::Lambda::Function", "Id": "PlanTeardown"} in list(functions)
    # The Batch names the state machines' statements build ARNs from, by manifest id.
    assert {job.id for job in MANIFEST.jobs} <= set(exported["JobNames"])
