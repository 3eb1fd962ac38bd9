"""The answer to a guardrail check, in the shape of Bedrock's ``ApplyGuardrail`` response.

Field names and enums are ``bedrock-runtime``'s (``ApplyGuardrailResponse``), so a caller
reads the local engine's answer and Bedrock's with the same code: ``action`` says whether
the guardrail intervened, ``outputs`` carry the blocked message or the masked text, and
``assessments`` say, per policy, what was found and what was done about it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from schemas.guardrail import (
    ContentFilterType,
    FilterStrength,
    GroundingFilterType,
    PiiEntityType,
)

GuardrailAction = Literal["NONE", "GUARDRAIL_INTERVENED"]
PolicyAction = Literal["BLOCKED", "NONE"]
SensitivePolicyAction = Literal["ANONYMIZED", "BLOCKED", "NONE"]
OutputScope = Literal["INTERVENTIONS", "FULL"]
ContentQualifier = Literal["grounding_source", "query", "guard_content"]


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class TopicFinding(_Wire):
    """A denied topic the text was (or, with the FULL scope, was not) found to be about."""

    name: str
    type: Literal["DENY"] = "DENY"
    action: PolicyAction
    detected: bool


class TopicPolicyAssessment(_Wire):
    topics: list[TopicFinding]


class ContentFilterFinding(_Wire):
    """How confident the engine is that the text falls in a harmful category."""

    type: ContentFilterType
    confidence: FilterStrength
    filter_strength: FilterStrength
    action: PolicyAction
    detected: bool


class ContentPolicyAssessment(_Wire):
    filters: list[ContentFilterFinding]


class CustomWordFinding(_Wire):
    match: str
    action: PolicyAction
    detected: bool


class ManagedWordFinding(_Wire):
    match: str
    type: Literal["PROFANITY"] = "PROFANITY"
    action: PolicyAction
    detected: bool


class WordPolicyAssessment(_Wire):
    custom_words: list[CustomWordFinding]
    managed_word_lists: list[ManagedWordFinding]


class PiiEntityFinding(_Wire):
    """One piece of personal information: its type, the text that matched, what was done."""

    match: str
    type: PiiEntityType
    action: SensitivePolicyAction
    detected: bool


class RegexFinding(_Wire):
    name: str
    match: str
    regex: str
    action: SensitivePolicyAction
    detected: bool


class SensitiveInformationPolicyAssessment(_Wire):
    pii_entities: list[PiiEntityFinding]
    regexes: list[RegexFinding]


class GroundingFinding(_Wire):
    """A grounding or relevance score against its threshold."""

    type: GroundingFilterType
    threshold: float
    score: float
    action: PolicyAction
    detected: bool


class ContextualGroundingPolicyAssessment(_Wire):
    filters: list[GroundingFinding]


class Assessment(_Wire):
    """What each policy found; a policy that found nothing is left out (INTERVENTIONS scope)."""

    topic_policy: TopicPolicyAssessment | None = None
    content_policy: ContentPolicyAssessment | None = None
    word_policy: WordPolicyAssessment | None = None
    sensitive_information_policy: SensitiveInformationPolicyAssessment | None = None
    contextual_grounding_policy: ContextualGroundingPolicyAssessment | None = None


class Usage(_Wire):
    """Text units processed per policy (a unit is up to 1,000 characters), as Bedrock bills."""

    topic_policy_units: int = 0
    content_policy_units: int = 0
    word_policy_units: int = 0
    sensitive_information_policy_units: int = 0
    sensitive_information_policy_free_units: int = 0
    contextual_grounding_policy_units: int = 0


class OutputText(_Wire):
    text: str


class GuardrailResponse(_Wire):
    """The whole answer: intervened or not, what the caller gets instead, and why."""

    usage: Usage
    action: GuardrailAction
    action_reason: str
    outputs: list[OutputText] = Field(
        description="The blocked message, or the guarded texts with their matches masked; "
        "empty when the guardrail did not intervene."
    )
    assessments: list[Assessment]

    def to_bedrock(self) -> dict[str, Any]:
        """The response as ``bedrock-runtime`` spells it (camelCase, unset fields left out)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class TextBlock(_Wire):
    """A text to check; qualifiers mark the grounding source and the query for grounding."""

    text: str
    qualifiers: list[ContentQualifier] = Field(default_factory=list)


class ContentBlock(_Wire):
    text: TextBlock


class GuardrailRequest(_Wire):
    """``ApplyGuardrail``'s request, less the guardrail's identifier and version."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    source: Literal["INPUT", "OUTPUT"]
    content: list[ContentBlock] = Field(min_length=1)
    output_scope: OutputScope = "INTERVENTIONS"


__all__ = [
    "Assessment",
    "ContentBlock",
    "ContentFilterFinding",
    "ContentPolicyAssessment",
    "ContentQualifier",
    "ContextualGroundingPolicyAssessment",
    "CustomWordFinding",
    "GroundingFinding",
    "GuardrailAction",
    "GuardrailRequest",
    "GuardrailResponse",
    "ManagedWordFinding",
    "OutputScope",
    "OutputText",
    "PiiEntityFinding",
    "RegexFinding",
    "SensitiveInformationPolicyAssessment",
    "TextBlock",
    "TopicFinding",
    "TopicPolicyAssessment",
    "Usage",
    "WordPolicyAssessment",
]
