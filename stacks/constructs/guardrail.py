"""A Bedrock guardrail rendered from the same policy document the local engine reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import CfnTag
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms
    from pydantic import BaseModel

    from schemas.guardrail import GuardrailPolicy

Cfn = bedrock.CfnGuardrail


def _entry(model: BaseModel) -> dict[str, Any]:
    # A policy entry's snake_case fields are the CDK property's keyword arguments.
    return model.model_dump(exclude_none=True)


def _topic_policy(policy: GuardrailPolicy) -> Cfn.TopicPolicyConfigProperty | None:
    config = policy.topic_policy_config
    if config is None:
        return None
    tier = config.tier_config
    return Cfn.TopicPolicyConfigProperty(
        topics_config=[Cfn.TopicConfigProperty(**_entry(topic)) for topic in config.topics_config],
        topics_tier_config=Cfn.TopicsTierConfigProperty(tier_name=tier.tier_name) if tier else None,
    )


def _content_policy(policy: GuardrailPolicy) -> Cfn.ContentPolicyConfigProperty | None:
    config = policy.content_policy_config
    if config is None:
        return None
    tier = config.tier_config
    return Cfn.ContentPolicyConfigProperty(
        filters_config=[
            Cfn.ContentFilterConfigProperty(**_entry(entry)) for entry in config.filters_config
        ],
        content_filters_tier_config=(
            Cfn.ContentFiltersTierConfigProperty(tier_name=tier.tier_name) if tier else None
        ),
    )


def _word_policy(policy: GuardrailPolicy) -> Cfn.WordPolicyConfigProperty | None:
    config = policy.word_policy_config
    if config is None:
        return None
    words = config.words_config
    managed = config.managed_word_lists_config
    return Cfn.WordPolicyConfigProperty(
        words_config=[Cfn.WordConfigProperty(**_entry(word)) for word in words] if words else None,
        managed_word_lists_config=(
            [Cfn.ManagedWordsConfigProperty(**_entry(entry)) for entry in managed]
            if managed
            else None
        ),
    )


def _sensitive_policy(
    policy: GuardrailPolicy,
) -> Cfn.SensitiveInformationPolicyConfigProperty | None:
    config = policy.sensitive_information_policy_config
    if config is None:
        return None
    entities = config.pii_entities_config
    regexes = config.regexes_config
    return Cfn.SensitiveInformationPolicyConfigProperty(
        pii_entities_config=(
            [Cfn.PiiEntityConfigProperty(**_entry(entry)) for entry in entities]
            if entities
            else None
        ),
        regexes_config=(
            [Cfn.RegexConfigProperty(**_entry(entry)) for entry in regexes] if regexes else None
        ),
    )


def _grounding_policy(
    policy: GuardrailPolicy,
) -> Cfn.ContextualGroundingPolicyConfigProperty | None:
    config = policy.contextual_grounding_policy_config
    if config is None:
        return None
    if config.tier_config is not None:
        # CloudFormation has no tier for grounding; dropping it would deploy another policy.
        raise ValueError(
            f"guardrail {policy.name}: contextualGroundingPolicyConfig.tierConfig "
            "cannot be set through CloudFormation"
        )
    return Cfn.ContextualGroundingPolicyConfigProperty(
        filters_config=[
            Cfn.ContextualGroundingFilterConfigProperty(**_entry(entry))
            for entry in config.filters_config
        ]
    )


class Guardrail(Construct):
    """An ``AWS::Bedrock::Guardrail`` made from a policy document.

    The document is the one ``maas.local.guardrails.LocalGuardrail`` applies locally, so the
    guardrail a self-hosted endpoint gets on AWS (through ``ApplyGuardrail``) is the one its
    tests ran against.

    Parameters
    ----------
    scope, id
        Where the construct lives.
    policy
        The validated policy document.
    kms_key
        The key that encrypts the guardrail; without it, the document's ``kmsKeyId`` (or an
        AWS owned key when the document has none).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        policy: GuardrailPolicy,
        kms_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.policy = policy
        self.resource = Cfn(
            self,
            "Resource",
            name=policy.name,
            description=policy.description,
            blocked_input_messaging=policy.blocked_input_messaging,
            blocked_outputs_messaging=policy.blocked_outputs_messaging,
            topic_policy_config=_topic_policy(policy),
            content_policy_config=_content_policy(policy),
            word_policy_config=_word_policy(policy),
            sensitive_information_policy_config=_sensitive_policy(policy),
            contextual_grounding_policy_config=_grounding_policy(policy),
            kms_key_arn=kms_key.key_arn if kms_key else policy.kms_key_id,
            tags=[CfnTag(key=tag.key, value=tag.value) for tag in policy.tags or []] or None,
        )
        self.guardrail_id = self.resource.attr_guardrail_id
        self.guardrail_arn = self.resource.attr_guardrail_arn

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call ``ApplyGuardrail`` with this guardrail, and no other."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["bedrock:ApplyGuardrail"],
            resource_arns=[self.guardrail_arn],
        )


__all__ = ["Guardrail"]
