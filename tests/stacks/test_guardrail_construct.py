"""The guardrail construct deploys the very policy document the local engine applies."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

cdk = pytest.importorskip("aws_cdk", reason="the stack tests need the cdk extra")
cfnlint_api = pytest.importorskip("cfnlint.api", reason="cfn-lint comes with the cdk extra")

from aws_cdk import aws_iam as iam  # noqa: E402
from aws_cdk import aws_kms as kms  # noqa: E402
from aws_cdk.assertions import Match, Template  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from schemas.guardrail import GuardrailPolicy  # noqa: E402
from stacks.constructs import Guardrail  # noqa: E402
from tests.unit.guardrails.support import policy_document, sample_policy  # noqa: E402

pytestmark = pytest.mark.stacks

REGION = "eu-west-1"


def pascal(value: Any) -> Any:
    """A document with CloudFormation's PascalCase keys, as AWS::Bedrock::Guardrail spells it."""
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [pascal(item) for item in value]
    return value


def stack_with(policy: GuardrailPolicy, **options: Any) -> tuple[cdk.App, cdk.Stack, Guardrail]:
    app = cdk.App()
    stack = cdk.Stack(app, "Guarded", env=cdk.Environment(account="111111111111", region=REGION))
    return app, stack, Guardrail(stack, "Guardrail", policy=policy, **options)


def guardrail_properties(stack: cdk.Stack) -> dict[str, Any]:
    guardrails = Template.from_stack(stack).find_resources("AWS::Bedrock::Guardrail")
    assert len(guardrails) == 1
    properties: dict[str, Any] = next(iter(guardrails.values()))["Properties"]
    return properties


def test_the_guardrail_is_the_policy_document_in_cloudformations_spelling() -> None:
    policy = sample_policy()
    _, stack, _ = stack_with(policy)
    assert guardrail_properties(stack) == pascal(policy.document())


def test_tags_and_safeguard_tiers_are_rendered() -> None:
    policy = GuardrailPolicy.model_validate(
        policy_document(
            topicPolicyConfig={
                "topicsConfig": [{"name": "Legal advice", "definition": "Advice on the law."}],
                "tierConfig": {"tierName": "STANDARD"},
            },
            tags=[{"key": "maas:tenant", "value": "acme"}],
        )
    )
    _, stack, _ = stack_with(policy)
    properties = guardrail_properties(stack)
    assert properties["TopicPolicyConfig"]["TopicsTierConfig"] == {"TierName": "STANDARD"}
    assert properties["Tags"] == [{"Key": "maas:tenant", "Value": "acme"}]


def test_a_customer_managed_key_encrypts_the_guardrail() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Guarded")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    policy = sample_policy()
    Guardrail(stack, "Guardrail", policy=policy, kms_key=key)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Bedrock::Guardrail",
        {"KmsKeyArn": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]}},
    )


def test_a_grounding_tier_cloudformation_cannot_set_is_refused() -> None:
    policy = GuardrailPolicy.model_validate(
        policy_document(
            contextualGroundingPolicyConfig={
                "filtersConfig": [{"type": "GROUNDING", "threshold": 0.7}],
                "tierConfig": {"tierName": "STANDARD"},
            }
        )
    )
    with pytest.raises(ValueError, match=r"tierConfig cannot be set through CloudFormation"):
        stack_with(policy)


def test_apply_is_granted_on_this_guardrail_only() -> None:
    _, stack, guardrail = stack_with(sample_policy())
    role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    guardrail.grant_apply(role)
    template = Template.from_stack(stack)
    guardrail_id = stack.get_logical_id(guardrail.resource)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "bedrock:ApplyGuardrail",
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]},
                    }
                ]
            }
        },
    )


def test_the_guardrail_passes_cdk_nag_and_cfn_lint() -> None:
    app, stack, _ = stack_with(sample_policy())
    report = AwsSolutionsChecks(verbose=True).validate_scope(app)
    assert report.success, [violation.rule_name for violation in report.violations]
    template = json.dumps(Template.from_stack(stack).to_json())
    matches = cfnlint_api.lint(template, regions=[REGION])
    assert [re.sub(r"\s+", " ", str(match)) for match in matches] == []
