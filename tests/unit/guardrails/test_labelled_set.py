"""The local engine on a labelled set: precision and recall per policy, and no clean text blocked.

The set (``tests/data/guardrails/labelled.jsonl``) has PII of several kinds, questions on the
denied topic, profanity, prompt attacks, other harmful content, and clean texts, many of them
near misses ("kill a zombie process", "soup stock", "ignore the typo in my previous message").
Run with ``-s`` to see the table that ``docs/guardrails.md`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from maas.local.guardrails import GuardrailResponse, LocalGuardrail
from tests.unit.guardrails.support import (
    POLICIES,
    Example,
    found,
    labelled_set,
    sample_policy,
)

#: What the engine measurably reaches on the set (the table in docs/guardrails.md), less a
#: margin; a change that falls below one of these has made the engine worse.
FLOORS = {
    "topicPolicy": (1.0, 0.75),
    "contentPolicy": (1.0, 0.95),
    "wordPolicy": (1.0, 0.8),
    "sensitiveInformationPolicy": (1.0, 0.95),
}


@dataclass
class Tally:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


@pytest.fixture(scope="module")
def scored() -> list[tuple[Example, GuardrailResponse]]:
    guardrail = LocalGuardrail(sample_policy())
    return [
        (example, guardrail.apply_text(example.text, example.source)) for example in labelled_set()
    ]


@pytest.fixture(scope="module")
def tallies(scored: list[tuple[Example, GuardrailResponse]]) -> dict[str, Tally]:
    tallies = {policy: Tally() for policy in POLICIES}
    for example, response in scored:
        detected = found(response)
        for policy in POLICIES:
            expected = example.expected.get(policy, set())
            tally = tallies[policy]
            tally.true_positives += len(detected[policy] & expected)
            tally.false_positives += len(detected[policy] - expected)
            tally.false_negatives += len(expected - detected[policy])
            tally.misses.extend(
                f"{'missed' if label in expected else 'wrongly found'} {label}: {example.text}"
                for label in detected[policy] ^ expected
            )
    print("\npolicy                      precision  recall  (tp/fp/fn)")
    for policy, tally in tallies.items():
        print(
            f"{policy:<28}{tally.precision:>9.2f}{tally.recall:>8.2f}  "
            f"({tally.true_positives}/{tally.false_positives}/{tally.false_negatives})"
        )
    for policy, tally in tallies.items():
        for miss in tally.misses:
            print(f"  {policy}: {miss}")
    return tallies


def test_the_set_has_at_least_100_texts_of_every_kind() -> None:
    examples = labelled_set()
    categories = {example.category for example in examples}
    assert len(examples) >= 100
    assert sum(example.category == "clean" for example in examples) >= 30
    assert {"pii", "topic", "profanity", "prompt_attack", "clean"} <= categories


def test_no_clean_text_is_blocked_or_masked(
    scored: list[tuple[Example, GuardrailResponse]],
) -> None:
    intervened = [
        (example.text, response.action_reason)
        for example, response in scored
        if example.category == "clean" and response.action != "NONE"
    ]
    assert intervened == []


def test_every_text_the_engine_flags_gets_the_expected_action(
    scored: list[tuple[Example, GuardrailResponse]],
) -> None:
    # A detection either blocks or masks the text; it never passes unremarked.
    for example, response in scored:
        if any(found(response).values()):
            assert response.action == "GUARDRAIL_INTERVENED", example.text


@pytest.mark.parametrize("policy", POLICIES)
def test_precision_and_recall_stay_above_their_floors(
    policy: str, tallies: dict[str, Tally]
) -> None:
    precision_floor, recall_floor = FLOORS[policy]
    tally = tallies[policy]
    assert tally.precision >= precision_floor, tally.misses
    assert tally.recall >= recall_floor, tally.misses
