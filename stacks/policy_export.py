"""Export the policies of the roles the local runtime enforces, from the synthesized templates.

The local runtime evaluates the very statements the stacks synthesize (``maas.local.iam``),
but it runs where the CDK is not installed. So the statements travel as data: this module
synthesizes the default stage and writes the roles' policy documents (the tenant access
role's, every function's execution role's under ``FunctionSpec.role_id``, every state
machine's under ``StateMachineSpec.role_id``, every Batch job's role under
``JobSpec.role_id`` and the tenant roles the jobs assume), verbatim with
their CloudFormation intrinsics, to :data:`EXPORT_PATH`, with what the runtime needs to
resolve those intrinsics against its own resources (``maas.local.iam_roles``):

- ``Resources``: for every resource the documents reference (``Ref``, ``Fn::GetAtt``, or
  another stack's output), its type and its manifest id (a function's own log group: the
  function's id);
- ``StackOutputs``: the values of the outputs they read from another stack;
- ``BucketNames``: each manifest bucket's name in the stage (S3 ARNs are built from names);
- ``JobNames``: each job definition's and job queue's name in the stage, by manifest id (the
  state machines' ``batch:SubmitJob`` statements name them in ARNs built from names);
- ``ManagedPolicies``: the tenant workflow policy, which the tenants' workflow roles hold
  (``maas.workflow_roles``: those roles are made at run time, so it is exported alone);
- ``NamePrefixes``: the stage's names that run-time names extend (the workflow roles').

``make schemas`` runs it (``python -m stacks.policy_export``); a stack test fails when the
committed file and the synthesized templates part ways.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk

from maas.manifest import MANIFEST, PROJECT_ROOT
from stacks.config import read_cdk_json_context
from stacks.control_plane import build

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from aws_cdk import aws_iam as iam

    from stacks.control_plane import ControlPlane

#: Where the export lives: package data of ``maas``, which the local runtime reads.
EXPORT_PATH = PROJECT_ROOT / "maas" / "data" / "role_policies.json"
#: The manifest roles whose statements the local runtime enforces beside every function's
#: execution role (exported as ``FunctionSpec.role_id``) and every state machine's
#: (``StateMachineSpec.role_id``): the roles functions assume for one tenant (the lifecycle
#: stack's).
ENFORCED_ROLES = tuple(spec.id for spec in MANIFEST.roles if spec.assumed_by_function)

Template = dict[str, Any]


def export(plane: ControlPlane, template_of: Callable[[cdk.Stack], Template]) -> dict[str, Any]:
    """The export of ``plane``'s :data:`ENFORCED_ROLES`, from its synthesized templates."""
    stacks = [plane.foundation, plane.packaging, plane.lifecycle]
    templates = {stack.stack_name: template_of(stack) for stack in stacks}
    known = _manifest_resources(plane)
    enforced: dict[str, iam.IRole] = {
        **{role_id: plane.lifecycle.roles[role_id] for role_id in ENFORCED_ROLES},
        **{function.spec.role_id: function.role for function in plane.lifecycle.functions.values()},
        **{
            spec.role_id: plane.lifecycle.state_machines[spec.id].state_machine.role
            for spec in MANIFEST.state_machines
        },
        # Each job's own role, and the role it assumes for its tenant.
        **{spec.role_id: plane.packaging.jobs[spec.id].job_role for spec in MANIFEST.jobs},
        **{
            spec.id: plane.packaging.tenant_roles[spec.assumed_by_job]
            for spec in MANIFEST.roles
            if spec.assumed_by_job is not None
        },
    }
    roles: dict[str, dict[str, Any]] = {}
    for role_id, role in enforced.items():
        stack = cdk.Stack.of(role)
        roles[role_id] = {
            "Stack": stack.stack_name,
            "PolicyDocuments": _role_documents(
                templates[stack.stack_name], stack.get_logical_id(_default_child(role))
            ),
        }
    # The policy every tenant's workflow role holds; the roles are made at run time.
    policy = plane.lifecycle.tenant_workflow_policy
    policy_stack = cdk.Stack.of(policy).stack_name
    managed = {
        "TenantWorkflowPolicy": {
            "Stack": policy_stack,
            "PolicyDocuments": [
                templates[policy_stack]["Resources"][
                    cdk.Stack.of(policy).get_logical_id(_default_child(policy))
                ]["Properties"]["PolicyDocument"]
            ],
        }
    }
    referenced: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    pending = [
        (document["Stack"], document["PolicyDocuments"])
        for document in (*roles.values(), *managed.values())
    ]
    while pending:
        stack_name, node = pending.pop()
        for kind, value in _intrinsics(node):
            if kind == "Fn::GetStackOutput":
                output = templates[value["StackName"]]["Outputs"][value["OutputName"]]["Value"]
                outputs.setdefault(value["StackName"], {})[value["OutputName"]] = output
                pending.append((value["StackName"], output))
            elif not value.startswith("AWS::"):
                resource = templates[stack_name]["Resources"][value]
                referenced.setdefault(stack_name, {})[value] = {
                    "Type": resource["Type"],
                    "Id": known[stack_name][value],
                }
    return {
        "Source": "python -m stacks.policy_export (make schemas): do not edit",
        "Stage": plane.config.name,
        "Roles": roles,
        "ManagedPolicies": managed,
        "Resources": referenced,
        "StackOutputs": outputs,
        "BucketNames": {
            bucket_id: templates[plane.foundation.stack_name]["Resources"][
                plane.foundation.get_logical_id(_default_child(bucket))
            ]["Properties"]["BucketName"]
            for bucket_id, bucket in plane.foundation.buckets.items()
        },
        "JobNames": {
            name_id: plane.config.resource_name(name_id)
            for job in MANIFEST.jobs
            for name_id in (job.id, f"{job.id}Queue")
        },
        # Names that what is made at run time extends (the tenants' workflow roles).
        "NamePrefixes": {
            spec.id: plane.config.resource_name(spec.id) for spec in MANIFEST.name_prefixes
        },
    }


def _default_child(construct: Any) -> cdk.CfnElement:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement)
    return child


def _manifest_resources(plane: ControlPlane) -> dict[str, dict[str, str]]:
    """Stack name -> logical id -> manifest id, for the resources statements may name."""
    foundation = {
        **{table_id: table for table_id, table in plane.foundation.tables.items()},
        **{group_id: group for group_id, group in plane.foundation.log_groups.items()},
        **{bucket_id: bucket for bucket_id, bucket in plane.foundation.buckets.items()},
        "EncryptionKey": plane.foundation.key,
        "EventBus": plane.foundation.event_bus,
    }
    lifecycle = {
        **{
            machine_id: machine.state_machine
            for machine_id, machine in plane.lifecycle.state_machines.items()
        },
        **dict(plane.lifecycle.roles.items()),
        "TenantWorkflowPolicy": plane.lifecycle.tenant_workflow_policy,
        # A function's own log group is named by its function's id.
        **{
            function_id: function.log_group
            for function_id, function in plane.lifecycle.functions.items()
        },
    }
    packaging = {
        **{
            spec.id: plane.packaging.tenant_roles[spec.assumed_by_job]
            for spec in MANIFEST.roles
            if spec.assumed_by_job is not None
        },
    }
    # The functions a state machine invokes: their manifest ids name log groups too, so they
    # are a list of their own (a logical id is unique either way).
    functions = list(plane.lifecycle.functions.items())
    known: dict[str, dict[str, str]] = {}
    for stack, constructs in (
        (plane.foundation, list(foundation.items())),
        (plane.lifecycle, list(lifecycle.items())),
        (plane.packaging, list(packaging.items())),
        (plane.lifecycle, [(function_id, f.function) for function_id, f in functions]),
    ):
        known.setdefault(stack.stack_name, {}).update(
            {
                stack.get_logical_id(_default_child(construct)): manifest_id
                for manifest_id, construct in constructs
            }
        )
    return known


def _role_documents(template: Template, role_logical_id: str) -> list[Any]:
    """The policy documents attached to a role: inline on the role, then AWS::IAM::Policy."""
    role = template["Resources"][role_logical_id]["Properties"]
    if role.get("ManagedPolicyArns"):
        raise ValueError(f"{role_logical_id}: managed policies are not exported")
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    for logical_id in sorted(template["Resources"]):
        resource = template["Resources"][logical_id]
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in resource[
            "Properties"
        ].get("Roles", []):
            documents.append(resource["Properties"]["PolicyDocument"])
    return documents


def _intrinsics(node: Any) -> Iterator[tuple[str, Any]]:
    """(``Ref``, logical id), (``Fn::GetAtt``, logical id) and (``Fn::GetStackOutput``, its
    arguments) everywhere in ``node``."""
    if isinstance(node, list):
        for item in node:
            yield from _intrinsics(item)
    elif isinstance(node, dict):
        if set(node) == {"Ref"}:
            yield "Ref", node["Ref"]
        elif set(node) == {"Fn::GetAtt"}:
            yield "Fn::GetAtt", node["Fn::GetAtt"][0]
        elif set(node) == {"Fn::GetStackOutput"}:
            yield "Fn::GetStackOutput", node["Fn::GetStackOutput"]
            return
        for value in node.values():
            yield from _intrinsics(value)


def main() -> int:
    """Synthesize the default stage and write :data:`EXPORT_PATH`."""
    app = cdk.App(context=read_cdk_json_context(PROJECT_ROOT / "cdk.json"))
    plane = build(app)
    assembly = app.synth()
    exported = export(plane, lambda stack: assembly.get_stack_by_name(stack.stack_name).template)
    EXPORT_PATH.write_text(json.dumps(exported, indent=2, sort_keys=True) + "\n")
    print(f"wrote {EXPORT_PATH.relative_to(PROJECT_ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ENFORCED_ROLES", "EXPORT_PATH", "export", "main"]
