"""Pairs and rankings round-trip through JSONL and Parquet; bad lines are named."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from maas.evaluation.reward import (
    Ranking,
    pairs_from_rankings,
    read_pairs,
    read_rankings,
    write_pairs,
)
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from pathlib import Path

RANKINGS = [
    Ranking(prompt="What is 2+2?", completions=("4", "about 4", "5")),
    Ranking(prompt="Ünïcode «prompt»", completions=("ja", "nein")),
]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
@pytest.mark.parametrize("ordered", [False, True])
def test_pairs_round_trip(tmp_path: Path, suffix: str, ordered: bool) -> None:
    pairs = pairs_from_rankings(RANKINGS, ordered=ordered)  # type: ignore[call-overload]
    path = tmp_path / f"pairs{suffix}"

    write_pairs(path, pairs)

    assert read_pairs(path) == pairs


def test_jsonl_pairs_are_the_seeds_columns(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_pairs(path, pairs_from_rankings(RANKINGS[:1]))

    first = json.loads(path.read_text().splitlines()[0])

    assert first == {
        "prompt": "What is 2+2?",
        "preferred": "4",
        "non_preferred": "about 4",
        "rewards": [1, 0],
    }


def test_bad_lines_are_reported_by_line_number(tmp_path: Path) -> None:
    path = tmp_path / "rankings.jsonl"
    path.write_text(
        '{"prompt": "p", "completions": ["a", "b"]}\n'
        "\n"
        '{"prompt": "p", "completions": ["a"]}\n'
        "{not json\n"
        '{"prompt": "p", "completions": ["a", "b"], "extra": 1}\n'
    )

    with pytest.raises(ValidationError) as raised:
        read_rankings(path)

    message = raised.value.message
    assert "3 bad line(s)" in message
    assert "line 3: completions: Tuple should have at least 2 items" in message
    assert "line 4: not JSON" in message
    assert "line 5: extra: Extra inputs are not permitted" in message
    assert "line 1" not in message


def test_an_unknown_suffix_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"unknown format '\.csv'"):
        read_pairs(tmp_path / "pairs.csv")


def test_the_bundled_rankings_are_valid_and_varied() -> None:
    from pathlib import Path

    rankings = read_rankings(Path(__file__).parents[3] / "data" / "reward" / "rankings.jsonl")

    assert 40 <= len(rankings) <= 60
    assert len({ranking.prompt for ranking in rankings}) == len(rankings)
    assert all(len(ranking.completions) == 3 for ranking in rankings)
