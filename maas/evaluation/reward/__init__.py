"""Reward-model data from human rankings, and a small reward model trained on it.

Rankings (a prompt and its completions, best first) become the pairwise rows of the seed's
table or graph (:mod:`~maas.evaluation.reward.pairs`), written and read as JSONL or Parquet
(:mod:`~maas.evaluation.reward.files`). Those need neither torch nor transformers. The model
(:mod:`~maas.evaluation.reward.model`) and its training (:mod:`~maas.evaluation.reward.training`)
do, and are imported from their modules.

Examples
--------
>>> from maas.evaluation.reward import Ranking, pairs_from_ranking
>>> ranking = Ranking(prompt="2+2?", completions=("4", "four-ish", "5"))
>>> len(pairs_from_ranking(ranking)), len(pairs_from_ranking(ranking, ordered=True))
(3, 6)
"""

from __future__ import annotations

from maas.evaluation.reward.files import read_pairs, read_rankings, write_pairs
from maas.evaluation.reward.pairs import pairs_from_ranking, pairs_from_rankings, preferences
from maas.evaluation.reward.records import OrderedPair, PreferencePair, Ranking

__all__ = [
    "OrderedPair",
    "PreferencePair",
    "Ranking",
    "pairs_from_ranking",
    "pairs_from_rankings",
    "preferences",
    "read_pairs",
    "read_rankings",
    "write_pairs",
]
