"""Reading synthesized CloudFormation templates: resources by type, policies by role."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import CfnElement, Stack

if TYPE_CHECKING:
    from constructs import IConstruct


def logical_id_of(construct: IConstruct) -> str:
    """The logical id of an L2 construct's CloudFormation resource in its stack."""
    element = construct.node.default_child
    assert isinstance(element, CfnElement), construct.node.path
    return Stack.of(construct).get_logical_id(element)


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """The properties of every resource of ``resource_type``, by logical id."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def function_by_handler(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    """The one Lambda function whose handler is ``handler``: logical id and properties.

    A container-image function names its handler as its image's command.
    """
    matches = [
        (logical_id, properties)
        for logical_id, properties in resources(template, "AWS::Lambda::Function").items()
        if handler
        in (properties.get("Handler"), *properties.get("ImageConfig", {}).get("Command", ()))
    ]
    assert len(matches) == 1, f"{len(matches)} functions with handler {handler}"
    return matches[0]


def policy_statements(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the identity policies attached to one role."""
    statements: list[dict[str, Any]] = []
    for properties in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in properties["Roles"]:
            statements.extend(properties["PolicyDocument"]["Statement"])
    return statements


def identity_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every identity statement of a template: policies, roles' inline policies and managed
    policies (the tenants' workflow roles hold one, made at run time)."""
    statements: list[dict[str, Any]] = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for properties in resources(template, kind).values():
            statements.extend(properties["PolicyDocument"]["Statement"])
    for properties in resources(template, "AWS::IAM::Role").values():
        for policy in properties.get("Policies", []):
            statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def managed_policy_statements(template: dict[str, Any], construct: IConstruct) -> list[Any]:
    """The statements of one managed policy."""
    properties = template["Resources"][logical_id_of(construct)]["Properties"]
    statements: list[Any] = properties["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def arn_text(value: Any) -> str:
    """A resource ARN as text: pseudo-parameters and references in angle brackets."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(arn_text(part) for part in value["Fn::Join"][1])
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return json.dumps(value)
