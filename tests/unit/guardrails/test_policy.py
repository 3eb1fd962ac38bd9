"""A guardrail policy document: Bedrock's CreateGuardrail shape, and clear errors when wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from maas.exceptions import ValidationError
from maas.local.guardrails import parse_policy
from tests.unit.guardrails.support import DATA, policy_document


def rejection(document: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as raised:
        parse_policy(document)
    return raised.value.message


def test_a_document_reads_back_in_bedrocks_spelling_with_its_defaults() -> None:
    document = json.loads((DATA / "policy.json").read_text())
    assert parse_policy(document).document()["topicPolicyConfig"] == {
        "topicsConfig": [
            {
                **document["topicPolicyConfig"]["topicsConfig"][0],
                "inputAction": "BLOCK",
                "outputAction": "BLOCK",
                "inputEnabled": True,
                "outputEnabled": True,
            }
        ]
    }


def test_the_blocked_messages_are_required() -> None:
    document = policy_document()
    del document["blockedOutputsMessaging"]
    assert rejection(document) == "blockedOutputsMessaging: Field required"


def test_a_misspelt_policy_is_an_error_not_a_policy_that_guards_nothing() -> None:
    message = rejection(policy_document(topicPolicy={"topicsConfig": []}))
    assert message == "topicPolicy: Extra inputs are not permitted"


def test_a_topic_may_have_at_most_five_examples() -> None:
    topic = {"name": "Legal advice", "definition": "Advice on legal matters.", "type": "DENY"}
    document = policy_document(
        topicPolicyConfig={"topicsConfig": [{**topic, "examples": ["a question?"] * 6}]}
    )
    assert rejection(document).startswith(
        "topicPolicyConfig.topicsConfig.0.examples: List should have at most 5 items"
    )


def test_a_topic_name_is_limited_to_bedrock_characters() -> None:
    topic = {"name": "Legal/advice", "definition": "Advice on legal matters."}
    message = rejection(policy_document(topicPolicyConfig={"topicsConfig": [topic]}))
    assert message.startswith("topicPolicyConfig.topicsConfig.0.name: String should match")


def test_an_unknown_content_filter_type_names_the_allowed_ones() -> None:
    document = policy_document(
        contentPolicyConfig={
            "filtersConfig": [{"type": "SPAM", "inputStrength": "HIGH", "outputStrength": "HIGH"}]
        }
    )
    assert rejection(document) == (
        "contentPolicyConfig.filtersConfig.0.type: Input should be 'SEXUAL', 'VIOLENCE', "
        "'HATE', 'INSULTS', 'MISCONDUCT' or 'PROMPT_ATTACK'"
    )


def test_prompt_attacks_have_no_output_strength() -> None:
    document = policy_document(
        contentPolicyConfig={
            "filtersConfig": [
                {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "HIGH"}
            ]
        }
    )
    assert rejection(document) == (
        "contentPolicyConfig.filtersConfig.0: outputStrength of PROMPT_ATTACK must be NONE"
    )


def test_a_content_filter_type_appears_once() -> None:
    violence = {"type": "VIOLENCE", "inputStrength": "HIGH", "outputStrength": "HIGH"}
    document = policy_document(contentPolicyConfig={"filtersConfig": [violence, violence]})
    assert rejection(document) == (
        "contentPolicyConfig: content filter type 'VIOLENCE' appears more than once"
    )


def test_an_unknown_pii_entity_type_is_rejected() -> None:
    document = policy_document(
        sensitiveInformationPolicyConfig={
            "piiEntitiesConfig": [{"type": "SHOE_SIZE", "action": "BLOCK"}]
        }
    )
    assert rejection(document).startswith(
        "sensitiveInformationPolicyConfig.piiEntitiesConfig.0.type: Input should be 'ADDRESS'"
    )


def test_a_pii_action_is_block_anonymize_or_none() -> None:
    document = policy_document(
        sensitiveInformationPolicyConfig={
            "piiEntitiesConfig": [{"type": "EMAIL", "action": "MASK"}]
        }
    )
    assert rejection(document) == (
        "sensitiveInformationPolicyConfig.piiEntitiesConfig.0.action: "
        "Input should be 'BLOCK', 'ANONYMIZE' or 'NONE'"
    )


def test_a_regex_that_does_not_compile_says_why() -> None:
    document = policy_document(
        sensitiveInformationPolicyConfig={
            "regexesConfig": [{"name": "ticket", "pattern": "TCK-(\\d+", "action": "BLOCK"}]
        }
    )
    assert rejection(document).startswith(
        "sensitiveInformationPolicyConfig.regexesConfig.0.pattern: "
        "not a valid regular expression: missing )"
    )


def test_a_grounding_threshold_is_below_one() -> None:
    document = policy_document(
        contextualGroundingPolicyConfig={"filtersConfig": [{"type": "GROUNDING", "threshold": 1}]}
    )
    assert rejection(document) == (
        "contextualGroundingPolicyConfig.filtersConfig.0.threshold: "
        "Input should be less than or equal to 0.99"
    )


def test_every_bad_field_is_named_at_once() -> None:
    document = policy_document(
        name="has spaces",
        wordPolicyConfig={"managedWordListsConfig": [{"type": "SLANG"}]},
    )
    assert rejection(document) == (
        "name: String should match pattern '^[0-9a-zA-Z_-]+$'; "
        "wordPolicyConfig.managedWordListsConfig.0.type: Input should be 'PROFANITY'"
    )


def test_a_pii_entity_acts_on_each_side_unless_a_side_overrides_it() -> None:
    policy = parse_policy(
        policy_document(
            sensitiveInformationPolicyConfig={
                "piiEntitiesConfig": [
                    {"type": "EMAIL", "action": "ANONYMIZE", "inputAction": "NONE"}
                ]
            }
        )
    )
    config = policy.sensitive_information_policy_config
    assert config is not None
    assert config.pii_entities_config is not None
    entry = config.pii_entities_config[0]
    assert (entry.action_for("INPUT"), entry.action_for("OUTPUT")) == ("NONE", "ANONYMIZE")
