"""How long the serving-size advisor takes to size a model and rank every candidate.

Prints, for each fixture config in tests/unit/advisor/configs, the median milliseconds of
``advise()`` (parse the config, size weights, KV cache and activations, evaluate every
instance x TP x quantization candidate, rank, explain), for a request of 8 sequences of
4096 tokens.

Target: under 50 ms per model, so that the CLI answers at once and the packaging job can
embed the report without noticing.

Run: ``make bench`` (or ``python benchmarks/advisor.py``).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.advisor import ServingRequest, advise
from maas.advisor.sizing import parameter_groups

CONFIGS = Path(__file__).resolve().parent.parent / "tests" / "unit" / "advisor" / "configs"
REPEATS = 30
TARGET_MS = 50.0
REQUEST = ServingRequest(context_tokens=4096, concurrent_requests=8)


def milliseconds(config: dict[str, object]) -> list[float]:
    samples = []
    for _ in range(REPEATS):
        # Each call must parse and size from scratch, as a fresh CLI process would.
        parameter_groups.cache_clear()
        started = time.perf_counter()
        advise(config, REQUEST)
        samples.append(1000 * (time.perf_counter() - started))
    return samples


def main() -> int:
    print(f"{'model':28} {'median ms':>10} {'max ms':>8}  target < {TARGET_MS:.0f} ms")
    missed = 0
    for path in sorted(CONFIGS.glob("*.json")):
        samples = milliseconds(json.loads(path.read_text()))
        median = statistics.median(samples)
        verdict = "ok" if median < TARGET_MS else "MISSED"
        missed += verdict == "MISSED"
        print(f"{path.stem:28} {median:10.2f} {max(samples):8.2f}  {verdict}")
    print(f"(median of {REPEATS} calls per model; request: 8 sequences of 4096 tokens)")
    return 1 if missed and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
