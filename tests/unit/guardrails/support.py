"""The labelled set and its policy, and how a response is scored against a label.

Only the contract (``schemas.guardrail``) is imported here, so that the stack tests can read
the sample policy without the engine's dependencies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas.guardrail import GuardrailPolicy

if TYPE_CHECKING:
    from maas.local.guardrails import GuardrailResponse, Source

DATA = Path(__file__).parents[2] / "data" / "guardrails"

#: The policies the labelled set scores, by their name in an ``ApplyGuardrail`` assessment.
POLICIES = ("topicPolicy", "contentPolicy", "wordPolicy", "sensitiveInformationPolicy")


def sample_policy() -> GuardrailPolicy:
    """The labelled set's policy: a support assistant that must not give investment advice."""
    return GuardrailPolicy.model_validate(json.loads((DATA / "policy.json").read_text()))


def policy_document(**changes: Any) -> dict[str, Any]:
    """A minimal valid document (no policy yet) with ``changes`` applied."""
    return {
        "name": "test-guardrail",
        "blockedInputMessaging": "Blocked input.",
        "blockedOutputsMessaging": "Blocked output.",
        **changes,
    }


@dataclass(frozen=True)
class Example:
    """One labelled text: what the guardrail should do, and which policies should find what."""

    category: str
    text: str
    source: Source
    expected_action: str
    expected: dict[str, set[str]]


def labelled_set() -> list[Example]:
    lines = (DATA / "labelled.jsonl").read_text().splitlines()
    examples = []
    for line in lines:
        row = json.loads(line)
        examples.append(
            Example(
                category=row["category"],
                text=row["text"],
                source=row["source"],
                expected_action=row["expected_action"],
                expected={
                    policy: {label.lower() for label in labels}
                    for policy, labels in row["expected"].items()
                },
            )
        )
    return examples


def found(response: GuardrailResponse) -> dict[str, set[str]]:
    """What each policy detected, as labels: topic names, filter types, words, entity types.

    Custom words are labelled by their (lower-cased) text, the managed list as PROFANITY,
    regexes by their name.
    """
    labels: dict[str, set[str]] = {policy: set() for policy in POLICIES}
    for assessment in response.assessments:
        if assessment.topic_policy:
            labels["topicPolicy"] |= {t.name for t in assessment.topic_policy.topics if t.detected}
        if assessment.content_policy:
            labels["contentPolicy"] |= {
                f.type for f in assessment.content_policy.filters if f.detected
            }
        if assessment.word_policy:
            labels["wordPolicy"] |= {w.match for w in assessment.word_policy.custom_words}
            if assessment.word_policy.managed_word_lists:
                labels["wordPolicy"].add("PROFANITY")
        sensitive = assessment.sensitive_information_policy
        if sensitive:
            labels["sensitiveInformationPolicy"] |= {e.type for e in sensitive.pii_entities}
            labels["sensitiveInformationPolicy"] |= {r.name for r in sensitive.regexes}
    return {policy: {label.lower() for label in found} for policy, found in labels.items()}
