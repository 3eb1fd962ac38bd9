"""Rankings become the seed's pairwise rows: its table by default, its graph when ordered."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from maas.evaluation.reward import OrderedPair, PreferencePair, Ranking, preferences
from maas.evaluation.reward import pairs_from_ranking as pairs_of

DIALOGUE = "Chris: Hey Antje, do you like cats?\nAntje: I hate cats. I'm allergic to them."
A = "Chris asks Antje if she likes cats.\nAntje does not like cats because she is allergic to them."
B = "Chris asks Antje if she likes cats.\nAntje hates cats."
C = (
    "Antje asks Chris if he likes cats.\n"
    "Chris loves cats because they are fluffy, cute, and cuddly."
)


def test_the_seeds_ranking_gives_the_seeds_three_table_rows_in_its_order() -> None:
    rows = pairs_of(Ranking(prompt=DIALOGUE, completions=(A, B, C)))

    assert rows == [
        PreferencePair(prompt=DIALOGUE, preferred=A, non_preferred=B, rewards=(1, 0)),
        PreferencePair(prompt=DIALOGUE, preferred=B, non_preferred=C, rewards=(1, 0)),
        PreferencePair(prompt=DIALOGUE, preferred=A, non_preferred=C, rewards=(1, 0)),
    ]


def test_the_seeds_ranking_gives_the_seeds_graph_when_ordered() -> None:
    rows = pairs_of(Ranking(prompt=DIALOGUE, completions=(A, B, C)), ordered=True)

    assert [(row.completion_j, row.completion_k, row.rewards) for row in rows] == [
        (A, B, (1, 0)),
        (A, C, (1, 0)),
        (B, A, (0, 1)),
        (B, C, (1, 0)),
        (C, A, (0, 1)),
        (C, B, (0, 1)),
    ]


@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_n_completions_give_n_n_minus_1_ordered_rows_and_half_as_many_table_rows(n: int) -> None:
    ranking = Ranking(prompt="p", completions=tuple(f"completion {i}" for i in range(n)))

    ordered = pairs_of(ranking, ordered=True)
    table = pairs_of(ranking)

    assert len(ordered) == n * (n - 1)
    assert len({(row.completion_j, row.completion_k) for row in ordered}) == n * (n - 1)
    assert len(table) == n * (n - 1) // 2
    # Every table row puts the better-ranked completion first.
    rank = {completion: i for i, completion in enumerate(ranking.completions)}
    assert all(rank[row.preferred] < rank[row.non_preferred] for row in table)


def test_ordered_rows_normalize_to_the_table_rows_each_once() -> None:
    ranking = Ranking(prompt="p", completions=("a", "b", "c", "d"))

    normalized = preferences(pairs_of(ranking, ordered=True))

    assert sorted(normalized, key=str) == sorted(pairs_of(ranking), key=str)


def test_a_repeated_completion_is_rejected_as_a_tie() -> None:
    with pytest.raises(ValidationError, match="completion 3 repeats completion 1"):
        Ranking(prompt="p", completions=("same", "other", "same "))


def test_a_ranking_needs_two_completions() -> None:
    with pytest.raises(ValidationError, match="at least 2 items"):
        Ranking(prompt="p", completions=("alone",))


def test_an_ordered_pair_accepts_only_one_winner() -> None:
    with pytest.raises(ValidationError):
        OrderedPair.model_validate(
            {"prompt": "p", "completion_j": "a", "completion_k": "b", "rewards": [1, 1]}
        )
