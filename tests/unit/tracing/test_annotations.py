"""X-Ray's annotation rules, and the compact shapes of documents and prompts."""

from __future__ import annotations

import math

import pytest

from maas.tracing import check_key, compact_documents, truncate_prompt
from maas.tracing.annotations import ANNOTATION_VALUE_LIMIT, annotation_value


@pytest.mark.parametrize("key", ["model", "tokens_out", "K9", "x" * 500])
def test_keys_of_letters_digits_and_underscores_are_accepted(key: str) -> None:
    assert check_key(key) == key


def test_string_values_are_cut_to_x_ray_s_limit() -> None:
    assert annotation_value("v" * 1500) == "v" * ANNOTATION_VALUE_LIMIT


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        annotation_value(value)


def test_long_document_lists_are_cut_at_a_comma() -> None:
    documents = [(f"document-{index:04d}", 0.5) for index in range(200)]
    ids, scores = compact_documents(documents)
    assert len(ids) <= ANNOTATION_VALUE_LIMIT
    assert all(part.startswith("document-") and len(part) == 13 for part in ids.split(","))
    assert len(scores) <= ANNOTATION_VALUE_LIMIT
    assert set(scores.split(",")) == {"0.500"}


def test_a_short_prompt_is_kept_whole() -> None:
    assert truncate_prompt("Answer briefly.") == "Answer briefly."
