"""Training a reward model on preference pairs, and its pairwise accuracy on held-out pairs.

The loss is the pairwise (Bradley-Terry) one, ``-log sigmoid(r_preferred - r_non_preferred)``:
the model learns to score the preferred completion higher, by a margin whose probability the
sigmoid reads. Pairs are split into training and held-out sets *by prompt*, so no prompt the
model learnt from is used to measure it. Accuracy (the share of held-out pairs scored the
right way round, a tie counting one half) is measured before training and after.

The same code runs on a GPU (``cuda`` when present) and on the CPU. On the CPU the encoder is
frozen by default (``trainable_layers=0``): then each text is encoded once and only the head
learns, which takes seconds whatever the data's size; on a GPU every layer learns by default.
Fine-tuning every layer on the CPU ranks held-out pairs markedly better on the bundled set
(docs/reward.md) at minutes per hundred pairs; ask for it with ``trainable_layers``.
"""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING

import torch
from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.reward.model import RewardModel, RewardModelConfig, encoder_layer_count
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from maas.evaluation.reward.records import PreferencePair


class TrainingConfig(BaseModel):
    """How to train; every default runs in seconds on two CPU cores for a few hundred pairs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(default=20, ge=1)
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float | None = Field(
        default=None,
        gt=0,
        description=(
            "The head's learning rate; None: 5e-3 with the encoder frozen, 1e-3 when encoder "
            "layers learn (a head on features that move needs smaller steps)."
        ),
    )
    encoder_learning_rate: float = Field(
        default=3e-5, gt=0, description="The trainable encoder layers' learning rate."
    )
    trainable_layers: int | None = Field(
        default=None,
        ge=0,
        description="Top encoder layers that learn; None: all on a GPU, none on the CPU.",
    )
    max_length: int = Field(default=256, ge=8)
    held_out_fraction: float = Field(default=0.2, gt=0, lt=1)
    seed: int = 0
    device: str | None = Field(default=None, description="None: cuda when present, else cpu.")


#: The head's learning rate on a frozen encoder's fixed features, and beside encoder layers
#: that learn: the pair measured on the bundled rankings (docs/reward.md).
FROZEN_HEAD_LEARNING_RATE = 5e-3
FINE_TUNED_HEAD_LEARNING_RATE = 1e-3


class EpochReport(BaseModel):
    """One pass over the training pairs."""

    epoch: int
    loss: float = Field(description="Mean pairwise loss over the epoch.")
    seconds: float
    pairs_per_second: float


class TrainingReport(BaseModel):
    """What a training run did and how well the model ranks pairs it never saw."""

    device: str
    trainable_layers: int
    train_prompts: int
    held_out_prompts: int
    train_pairs: int
    held_out_pairs: int
    accuracy_before: float = Field(description="Held-out pairwise accuracy before training.")
    accuracy_after: float = Field(description="Held-out pairwise accuracy after training.")
    encode_seconds: float = Field(description="Encoding every text once (frozen encoder only).")
    epochs: list[EpochReport]

    @property
    def train_seconds(self) -> float:
        """Seconds spent in epochs."""
        return sum(epoch.seconds for epoch in self.epochs)

    @property
    def pairs_per_second(self) -> float:
        """Training pairs per second, counting the one-off encoding as part of the work."""
        seconds = self.train_seconds + self.encode_seconds
        return self.train_pairs * len(self.epochs) / seconds if seconds else 0.0


def split_by_prompt(
    pairs: Sequence[PreferencePair], *, held_out_fraction: float, seed: int
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """Training and held-out pairs, every prompt's pairs on one side only.

    Examples
    --------
    >>> from maas.evaluation.reward.records import PreferencePair
    >>> pairs = [PreferencePair(prompt=p, preferred="good", non_preferred="bad") for p in "aabbc"]
    >>> train, held_out = split_by_prompt(pairs, held_out_fraction=0.3, seed=0)
    >>> {p.prompt for p in train} & {p.prompt for p in held_out}
    set()
    >>> len({p.prompt for p in held_out})
    1
    """
    prompts = list(dict.fromkeys(pair.prompt for pair in pairs))
    if len(prompts) < 2:
        raise ValidationError(
            f"pairs: {len(prompts)} distinct prompt(s); a held-out split needs at least 2"
        )
    random.Random(seed).shuffle(prompts)
    count = min(len(prompts) - 1, max(1, math.ceil(held_out_fraction * len(prompts))))
    held_out_prompts = set(prompts[:count])
    train = [pair for pair in pairs if pair.prompt not in held_out_prompts]
    held_out = [pair for pair in pairs if pair.prompt in held_out_prompts]
    return train, held_out


def accuracy_of(preferred: torch.Tensor, non_preferred: torch.Tensor) -> float:
    """The share of pairs scored the right way round; a tie counts one half."""
    if preferred.numel() == 0:
        return 0.0
    right = (preferred > non_preferred).float() + 0.5 * (preferred == non_preferred).float()
    return float(right.mean())


def pairwise_accuracy(model: RewardModel, pairs: Sequence[PreferencePair]) -> float:
    """The share of ``pairs`` whose preferred completion ``model`` scores higher."""
    prompts = [pair.prompt for pair in pairs]
    better = model.score(prompts, [pair.preferred for pair in pairs])
    worse = model.score(prompts, [pair.non_preferred for pair in pairs])
    return accuracy_of(torch.tensor(better), torch.tensor(worse))


def pairwise_loss(preferred: torch.Tensor, non_preferred: torch.Tensor) -> torch.Tensor:
    """The Bradley-Terry loss, ``-log sigmoid(r_preferred - r_non_preferred)``, averaged."""
    return -torch.nn.functional.logsigmoid(preferred - non_preferred).mean()


class _Scorer:
    """Scores pairs by index: from encodings computed once (frozen encoder) or afresh."""

    def __init__(self, model: RewardModel, pairs: Sequence[PreferencePair]) -> None:
        self.model = model
        self.pairs = pairs
        self.encoded: tuple[torch.Tensor, torch.Tensor] | None = None
        if model.frozen:
            prompts = [pair.prompt for pair in pairs]
            self.encoded = (
                model.encode(prompts, [pair.preferred for pair in pairs]),
                model.encode(prompts, [pair.non_preferred for pair in pairs]),
            )

    def __call__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.encoded is not None:
            where = torch.tensor(list(indices), device=self.model.device)
            return (
                self.model.score_pooled(self.encoded[0][where]),
                self.model.score_pooled(self.encoded[1][where]),
            )
        chosen = [self.pairs[i] for i in indices]
        prompts = [pair.prompt for pair in chosen]
        completions = [pair.preferred for pair in chosen] + [pair.non_preferred for pair in chosen]
        scores = self.model(self.model.tokenize(prompts + prompts, completions))
        return scores[: len(chosen)], scores[len(chosen) :]


def resolve_device(requested: str | None) -> torch.device:
    """The device asked for, or cuda when present, else the CPU."""
    return torch.device(requested or ("cuda" if torch.cuda.is_available() else "cpu"))


def train_reward_model(
    pairs: Sequence[PreferencePair],
    config: TrainingConfig | None = None,
    *,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> tuple[RewardModel, TrainingReport]:
    """Train a reward model on ``pairs`` and measure it on held-out prompts' pairs.

    Deterministic for a given ``config.seed`` on one device: the split, the head's
    initialization and the order of batches all follow it.
    """
    config = config or TrainingConfig()
    device = resolve_device(config.device)
    train, held_out = split_by_prompt(
        pairs, held_out_fraction=config.held_out_fraction, seed=config.seed
    )
    torch.manual_seed(config.seed)
    layers = config.trainable_layers
    if layers is None:
        layers = 0 if device.type == "cpu" else encoder_layer_count()
    model = RewardModel.from_config(
        RewardModelConfig(trainable_layers=layers, max_length=config.max_length)
    ).to(device)

    started = time.perf_counter()
    train_scores, held_out_scores = _Scorer(model, train), _Scorer(model, held_out)
    encode_seconds = time.perf_counter() - started if model.frozen else 0.0
    held_out_indices = list(range(len(held_out)))

    def held_out_accuracy() -> float:
        model.eval()
        with torch.no_grad():
            return accuracy_of(*held_out_scores(held_out_indices))

    accuracy_before = held_out_accuracy()
    head_learning_rate = config.learning_rate
    if head_learning_rate is None:
        head_learning_rate = (
            FROZEN_HEAD_LEARNING_RATE if model.frozen else FINE_TUNED_HEAD_LEARNING_RATE
        )
    optimizer = torch.optim.AdamW(
        [
            {"params": list(model.head.parameters()), "lr": head_learning_rate},
            {
                "params": [p for p in model.encoder.parameters() if p.requires_grad],
                "lr": config.encoder_learning_rate,
            },
        ]
    )
    order = torch.Generator().manual_seed(config.seed)
    epochs: list[EpochReport] = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        if model.frozen:
            model.encoder.eval()
        epoch_started = time.perf_counter()
        permutation = torch.randperm(len(train), generator=order).tolist()
        total = 0.0
        for start in range(0, len(train), config.batch_size):
            batch = permutation[start : start + config.batch_size]
            loss = pairwise_loss(*train_scores(batch))
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        seconds = time.perf_counter() - epoch_started
        report = EpochReport(
            epoch=epoch,
            loss=total / len(train),
            seconds=seconds,
            pairs_per_second=len(train) / seconds if seconds else 0.0,
        )
        epochs.append(report)
        if on_epoch is not None:
            on_epoch(report)

    return model, TrainingReport(
        device=str(device),
        trainable_layers=layers,
        train_prompts=len({pair.prompt for pair in train}),
        held_out_prompts=len({pair.prompt for pair in held_out}),
        train_pairs=len(train),
        held_out_pairs=len(held_out),
        accuracy_before=accuracy_before,
        accuracy_after=held_out_accuracy(),
        encode_seconds=encode_seconds,
        epochs=epochs,
    )


__all__ = [
    "FINE_TUNED_HEAD_LEARNING_RATE",
    "FROZEN_HEAD_LEARNING_RATE",
    "EpochReport",
    "TrainingConfig",
    "TrainingReport",
    "accuracy_of",
    "pairwise_accuracy",
    "pairwise_loss",
    "resolve_device",
    "split_by_prompt",
    "train_reward_model",
]
