"""A workflow's calls on endpoints are made as its tenant's own role, and IAM holds them to it.

The endpoint workflows start with ``ActForTenant``, which finds or creates the tenant's
workflow role (:mod:`maas.workflow_roles`); each SageMaker, Application Auto Scaling and
CloudWatch state then names that role in its ``Credentials`` ("Task state: Credentials",
https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html#task-state-fields). The
role's ``maas:tenant`` tag is its sessions' principal tag
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html), which the tenant
workflow policy compares with each resource's tag. So a step that was handed another
tenant's endpoint is refused by IAM, whatever the steps before it checked. Here the machines
run as the Teardown machine's role and the functions as their own roles, with the
synthesized statements (``enforce_workflow_iam``, ``enforce_function_iam``).
"""

from __future__ import annotations

import copy
import json
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from maas.local import iam_enforcement
from maas.local.iam_roles import read_export
from maas.manifest import MANIFEST, Ref, RefKind
from maas.workflow_roles import workflow_role_name
from tests.local.support import placeholder_endpoint_config, unique
from tests.local.test_local_stepfunctions import caught, machine

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime, LocalSettings
    from maas.manifest import Manifest

    RunExecution = Callable[..., ExecutionSnapshot]

POLICY = "TenantWorkflowPolicy"
SAGEMAKER = "arn:aws:states:::aws-sdk:sagemaker"


@pytest.fixture(scope="module")
def settings(settings: LocalSettings) -> LocalSettings:
    """Machines act as their roles, functions as theirs."""
    return settings.model_copy(update={"enforce_workflow_iam": True, "enforce_function_iam": True})


@pytest.fixture(scope="module")
def manifest(manifest: Manifest) -> Manifest:
    """The local tests' manifest with the Teardown machine's role and ``ActForTenant``."""
    teardown = MANIFEST.state_machine("Teardown")
    functions = tuple(spec for spec in MANIFEST.functions if spec.id == "ActForTenant")
    return manifest.model_copy(update={"functions": functions, "state_machines": (teardown,)})


@pytest.fixture
def acme_endpoint(runtime: LocalRuntime) -> str:
    """An endpoint of acme's, tagged as the deployment workflow tags it."""
    endpoint = unique("acme-chat")
    runtime.client("sagemaker").create_endpoint(
        EndpointName=endpoint,
        EndpointConfigName=placeholder_endpoint_config(runtime),
        Tags=[{"Key": "maas:tenant", "Value": "acme"}],
    )
    return str(endpoint)


def _act_then_delete(runtime: LocalRuntime, tenant: str, endpoint: str) -> str:
    """A machine, as the Teardown machine's role: act for ``tenant``, then delete
    ``endpoint`` as that tenant's workflow role, reporting a refusal instead of failing."""
    definition = machine(
        "Act for the tenant",
        **{
            "Act for the tenant": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": runtime.resources.resolve(
                        Ref(kind=RefKind.FUNCTION_ARN, target="ActForTenant")
                    ),
                    "Payload": {"request": {"tenant_id": tenant, "endpoint_name": "chat"}},
                },
                "ResultPath": None,
                "Assign": {"tenantRole.$": "$.Payload.role_arn"},
                "Next": "Delete endpoint",
            },
            "Delete endpoint": {
                "Type": "Task",
                "Resource": f"{SAGEMAKER}:deleteEndpoint",
                "Credentials": {"RoleArn.$": "$tenantRole"},
                "Parameters": {"EndpointName": endpoint},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refused"}],
                "End": True,
            },
            "Refused": caught("States.ALL"),
        },
    )
    created = runtime.client("stepfunctions").create_state_machine(
        name=unique("act"),
        definition=json.dumps(definition),
        roleArn=runtime.resources.roles["TeardownStateMachineRole"],
    )
    return str(created["stateMachineArn"])


def _exists(runtime: LocalRuntime, endpoint: str) -> bool:
    """Whether the endpoint is there and not being deleted (the emulation takes a moment)."""
    statuses: dict[str, str] = {
        item["EndpointName"]: item["EndpointStatus"]
        for item in runtime.client("sagemaker").list_endpoints(MaxResults=100)["Endpoints"]
    }
    return statuses.get(endpoint, "Deleting") != "Deleting"


def test_the_first_workflow_of_a_tenant_makes_its_role_tagged_and_holding_the_one_policy(
    runtime: LocalRuntime,
) -> None:
    tenant = unique("initech")
    function = runtime.resources.resolve(Ref(kind=RefKind.FUNCTION_ARN, target="ActForTenant"))
    event = {"request": {"tenant_id": tenant}}

    first = runtime.lambda_.invoke(function.rsplit(":", 1)[1], event).json()
    again = runtime.lambda_.invoke(function.rsplit(":", 1)[1], event).json()

    name = workflow_role_name(runtime.resources.name("TenantWorkflows"), tenant)
    assert first == again == {"role_arn": runtime.resources.arn("iam", f"role/{name}")}
    iam = runtime.client("iam")
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "maas:tenant", "Value": tenant}]
    [attached] = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert attached["PolicyArn"] == runtime.resources.resolve(
        Ref(kind=RefKind.POLICY_ARN, target=POLICY)
    )


def test_a_role_of_the_tenants_name_that_is_not_the_tenants_is_refused(
    runtime: LocalRuntime,
) -> None:
    tenant = unique("hooli")
    name = workflow_role_name(runtime.resources.name("TenantWorkflows"), tenant)
    runtime.client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Tags=[{"Key": "maas:tenant", "Value": "someone-else"}],
    )
    function = runtime.resources.name("ActForTenant")

    answer = runtime.lambda_.invoke(function, {"request": {"tenant_id": tenant}}).json()

    assert answer["errorType"] == "Maas.ValidationError"
    assert f"the workflow role {name} exists and is not tenant {tenant}'s" in answer["errorMessage"]
    # Nothing was attached to a role that is not the tenant's.
    assert not runtime.client("iam").list_attached_role_policies(RoleName=name)["AttachedPolicies"]


def test_a_workflow_acting_for_another_tenant_cannot_delete_the_endpoint(
    runtime: LocalRuntime, run_execution: RunExecution, acme_endpoint: str
) -> None:
    execution = run_execution(_act_then_delete(runtime, "globex", acme_endpoint))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["caught_by"] == "States.ALL"
    globex_role = workflow_role_name(runtime.resources.name("TenantWorkflows"), "globex")
    assert (
        f"assumed-role/{globex_role}/" in execution.output["cause"]
        and "is not authorized to perform: sagemaker:DeleteEndpoint" in execution.output["cause"]
    )
    assert _exists(runtime, acme_endpoint)


def test_a_workflow_acting_for_the_endpoints_tenant_deletes_it(
    runtime: LocalRuntime, run_execution: RunExecution, acme_endpoint: str
) -> None:
    execution = run_execution(_act_then_delete(runtime, "acme", acme_endpoint))

    assert execution.status == "SUCCEEDED", execution.cause
    assert "caught_by" not in (execution.output or {})
    assert not _exists(runtime, acme_endpoint)


def test_removing_the_tenant_condition_lets_the_other_tenants_delete_through(
    runtime: LocalRuntime, run_execution: RunExecution, acme_endpoint: str
) -> None:
    """The proof that the policy's tenant condition, not something else, refused it."""
    loosened = _without_tenant_conditions(read_export(), "sagemaker:DeleteEndpoint")

    with ExitStack() as stack:
        iam_enforcement.install(
            stack, iam_enforcement.enforce_roles(runtime.resources, lambda _: None, loosened)
        )
        execution = run_execution(_act_then_delete(runtime, "globex", acme_endpoint))

    assert execution.status == "SUCCEEDED", execution.cause
    assert "caught_by" not in (execution.output or {})
    assert not _exists(runtime, acme_endpoint)


def _without_tenant_conditions(exported: dict[str, Any], action: str) -> dict[str, Any]:
    """A copy of the export whose tenant workflow policy grants ``action`` unconditioned."""
    loosened = copy.deepcopy(exported)
    removed = 0
    for document in loosened["ManagedPolicies"][POLICY]["PolicyDocuments"]:
        for statement in document["Statement"]:
            actions = statement["Action"]
            if action in ([actions] if isinstance(actions, str) else actions):
                removed += statement.pop("Condition", None) is not None
    assert removed, f"no statement granting {action} has a condition"
    return loosened
