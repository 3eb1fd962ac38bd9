"""How long the local guardrail engine takes to check one text.

Applies the labelled set's policy (tests/data/guardrails/policy.json: a denied topic, six
content filters, custom words and profanity, ten PII types and a regex) to every text of the
labelled set, a few times over, and prints the median and p99 milliseconds per check, by
source. It also prints what a process pays once: importing the engine and building it.

Target: a median under 50 ms, small next to a generated answer (seconds) so that guarding
both the prompt and the completion does not change what a caller feels.

Run: ``python benchmarks/guardrails.py`` (needs the ``guardrails`` extra).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "guardrails"
REPEATS = 5
TARGET_MS = 50.0


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    started = time.perf_counter()
    from maas.local.guardrails import LocalGuardrail, parse_policy

    imported = time.perf_counter()
    guardrail = LocalGuardrail(parse_policy(json.loads((DATA / "policy.json").read_text())))
    # The PII analyzer and the phone metadata load on the first check.
    guardrail.apply_text("warm up: jane@example.com", "INPUT")
    built = time.perf_counter()
    print(f"import {imported - started:.1f} s, build and first check {built - imported:.1f} s")

    rows = [json.loads(line) for line in (DATA / "labelled.jsonl").read_text().splitlines()]
    samples: dict[str, list[float]] = {"INPUT": [], "OUTPUT": []}
    for _ in range(REPEATS):
        for row in rows:
            began = time.perf_counter()
            guardrail.apply_text(row["text"], row["source"])
            samples[row["source"]].append(1000 * (time.perf_counter() - began))
    header = f"{'source':8} {'checks':>7} {'median ms':>10} {'p99 ms':>8}"
    print(f"{header}  target < {TARGET_MS:.0f} ms")
    missed = False
    for source, measured in samples.items():
        median = statistics.median(measured)
        missed |= median >= TARGET_MS
        print(
            f"{source:8} {len(measured):7d} {median:10.1f} {percentile(measured, 0.99):8.1f}"
            f"  {'ok' if median < TARGET_MS else 'MISSED'}"
        )
    return 1 if missed and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
