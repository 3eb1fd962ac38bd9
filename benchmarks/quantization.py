"""What quantizing the demo model buys and costs: size, perplexity and tokens/s, before and after.

For each scheme asked (W8A16 by default), quantizes SmolLM2-135M-Instruct (the demo's GGUF
file, converted to bf16 once and kept in the model cache) exactly as the ``quantize_model``
workflow's job does (:func:`maas.quantization.make_quantized_version`), and prints:

- the weight bytes of the parent and of the quantized version, and their ratio;
- their perplexity on the bundled text (``maas/data/quantization``), and its change;
- the local engine's decoding speed (:class:`maas.serving.model.ServedModel`, the class the
  local inference server serves with), base and quantized, each loaded from its folder and
  timed in the same run, alternately, best of ``--rounds``: tokens/s of one sequence of
  ``--tokens`` new tokens, greedy, after one warm-up generation.

The ratios are only comparable within one run: the machine's load moves both.

Run: ``python benchmarks/quantization.py`` (``--scheme W4A16 --scheme FP8_DYNAMIC`` for
more; ``--model-dir`` for another packaged bf16 folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Loading and compressing draw a progress bar per layer; the figures are what is printed.
os.environ.setdefault("TQDM_DISABLE", "1")

from maas.local.demo_model import demo_model_path
from maas.packaging import LogReporter, Progress
from maas.packaging.files import format_size
from maas.packaging.series import convert_gguf
from maas.packaging.series.base import ModelFolder
from maas.packaging.series.conversion_cache import RECORD, cached_conversion
from maas.packaging.sizing import plan_serving
from maas.quantization.package import make_quantized_version
from maas.serving.model import ServedModel
from maas.serving.protocol import SamplingParams
from schemas.lineage import QuantizationSettings, VersionLineage
from schemas.packaging import ServingPreferences

PROMPT = "The capital of France is"


def tokens_per_second(model: ServedModel, tokens: int) -> float:
    """Greedy decoding speed of one sequence of ``tokens`` new tokens (no early stop)."""
    prompt = model.encode(PROMPT)
    params = SamplingParams(max_new_tokens=tokens)
    # The end token would stop a row early: the count timed must be the count generated.
    ends = model.eos_token_ids
    model.eos_token_ids = frozenset()
    try:
        started = time.perf_counter()
        [completion] = model.generate([prompt], params)
        elapsed = time.perf_counter() - started
    finally:
        model.eos_token_ids = ends
    return completion.generated_tokens / elapsed


def parent_folder(model_dir: Path | None) -> ModelFolder:
    """The bf16 folder to quantize: ``model_dir``, or the demo model converted once."""
    folder = model_dir or cached_conversion(demo_model_path(), convert_gguf)
    names = [path.name for path in folder.iterdir() if path.is_file() and path.name != RECORD]
    return ModelFolder(files={name: folder / name for name in names}, weights=folder)


def serve(folder: ModelFolder, workdir: Path) -> ServedModel:
    """The folder loaded by the local engine with the serving properties its package gets."""
    plan = plan_serving(
        folder,
        ServingPreferences(context_tokens=2048),
        model="bench",
        revision=None,
        region="us-east-1",
    )
    served = workdir / "served"
    served.mkdir(parents=True)
    for name, path in folder.files.items():
        (served / name).symlink_to(path.resolve())
    (served / "serving.properties").write_text(plan.serving_properties)
    return ServedModel.load(served)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scheme", action="append", choices=["W8A16", "W4A16", "FP8_DYNAMIC"])
    parser.add_argument("--model-dir", type=Path, help="a packaged bf16 folder (default: demo)")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each model")
    arguments = parser.parse_args()
    schemes = arguments.scheme or ["W8A16"]
    parent = parent_folder(arguments.model_dir)
    print(f"model: {parent.weights}")
    rows: list[tuple[str, ...]] = []
    scored_tokens = 0
    with tempfile.TemporaryDirectory(prefix="maas-bench-quantization-") as scratch:
        base = serve(parent, Path(scratch) / "base")
        for scheme in schemes:
            workdir = Path(scratch) / scheme
            lineage = VersionLineage(
                parent_version=1,
                library="compressed-tensors",
                settings=QuantizationSettings(scheme=scheme),
            )
            started = time.perf_counter()
            made = make_quantized_version(parent, lineage, workdir, Progress(LogReporter()))
            made_seconds = time.perf_counter() - started
            measured = made.lineage.measurements
            assert measured is not None
            scored_tokens = measured.tokens
            quantized = serve(made.folder, workdir)
            for model in (base, quantized):
                tokens_per_second(model, 4)  # warm-up
            speeds: dict[str, list[float]] = {"base": [], "quantized": []}
            for _ in range(arguments.rounds):
                speeds["base"].append(tokens_per_second(base, arguments.tokens))
                speeds["quantized"].append(tokens_per_second(quantized, arguments.tokens))
            base_speed, quantized_speed = max(speeds["base"]), max(speeds["quantized"])
            rows.append(
                (
                    scheme,
                    f"{format_size(measured.parent_weight_bytes)} -> "
                    f"{format_size(measured.weight_bytes)} (x{measured.size_ratio:.2f})",
                    f"{measured.parent_perplexity:.2f} -> {measured.perplexity:.2f} "
                    f"({measured.perplexity_change:+.1%})",
                    f"{base_speed:.1f} -> {quantized_speed:.1f} "
                    f"(x{quantized_speed / base_speed:.2f})",
                    f"{made_seconds:.0f}",
                )
            )
            # Each scheme's figures as soon as they are measured; the table closes the run.
            print(f"{scheme}: " + ", ".join(rows[-1][1:4]), flush=True)
    header = ("scheme", "weights", f"perplexity ({scored_tokens} tokens)", "tokens/s", "s")
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    for row in [header, *rows]:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
