"""The vetted assertion library: kinds behave as named, proposals are validated before use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.evaluation.evalgen.assertions import validate_assertion
from maas.evaluation.evalgen.criteria import propose_code_assertions
from maas.evaluation.evalgen.exceptions import InvalidAssertion
from maas.evaluation.evalgen.records import Criterion, EvalOutput

if TYPE_CHECKING:
    from tests.unit.evalgen.conftest import ScriptedJudge

CONCISE = Criterion(name="concise", description="At most 60 words.", check="code")


def output(text: str, reference: str | None = None) -> EvalOutput:
    return EvalOutput(id="o", input="q", output=text, reference=reference)


@pytest.mark.parametrize(
    ("kind", "params", "text", "passed"),
    [
        ("max_words", {"limit": 3}, "one two three", True),
        ("max_words", {"limit": 3}, "one two three four", False),
        ("min_words", {"limit": 2}, "one", False),
        ("matches_regex", {"pattern": r"\$\d+"}, "It costs $5.", True),
        ("not_matches_regex", {"pattern": "always"}, "Shipping is ALWAYS free", False),
        ("no_refusal", {}, "I'm sorry, but I cannot help with that.", False),
        ("no_refusal", {}, "Returns are accepted within 30 days.", True),
        ("contains_any", {"terms": ["refund", "return"]}, "Refunds take 5 days", True),
        ("contains_none", {"terms": ["lol"]}, "lol just pick", False),
        ("valid_json", {"object_only": True}, '{"a": 1}', True),
        ("valid_json", {"object_only": True}, "[1]", False),
        ("max_sentences", {"limit": 1}, "One. Two.", False),
        ("latin_script", {}, "Привет мир", False),
    ],
)
def test_each_kind_checks_what_it_names(
    kind: str, params: dict[str, object], text: str, passed: bool
) -> None:
    assert validate_assertion(kind, params).check(output(text)) is passed


def test_mentions_reference_terms_compares_content_words_with_the_reference() -> None:
    spec = validate_assertion("mentions_reference_terms", {"min_share": 0.5})
    reference = "Gift cards never expire."  # key terms: gift, cards, never, expire
    assert spec.check(output("Your gift cards never lapse.", reference))  # 3 of 4
    assert not spec.check(output("They last one year.", reference))


def test_an_unknown_kind_is_refused_with_the_known_kinds() -> None:
    with pytest.raises(InvalidAssertion) as raised:
        validate_assertion("python_code", {"source": "import os"})
    assert raised.value.message.startswith(
        "assertion 'python_code': not a vetted kind; known kinds: max_words, "
    )


def test_bad_parameters_are_refused_naming_each() -> None:
    with pytest.raises(InvalidAssertion) as raised:
        validate_assertion("matches_regex", {"pattern": "(unclosed", "flags": "x"})
    assert raised.value.error_name == "Maas.InvalidAssertion"
    assert raised.value.message == (
        "assertion 'matches_regex': pattern: Value error, not a regular expression: missing ), "
        "unterminated subpattern at position 0 (got '(unclosed'); "
        "flags: Extra inputs are not permitted (got 'x')"
    )


def test_the_judges_invalid_proposals_are_rejected_and_valid_ones_kept(
    scripted: type[ScriptedJudge],
) -> None:
    judge = scripted(
        [
            (
                "Propose up to 3 checks",
                {
                    "assertions": [
                        {"kind": "max_words", "params": {"limit": 60}},
                        {"kind": "max_words", "params": {"limit": -5}},
                        {"kind": "exec", "params": {"code": "print(1)"}},
                        {"kind": "max_words", "params": {"limit": 60}},
                    ]
                },
            )
        ]
    )
    accepted, rejected = propose_code_assertions(judge, "answer briefly", CONCISE)
    assert [implementation.label for implementation in accepted] == ["code:max_words(limit=60)"]
    assert [(item.kind, item.reason) for item in rejected] == [
        ("max_words", "assertion 'max_words': limit: Input should be greater than 0 (got -5)"),
        ("exec", rejected[1].reason),
    ]
    assert rejected[1].reason.startswith("assertion 'exec': not a vetted kind")
    # The judge is shown the vetted kinds to choose from.
    assert "- mentions_reference_terms(min_share: float)" in judge.prompts[0]
