"""Pairwise training rows from human rankings, exactly as the seed's table and graph show.

The seed's example ranks three summaries of one dialogue, A > B > C. Its graph lists, for
each completion, the pair with every other one: rewards [1, 0] when the first is ranked
higher, [0, 1] otherwise (six rows, n(n-1) for n completions). Its table normalizes them to
(preferred, non-preferred, [1, 0]), one row per unordered pair (three rows, n(n-1)/2), in the
order A>B, B>C, A>C: pairs of adjacent ranks first, then those two ranks apart, and so on.
:func:`pairs_from_ranking` gives the table by default and the graph with ``ordered=True``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, overload

from maas.evaluation.reward.records import OrderedPair, PreferencePair, Ranking

if TYPE_CHECKING:
    from collections.abc import Iterable


@overload
def pairs_from_ranking(
    ranking: Ranking, *, ordered: Literal[False] = False
) -> list[PreferencePair]: ...


@overload
def pairs_from_ranking(ranking: Ranking, *, ordered: Literal[True]) -> list[OrderedPair]: ...


def pairs_from_ranking(
    ranking: Ranking, *, ordered: bool = False
) -> list[PreferencePair] | list[OrderedPair]:
    """The pairwise rows of one ranking: the seed's table, or its graph when ``ordered``.

    Examples
    --------
    The seed's ranking, A > B > C, gives the seed's three table rows in its order:

    >>> ranking = Ranking(prompt="P", completions=("A", "B", "C"))
    >>> [(p.preferred, p.non_preferred, p.rewards) for p in pairs_from_ranking(ranking)]
    [('A', 'B', (1, 0)), ('B', 'C', (1, 0)), ('A', 'C', (1, 0))]

    and its graph's six edges, each completion against every other:

    >>> for pair in pairs_from_ranking(ranking, ordered=True):
    ...     print(pair.completion_j, pair.completion_k, pair.rewards)
    A B (1, 0)
    A C (1, 0)
    B A (0, 1)
    B C (1, 0)
    C A (0, 1)
    C B (0, 1)
    """
    completions = ranking.completions
    if ordered:
        return [
            OrderedPair(
                prompt=ranking.prompt,
                completion_j=completions[j],
                completion_k=completions[k],
                rewards=(1, 0) if j < k else (0, 1),
            )
            for j in range(len(completions))
            for k in range(len(completions))
            if j != k
        ]
    return [
        PreferencePair(
            prompt=ranking.prompt,
            preferred=completions[better],
            non_preferred=completions[better + gap],
        )
        for gap in range(1, len(completions))
        for better in range(len(completions) - gap)
    ]


@overload
def pairs_from_rankings(
    rankings: Iterable[Ranking], *, ordered: Literal[False] = False
) -> list[PreferencePair]: ...


@overload
def pairs_from_rankings(
    rankings: Iterable[Ranking], *, ordered: Literal[True]
) -> list[OrderedPair]: ...


def pairs_from_rankings(
    rankings: Iterable[Ranking], *, ordered: bool = False
) -> list[PreferencePair] | list[OrderedPair]:
    """Every ranking's rows, one ranking after the other (see :func:`pairs_from_ranking`)."""
    if ordered:
        return [pair for ranking in rankings for pair in pairs_from_ranking(ranking, ordered=True)]
    return [pair for ranking in rankings for pair in pairs_from_ranking(ranking)]


def preferences(rows: Iterable[PreferencePair | OrderedPair]) -> list[PreferencePair]:
    """The rows as table rows, each judgement once: what a reward model trains on.

    The graph states every judgement twice (A over B as [1, 0], then B against A as [0, 1]);
    training on both would count it twice, so a repeat is dropped, keeping the first.

    >>> ranking = Ranking(prompt="P", completions=("A", "B", "C"))
    >>> preferences(pairs_from_ranking(ranking, ordered=True)) == sorted(
    ...     pairs_from_ranking(ranking), key=lambda p: (p.preferred, p.non_preferred))
    True
    """
    seen: set[tuple[str, str, str]] = set()
    kept: list[PreferencePair] = []
    for row in rows:
        pair = row.as_preference() if isinstance(row, OrderedPair) else row
        key = (pair.prompt, pair.preferred, pair.non_preferred)
        if key not in seen:
            seen.add(key)
            kept.append(pair)
    return kept


__all__ = ["pairs_from_ranking", "pairs_from_rankings", "preferences"]
