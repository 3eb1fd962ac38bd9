"""A guardrail policy document, in the shape of Bedrock's ``CreateGuardrail`` request.

The same document is rendered into ``AWS::Bedrock::Guardrail`` for the stacks and read by
the local engine, so field names, enums and limits are Bedrock's (botocore's ``bedrock``
service model, ``CreateGuardrailRequest``). Unknown fields are rejected, so a misspelt
policy is an error that names the field rather than a policy that silently guards nothing.

The local engine (``maas.local.guardrails``) reads it, and so does the CDK construct that renders
it (``stacks/constructs/guardrail.py``); it lives with the contracts so that synthesizing the
stacks needs none of the engine's dependencies.

Examples
--------
>>> from schemas.guardrail import GuardrailPolicy
>>> policy = GuardrailPolicy.model_validate({
...     "name": "support-bot",
...     "blockedInputMessaging": "Sorry, I cannot answer that.",
...     "blockedOutputsMessaging": "Sorry, I cannot share that.",
...     "sensitiveInformationPolicyConfig": {
...         "piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE"}],
...     },
... })
>>> policy.sensitive_information_policy_config.pii_entities_config[0].action_for("OUTPUT")
'ANONYMIZE'
>>> policy.document()["sensitiveInformationPolicyConfig"]["piiEntitiesConfig"][0]["type"]
'EMAIL'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: Which side of a model a text comes from: the prompt (INPUT) or the completion (OUTPUT).
Source = Literal["INPUT", "OUTPUT"]
FilterStrength = Literal["NONE", "LOW", "MEDIUM", "HIGH"]
ContentFilterType = Literal["SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT", "PROMPT_ATTACK"]
BlockOrNone = Literal["BLOCK", "NONE"]
SensitiveAction = Literal["BLOCK", "ANONYMIZE", "NONE"]
GroundingFilterType = Literal["GROUNDING", "RELEVANCE"]
TierName = Literal["CLASSIC", "STANDARD"]
PiiEntityType = Literal[
    "ADDRESS",
    "AGE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CA_HEALTH_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "DRIVER_ID",
    "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "IP_ADDRESS",
    "LICENSE_PLATE",
    "MAC_ADDRESS",
    "NAME",
    "PASSWORD",
    "PHONE",
    "PIN",
    "SWIFT_CODE",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
    "URL",
    "USERNAME",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
]

#: Bedrock's documented upper bound for a contextual grounding threshold.
MAX_GROUNDING_THRESHOLD = 0.99


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


def _unique(items: Sequence[Any], key: Callable[[Any], str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        value = key(item)
        if value in seen:
            raise ValueError(f"{what} {value!r} appears more than once")
        seen.add(value)


class _PolicyPart(BaseModel):
    """Bedrock's camelCase on the wire, snake_case in Python; errors name the wire field."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class _PerSourceAction(_PolicyPart):
    """An entry that can act differently, or not at all, on the prompt and on the completion."""

    input_action: BlockOrNone = "BLOCK"
    output_action: BlockOrNone = "BLOCK"
    input_enabled: bool = True
    output_enabled: bool = True

    def enabled_for(self, source: Source) -> bool:
        """Whether the entry is evaluated for a text from ``source`` at all."""
        return self.input_enabled if source == "INPUT" else self.output_enabled

    def blocks(self, source: Source) -> bool:
        """Whether a detection in a text from ``source`` blocks it (else it is only reported)."""
        return (self.input_action if source == "INPUT" else self.output_action) == "BLOCK"


class TopicConfig(_PerSourceAction):
    """A denied topic: what it is, and up to five prompts that belong to it."""

    name: Annotated[
        str, StringConstraints(min_length=1, max_length=100, pattern=r"^[0-9a-zA-Z_\- !?.]+$")
    ]
    definition: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    examples: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=5
    )
    type: Literal["DENY"] = "DENY"


class TierConfig(_PolicyPart):
    """Bedrock's safeguard tier; the local engine has one tier and ignores it."""

    tier_name: TierName


class TopicPolicyConfig(_PolicyPart):
    """Topics the guardrail denies."""

    topics_config: list[TopicConfig] = Field(min_length=1, max_length=30)
    tier_config: TierConfig | None = None

    @model_validator(mode="after")
    def _names_unique(self) -> Self:
        _unique(self.topics_config, lambda topic: topic.name, "topic")
        return self


class ContentFilterConfig(_PolicyPart):
    """One harmful-content category and how strongly to filter it on each side."""

    type: ContentFilterType
    input_strength: FilterStrength
    output_strength: FilterStrength
    input_modalities: list[Literal["TEXT", "IMAGE"]] | None = Field(
        default=None, min_length=1, max_length=2
    )
    output_modalities: list[Literal["TEXT", "IMAGE"]] | None = Field(
        default=None, min_length=1, max_length=2
    )
    input_action: BlockOrNone = "BLOCK"
    output_action: BlockOrNone = "BLOCK"
    input_enabled: bool = True
    output_enabled: bool = True

    @model_validator(mode="after")
    def _prompt_attacks_are_inputs(self) -> Self:
        # Bedrock rejects an output strength for prompt attacks: only prompts carry them.
        if self.type == "PROMPT_ATTACK" and self.output_strength != "NONE":
            raise ValueError("outputStrength of PROMPT_ATTACK must be NONE")
        return self

    def strength_for(self, source: Source) -> FilterStrength:
        """The filter strength that applies to a text from ``source`` (NONE when disabled)."""
        if source == "INPUT":
            return self.input_strength if self.input_enabled else "NONE"
        return self.output_strength if self.output_enabled else "NONE"

    def blocks(self, source: Source) -> bool:
        """Whether a detection blocks the text (else it is only reported)."""
        return (self.input_action if source == "INPUT" else self.output_action) == "BLOCK"


class ContentPolicyConfig(_PolicyPart):
    """Harmful-content filters, at most one per category."""

    filters_config: list[ContentFilterConfig] = Field(min_length=1, max_length=6)
    tier_config: TierConfig | None = None

    @model_validator(mode="after")
    def _types_unique(self) -> Self:
        _unique(self.filters_config, lambda item: item.type, "content filter type")
        return self


class WordConfig(_PerSourceAction):
    """A word or phrase to block, matched whole and case-insensitively."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ManagedWordsConfig(_PerSourceAction):
    """A managed word list; Bedrock offers one, PROFANITY."""

    type: Literal["PROFANITY"]


class WordPolicyConfig(_PolicyPart):
    """Custom words and managed word lists."""

    words_config: list[WordConfig] | None = Field(default=None, min_length=1, max_length=10000)
    managed_word_lists_config: list[ManagedWordsConfig] | None = None


class _SensitiveEntry(_PolicyPart):
    """A sensitive-information entry: ``action`` for both sides unless a side overrides it."""

    action: SensitiveAction
    input_action: SensitiveAction | None = None
    output_action: SensitiveAction | None = None
    input_enabled: bool = True
    output_enabled: bool = True

    def enabled_for(self, source: Source) -> bool:
        """Whether the entry is evaluated for a text from ``source`` at all."""
        return self.input_enabled if source == "INPUT" else self.output_enabled

    def action_for(self, source: Source) -> SensitiveAction:
        """What to do with a match in a text from ``source``."""
        override = self.input_action if source == "INPUT" else self.output_action
        return override or self.action


class PiiEntityConfig(_SensitiveEntry):
    """A kind of personal information to block or mask."""

    type: PiiEntityType


class RegexConfig(_SensitiveEntry):
    """A custom pattern to block or mask; masked matches become ``{name}``."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    pattern: Annotated[
        str, StringConstraints(min_length=1, max_length=500), AfterValidator(_compiles)
    ]


class SensitiveInformationPolicyConfig(_PolicyPart):
    """PII entities and custom regexes."""

    pii_entities_config: list[PiiEntityConfig] | None = Field(default=None, min_length=1)
    regexes_config: list[RegexConfig] | None = Field(default=None, min_length=1, max_length=30)

    @model_validator(mode="after")
    def _entries_unique(self) -> Self:
        _unique(self.pii_entities_config or [], lambda item: item.type, "PII entity type")
        _unique(self.regexes_config or [], lambda item: item.name, "regex name")
        return self


class GroundingFilterConfig(_PolicyPart):
    """A contextual grounding check: a completion scoring below ``threshold`` is blocked."""

    type: GroundingFilterType
    threshold: float = Field(ge=0, le=MAX_GROUNDING_THRESHOLD)
    action: BlockOrNone = "BLOCK"
    enabled: bool = True


class ContextualGroundingPolicyConfig(_PolicyPart):
    """Grounding (is the completion supported by the source?) and relevance checks."""

    filters_config: list[GroundingFilterConfig] = Field(min_length=1, max_length=2)
    tier_config: TierConfig | None = None

    @model_validator(mode="after")
    def _types_unique(self) -> Self:
        _unique(self.filters_config, lambda item: item.type, "grounding filter type")
        return self


class Tag(_PolicyPart):
    """A resource tag on the guardrail."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    value: Annotated[str, StringConstraints(max_length=256)]


class GuardrailPolicy(_PolicyPart):
    """A whole guardrail: its policies and what a blocked caller is told.

    Automated reasoning and cross-region profiles are not part of this project's documents;
    naming them is an error (they are unknown fields).
    """

    name: Annotated[
        str, StringConstraints(min_length=1, max_length=50, pattern=r"^[0-9a-zA-Z_-]+$")
    ]
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    topic_policy_config: TopicPolicyConfig | None = None
    content_policy_config: ContentPolicyConfig | None = None
    word_policy_config: WordPolicyConfig | None = None
    sensitive_information_policy_config: SensitiveInformationPolicyConfig | None = None
    contextual_grounding_policy_config: ContextualGroundingPolicyConfig | None = None
    blocked_input_messaging: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    blocked_outputs_messaging: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    kms_key_id: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    tags: list[Tag] | None = Field(default=None, max_length=200)

    def blocked_messaging(self, source: Source) -> str:
        """What the caller receives in place of a blocked text from ``source``."""
        return self.blocked_input_messaging if source == "INPUT" else self.blocked_outputs_messaging

    def document(self) -> dict[str, Any]:
        """The policy as Bedrock spells it (camelCase, unset fields left out)."""
        return self.model_dump(by_alias=True, exclude_none=True)


__all__ = [
    "ContentFilterConfig",
    "ContentFilterType",
    "ContentPolicyConfig",
    "ContextualGroundingPolicyConfig",
    "FilterStrength",
    "GroundingFilterConfig",
    "GuardrailPolicy",
    "ManagedWordsConfig",
    "PiiEntityConfig",
    "PiiEntityType",
    "RegexConfig",
    "SensitiveAction",
    "SensitiveInformationPolicyConfig",
    "Source",
    "TopicConfig",
    "TopicPolicyConfig",
    "WordConfig",
    "WordPolicyConfig",
]
