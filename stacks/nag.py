"""cdk-nag acknowledgments: every one names the exact finding and says why it is acceptable.

cdk-nag 3 reports through CDK's policy-validation framework, so an acknowledgment is a
``Validations.of(construct).acknowledge(...)`` on the construct (or an ancestor) of the
finding. Rules that report several findings per resource (``AwsSolutions-IAM5``) are
acknowledged one finding at a time; :func:`iam5_resource_finding` computes a finding's id
from the same token the policy uses, so the two cannot drift apart.

Examples
--------
>>> from aws_cdk import App, Aws, Stack
>>> stack = Stack(App(), "Example")
>>> iam5_resource_finding(stack, f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*")
'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:*]'
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import Acknowledgment, Stack, Validations

from stacks.iam_policies import ANY_RESOURCE, ANY_RESOURCE_REASONS, PATTERN_REASONS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from aws_cdk import aws_iam as iam
    from constructs import IConstruct

#: The finding id of a wildcard resource that is exactly ``*``.
IAM5_ANY_RESOURCE = "AwsSolutions-IAM5[Resource::*]"


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``construct`` and everything under it.

    Parameters
    ----------
    construct
        The resource, or a construct above it, that the finding is reported on.
    finding
        The rule id, with the finding in brackets for rules that report several.
    reason
        Why the finding does not apply here, or what compensates for it.
    """
    if not reason.strip():
        raise ValueError(f"{finding}: an acknowledgment needs a reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))


def acknowledge_wildcards(
    principal: IConstruct,
    statements: Sequence[iam.PolicyStatement],
    *,
    extra_reasons: Mapping[str, str] | None = None,
) -> None:
    """Acknowledge each wildcard resource of ``statements`` with its documented reason.

    Parameters
    ----------
    principal
        The role (or a construct above it) whose policy holds the statements.
    statements
        The statements granted to it.
    extra_reasons
        Reasons for wildcard resources that are not fixed patterns of
        :mod:`stacks.iam_policies` (for example the objects of a given bucket).

    Raises
    ------
    KeyError
        When a wildcard resource has no reason: write one before granting it.
    """
    reasons = {**PATTERN_REASONS, **(extra_reasons or {})}
    # One acknowledgment per finding, however many statements name the resource.
    findings: dict[str, str] = {}
    any_resource: list[str] = []
    for statement in statements:
        for resource in statement.resources:
            if resource == ANY_RESOURCE:
                for action in statement.actions:
                    if ANY_RESOURCE_REASONS[action] not in any_resource:
                        any_resource.append(ANY_RESOURCE_REASONS[action])
            elif "*" in resource:
                findings[iam5_resource_finding(principal, resource)] = reasons[resource]
    if any_resource:
        findings[IAM5_ANY_RESOURCE] = " ".join(any_resource)
    for finding, reason in findings.items():
        acknowledge(principal, finding, reason)


def iam5_resource_finding(scope: IConstruct, resource: str) -> str:
    """The ``AwsSolutions-IAM5`` finding id that ``resource`` (a string or token) produces."""
    return f"AwsSolutions-IAM5[Resource::{_flatten(Stack.of(scope).resolve(resource))}]"


def _flatten(node: Any) -> str:
    # The same flattening cdk-nag applies to a policy's resources before naming a finding
    # (cdk-nag/lib/utils/flatten-cfn-reference.js); anything else it writes as JSON.
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    flattened: str | None = None
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            flattened = str(delimiter).join(_flatten(item) for item in items)
        elif "Fn::Sub" in node:
            flattened = _flatten(node["Fn::Sub"])
        elif "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            flattened = f"<{_flatten(resource)}.{_flatten(attribute)}>"
        elif "Fn::ImportValue" in node:
            flattened = _flatten(node["Fn::ImportValue"])
        elif "Ref" in node:
            flattened = f"<{_flatten(node['Ref'])}>"
    return flattened if flattened is not None else json.dumps(node, separators=(",", ":"))


__all__ = ["IAM5_ANY_RESOURCE", "acknowledge", "acknowledge_wildcards", "iam5_resource_finding"]
