"""``maas reward``: pairwise rows from human rankings, and a reward model trained on them."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - typer reads the annotations when the app is built
from typing import Annotated

import typer
from rich.console import Console

reward_app = typer.Typer(
    help="Reward-model data from human rankings, and a small reward model trained on it.",
    no_args_is_help=True,
)
console = Console()


@reward_app.command("pairs")
def pairs(
    rankings: Annotated[
        Path, typer.Argument(help="JSONL or Parquet: {prompt, completions (best first)}.")
    ],
    *,
    out: Annotated[Path, typer.Option(help="Where to write the pairs: .jsonl or .parquet.")],
    ordered: Annotated[
        bool,
        typer.Option(
            "--ordered", help="Every ordered pair, rewards [1,0] or [0,1] (the seed's graph)."
        ),
    ] = False,
) -> None:
    """Turn ranked completions into pairwise rows (prompt, preferred, non-preferred, [1, 0])."""
    # Imported when the command runs, so that `maas --help` answers at once.
    from maas.evaluation.reward import (  # noqa: PLC0415
        pairs_from_rankings,
        read_rankings,
        write_pairs,
    )

    read = read_rankings(rankings)
    rows = pairs_from_rankings(read, ordered=True) if ordered else pairs_from_rankings(read)
    write_pairs(out, rows)
    console.print(f"{len(read)} rankings -> {len(rows)} pairs in {out}", highlight=False)


@reward_app.command("train")
def train(
    pairs_path: Annotated[Path, typer.Argument(metavar="PAIRS", help="Pairs: .jsonl or .parquet.")],
    *,
    out: Annotated[Path, typer.Option(help="Folder for the trained model (safetensors).")],
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training pairs.")] = 20,
    trainable_layers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=(
                "Top encoder layers that learn (default: all on a GPU, 0 on CPU). On the CPU "
                "6 with --epochs 8 ranks far better, at minutes per hundred pairs."
            ),
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, the head and the batches.")] = 0,
    held_out: Annotated[
        float, typer.Option(min=0.01, max=0.99, help="Share of prompts held out for accuracy.")
    ] = 0.2,
    device: Annotated[
        str | None, typer.Option(help="cuda or cpu (default: cuda when present).")
    ] = None,
) -> None:
    """Train a reward model on PAIRS and print its held-out pairwise accuracy."""
    from maas.evaluation.reward import preferences, read_pairs  # noqa: PLC0415
    from maas.evaluation.reward.training import (  # noqa: PLC0415 - torch loads only here
        EpochReport,
        TrainingConfig,
        train_reward_model,
    )

    rows = preferences(read_pairs(pairs_path))

    def progress(epoch: EpochReport) -> None:
        console.print(
            f"epoch {epoch.epoch}/{epochs}: loss {epoch.loss:.4f}, "
            f"{epoch.pairs_per_second:.0f} pairs/s",
            highlight=False,
        )

    config = TrainingConfig(
        epochs=epochs,
        trainable_layers=trainable_layers,
        seed=seed,
        held_out_fraction=held_out,
        device=device,
    )
    with console.status("loading the encoder and encoding the pairs"):
        model, report = train_reward_model(rows, config, on_epoch=progress)
    model.save(out)
    console.print(
        f"{report.train_pairs} training pairs ({report.train_prompts} prompts), "
        f"{report.held_out_pairs} held out ({report.held_out_prompts} prompts), "
        f"on {report.device}, {report.trainable_layers} encoder layer(s) trained",
        highlight=False,
    )
    console.print(
        f"held-out pairwise accuracy: {report.accuracy_before:.3f} before, "
        f"[bold]{report.accuracy_after:.3f}[/] after",
        highlight=False,
    )
    console.print(f"saved to {out}", highlight=False)


__all__ = ["reward_app"]
