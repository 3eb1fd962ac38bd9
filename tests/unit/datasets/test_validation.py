"""Validation of a dataset version's rows: each kind's schema, every bad row by its number,
duplicates, sizes, and a canonical content whose sha256 is its address."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from maas.datasets import DatasetLimits, jsonl_rows, numbered_rows, validate_rows
from maas.exceptions import InvalidRows
from schemas.datasets import DatasetKind

GOOD: dict[DatasetKind, list[dict[str, Any]]] = {
    DatasetKind.QUESTION_SET: [
        {"id": "q1", "question": "2+2?", "reference": "4"},
        {"id": "q2", "question": "3+3?", "reference": "6", "reference_contexts": ["Sums."]},
    ],
    DatasetKind.CORPUS: [
        {"id": "d1", "text": "Two plus two is four."},
        {"id": "d2", "text": "Three plus three is six.", "title": "Sums"},
    ],
    DatasetKind.CHAT: [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "4"},
            ]
        },
        {
            "messages": [
                {"role": "user", "content": "3+3?"},
                {"role": "assistant", "content": "6"},
                {"role": "user", "content": "And 4+4?"},
                {"role": "assistant", "content": "8"},
            ]
        },
    ],
    DatasetKind.PREFERENCE: [
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
        {"prompt": "3+3?", "chosen": "6", "rejected": "It is 7."},
    ],
}


def _problems(kind: DatasetKind, rows: list[Any], **limits: int) -> list[str]:
    with pytest.raises(InvalidRows) as raised:
        validate_rows(kind, numbered_rows(rows), DatasetLimits(**limits))
    return [str(problem) for problem in raised.value.problems]


@pytest.mark.parametrize("kind", list(DatasetKind))
def test_every_kind_takes_its_rows(kind: DatasetKind) -> None:
    content = validate_rows(kind, numbered_rows(GOOD[kind]))

    assert content.rows == 2
    assert content.sha256 == hashlib.sha256(content.body).hexdigest()
    assert len(content.body.splitlines()) == 2


@pytest.mark.parametrize("kind", list(DatasetKind))
def test_the_address_is_the_same_for_the_same_rows_however_they_are_spelled(
    kind: DatasetKind,
) -> None:
    sent = validate_rows(kind, numbered_rows(GOOD[kind]))
    # The same rows as a JSONL file, keys reversed and spaced otherwise, with a blank line.
    lines = [json.dumps(dict(reversed(row.items())), indent=None) for row in GOOD[kind]]
    read = validate_rows(kind, jsonl_rows("\n\n".join(lines), "s3://b/k"))

    assert read.sha256 == sent.sha256
    assert read.body == sent.body


def test_other_rows_make_another_address() -> None:
    first = validate_rows(DatasetKind.CORPUS, numbered_rows(GOOD[DatasetKind.CORPUS]))
    second = validate_rows(DatasetKind.CORPUS, numbered_rows(GOOD[DatasetKind.CORPUS][:1]))

    assert first.sha256 != second.sha256


@pytest.mark.parametrize(
    ("kind", "row", "problem"),
    [
        (DatasetKind.QUESTION_SET, {"id": "q", "question": "?"}, "reference: Field required"),
        (DatasetKind.QUESTION_SET, {"id": "", "question": "?", "reference": "!"}, "id: String"),
        (DatasetKind.CORPUS, {"id": "d", "text": "t", "body": "x"}, "body: Extra inputs"),
        (
            DatasetKind.CHAT,
            {"messages": [{"role": "user", "content": "Hi"}]},
            "messages: Tuple should have at least 2 items",
        ),
        (
            DatasetKind.CHAT,
            {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
            "messages.1: a user message where a assistant one belongs",
        ),
        (
            DatasetKind.CHAT,
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"},
                ]
            },
            "messages: the conversation must end with an assistant message",
        ),
        (
            DatasetKind.CHAT,
            {"messages": [{"role": "tool", "content": "a"}, {"role": "assistant", "content": "b"}]},
            "messages.0.role: Input should be",
        ),
        (DatasetKind.PREFERENCE, {"prompt": "p", "chosen": "A", "rejected": " a "}, "rejected"),
        (DatasetKind.PREFERENCE, {"prompt": "p", "chosen": "A"}, "rejected: Field required"),
    ],
)
def test_a_bad_row_is_named_by_its_number(
    kind: DatasetKind, row: dict[str, Any], problem: str
) -> None:
    problems = _problems(kind, [GOOD[kind][0], row])

    assert len(problems) == 1
    assert problems[0].startswith(f"row 2: {problem}")


def test_every_bad_row_is_listed_not_only_the_first() -> None:
    rows = [GOOD[DatasetKind.CORPUS][0], [], "text", 3, None, {"id": "x"}]

    assert _problems(DatasetKind.CORPUS, rows) == [
        "row 2: not a JSON object but an array",
        "row 3: not a JSON object but a string",
        "row 4: not a JSON object but a number",
        "row 5: not a JSON object but null",
        "row 6: text: Field required",
    ]


def test_the_message_lists_ten_problems_and_counts_the_rest() -> None:
    rows = [{"id": f"d{number}"} for number in range(1, 13)]

    with pytest.raises(InvalidRows) as raised:
        validate_rows(DatasetKind.CORPUS, numbered_rows(rows))

    assert raised.value.message.startswith("12 invalid rows: row 1: text: Field required; ")
    assert raised.value.message.endswith("; and 2 more")
    assert len(raised.value.problems) == 12


def test_a_jsonl_line_is_named_by_its_object_and_line_blank_lines_counted() -> None:
    text = '{"id": "d1", "text": "a"}\n\n{"id": "d2", "text": \n["d3"]\n'

    with pytest.raises(InvalidRows) as raised:
        validate_rows(DatasetKind.CORPUS, jsonl_rows(text, "s3://b/acme/c.jsonl"))

    assert [str(problem) for problem in raised.value.problems] == [
        "s3://b/acme/c.jsonl line 3: not JSON (Expecting value at column 22)",
        "s3://b/acme/c.jsonl line 4: not a JSON object but an array",
    ]


@pytest.mark.parametrize(
    ("kind", "duplicate", "same"),
    [
        (DatasetKind.QUESTION_SET, {"id": "q1", "question": "5+5?", "reference": "10"}, "id"),
        (
            DatasetKind.QUESTION_SET,
            {"id": "q9", "question": " 2+2? ", "reference": "4"},
            "question",
        ),
        (DatasetKind.CORPUS, {"id": "d9", "text": "TWO plus two  is four."}, "text"),
        (DatasetKind.CHAT, GOOD[DatasetKind.CHAT][0], "conversation"),
        (
            DatasetKind.PREFERENCE,
            {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
            "prompt, chosen and rejected",
        ),
    ],
)
def test_a_duplicate_row_names_the_row_it_repeats(
    kind: DatasetKind, duplicate: dict[str, Any], same: str
) -> None:
    problems = _problems(kind, [*GOOD[kind], duplicate])

    assert problems == [f"row 3: duplicate of row 1 (the same {same})"]


@pytest.mark.parametrize("text", ["x\ud800y", "\udfff"])
def test_a_lone_surrogate_is_a_bad_row_not_a_failure(text: str) -> None:
    """JSON can spell a lone surrogate (``"\\ud800"``); it is no UTF-8 text."""
    problems = _problems(DatasetKind.CORPUS, [{"id": "d1", "text": text}])

    assert problems == [
        "row 1: text: Input should be a valid string, unable to parse raw data as a unicode string"
    ]


def test_a_row_over_the_size_limit_is_named() -> None:
    rows = [{"id": "d1", "text": "a"}, {"id": "d2", "text": "b" * 200}]

    assert _problems(DatasetKind.CORPUS, rows, max_row_bytes=100) == [
        "row 2: longer than 100 bytes"
    ]


def test_more_rows_than_the_limit_are_refused() -> None:
    rows = [{"id": f"d{number}", "text": f"text {number}"} for number in range(4)]

    with pytest.raises(InvalidRows) as raised:
        validate_rows(DatasetKind.CORPUS, numbered_rows(rows), DatasetLimits(max_rows=3))

    assert raised.value.message == "more than 3 rows: a version holds at most 3"


def test_more_bytes_than_the_limit_are_refused() -> None:
    rows = [{"id": f"d{number}", "text": str(number) * 40} for number in range(4)]

    with pytest.raises(InvalidRows) as raised:
        validate_rows(DatasetKind.CORPUS, numbered_rows(rows), DatasetLimits(max_bytes=100))

    assert raised.value.message.startswith("more than 100 bytes by row 2")


def test_no_rows_is_refused() -> None:
    with pytest.raises(InvalidRows) as raised:
        validate_rows(DatasetKind.CHAT, jsonl_rows("\n\n", "s3://b/k"))

    assert raised.value.message == "no rows: a version holds at least one"
    assert raised.value.problems == []


def test_invalid_rows_is_a_validation_error_of_its_own_name() -> None:
    error = InvalidRows("1 invalid row: row 1: x", [])

    assert error.error_name == "Maas.InvalidRows"
    assert error.http_status == 400
