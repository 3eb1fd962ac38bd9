"""How fast a reward model trains on the bundled rankings, and how well it ranks held-out pairs.

Turns tests/data/reward/rankings.jsonl (49 prompts, three completions each, ranked faithful >
vague > wrong) into the seed's table rows (147 pairs) and, on several seeds (each seed another
split by prompt), trains twice on the same split: with the encoder frozen (the head alone,
``--epochs``) and fine-tuned (the top ``--fine-tune-layers`` encoder layers learn too,
``--fine-tune-epochs``; 0 layers skips it). Printed per run: held-out pairwise accuracy before
and after, pairs per second of training (the one-off encoding counted in), the epochs' own
rate, and the held-out accuracy by kind of judgement (ranks 1>2: faithful over vague, 2>3:
vague over wrong, 1>3: faithful over wrong); then each kind of run's mean.

Target: held-out accuracy above chance (0.5) on average; no speed target (it depends on the
device). On two CPU cores a frozen run takes well under a minute, a fine-tuned one (all six
layers, 8 epochs) a few minutes.

Run: ``python benchmarks/reward.py [--seeds N] [--epochs N] [--fine-tune-layers N]
[--fine-tune-epochs N]`` (needs the ``evaluation`` extra).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RANKINGS = Path(__file__).resolve().parent.parent / "tests" / "data" / "reward" / "rankings.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20, help="epochs of the frozen run")
    parser.add_argument(
        "--fine-tune-layers", type=int, default=6, help="encoder layers fine-tuned (0: skip)"
    )
    parser.add_argument("--fine-tune-epochs", type=int, default=8)
    parser.add_argument("--device", default=None)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()

    started = time.perf_counter()
    import torch

    from maas.evaluation.reward import pairs_from_rankings, read_rankings
    from maas.evaluation.reward.training import (
        TrainingConfig,
        accuracy_of,
        split_by_prompt,
        train_reward_model,
    )

    print(f"import: {time.perf_counter() - started:.1f} s")
    rankings = read_rankings(RANKINGS)
    pairs = pairs_from_rankings(rankings)
    # Which judgement a pair is: ranks 1 > 2 (faithful > vague), 2 > 3, or 1 > 3.
    ranks = {(r.prompt, c): i + 1 for r in rankings for i, c in enumerate(r.completions)}
    print(f"{len(pairs)} pairs from {RANKINGS.name}")
    runs = {"frozen": (0, args.epochs)}
    if args.fine_tune_layers:
        runs["fine-tuned"] = (args.fine_tune_layers, args.fine_tune_epochs)
    after: dict[str, list[float]] = {label: [] for label in runs}
    for seed in range(args.seeds):
        for label, (layers, epochs) in runs.items():
            config = TrainingConfig(
                seed=seed, epochs=epochs, trainable_layers=layers, device=args.device
            )
            run_started = time.perf_counter()
            model, report = train_reward_model(pairs, config)
            wall = time.perf_counter() - run_started
            epoch_rate = report.train_pairs * len(report.epochs) / report.train_seconds
            after[label].append(report.accuracy_after)
            _, held_out = split_by_prompt(
                pairs, held_out_fraction=config.held_out_fraction, seed=seed
            )
            by_kind: dict[str, list[float]] = {}
            better = model.score([p.prompt for p in held_out], [p.preferred for p in held_out])
            worse = model.score([p.prompt for p in held_out], [p.non_preferred for p in held_out])
            for pair, good, bad in zip(held_out, better, worse, strict=True):
                kind = (
                    f"{ranks[pair.prompt, pair.preferred]}>{ranks[pair.prompt, pair.non_preferred]}"
                )
                by_kind.setdefault(kind, []).append(
                    accuracy_of(torch.tensor(good), torch.tensor(bad))
                )
            kinds = ", ".join(f"{k}: {statistics.fmean(v):.2f}" for k, v in sorted(by_kind.items()))
            print(
                f"seed {seed} {label}: {report.device}, {report.trainable_layers} layer(s) "
                f"trained, {epochs} epochs, {report.train_pairs} train / "
                f"{report.held_out_pairs} held-out pairs; accuracy "
                f"{report.accuracy_before:.3f} -> {report.accuracy_after:.3f}; "
                f"{report.pairs_per_second:.1f} pairs/s with encoding, {epoch_rate:.0f} pairs/s "
                f"in epochs; {wall:.1f} s in all (model load included); "
                f"held-out accuracy by ranks {kinds}",
                flush=True,
            )
    for label, accuracies in after.items():
        print(
            f"{label}: held-out accuracy after training, mean {statistics.fmean(accuracies):.3f} "
            f"over {len(accuracies)} seeds (target > 0.5)"
        )
    missed = any(statistics.fmean(accuracies) <= 0.5 for accuracies in after.values())
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
