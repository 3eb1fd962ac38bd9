"""How long the demo's lifecycle takes, stage by stage, from a cold process and a warm one.

Runs what ``make demo`` runs (:func:`maas.cli.demo.run_demo`: package the demo's GGUF model,
deploy it, evaluate 6 questions with faithfulness and answer relevancy judged by the local
judge, invoke it, tear it down), each time in a fresh Python process, and prints each stage's
wall seconds:

- **cold**: a model cache (``$MAAS_MODEL_CACHE``) that starts empty, so the GGUF file is
  converted and every model loaded from scratch;
- **warm**: a fresh process again, with the cache the cold run filled (conversions reused,
  content-addressed by the GGUF file's SHA-256).

The stages are the lifecycle's child executions as Step Functions recorded them (package,
deploy, evaluate), the lifecycle as a whole, the two ``InvokeEndpoint`` requests, the
teardown, the runtime's start and the whole demo. The demo's own output is kept, and printed
only when a run fails.

Run: ``python benchmarks/lifecycle_speed.py`` (``make demo``'s extras); ``--warm-runs N``
(1), ``--no-judge``, ``--strict`` (exit 1 when the cold run misses 60 s or a warm run 40 s).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Issue 18's targets, in seconds, for the whole demo.
COLD_TARGET = 60.0
WARM_TARGET = 40.0
STAGES = ("runtime", "package", "deploy", "evaluate", "lifecycle", "invoke", "teardown", "total")


def one_run(judged: bool) -> dict[str, Any]:
    """Run the demo once in this process; its stages' seconds and whether it succeeded."""
    from rich.console import Console

    from maas.cli.demo import run_demo

    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    result = run_demo(console, judged=judged)
    seconds = dict(result.seconds)
    for stage, execution in (
        ("package", result.packaging),
        ("deploy", result.deployment),
        ("evaluate", result.evaluation),
    ):
        if execution is not None and execution.stopped_at is not None:
            seconds[stage] = (execution.stopped_at - execution.started_at).total_seconds()
    return {"succeeded": result.succeeded, "seconds": seconds, "output": output.getvalue()}


def run_in_fresh_process(cache: Path, judged: bool) -> dict[str, Any]:
    """:func:`one_run` in a new interpreter whose model cache is ``cache``."""
    command = [sys.executable, __file__, "--one", *([] if judged else ["--no-judge"])]
    environment = {**os.environ, "MAAS_MODEL_CACHE": str(cache)}
    completed = subprocess.run(
        command, env=environment, cwd=ROOT, capture_output=True, text=True, check=False
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        return {"succeeded": False, "seconds": {}, "output": completed.stdout + completed.stderr}
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--warm-runs", type=int, default=1)
    parser.add_argument("--no-judge", action="store_true", help="leave the LLM metrics out")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    judged = not arguments.no_judge
    if arguments.one:
        print(json.dumps(one_run(judged)))
        return 0

    print(f"the demo's lifecycle on {os.cpu_count()} CPUs, judged={judged}; seconds per stage")
    print(f"{'run':<7}" + "".join(f"{stage:>10}" for stage in STAGES))
    missed = False
    with tempfile.TemporaryDirectory(prefix="maas-bench-cache-") as cache:
        for number in range(1 + arguments.warm_runs):
            label, target = ("cold", COLD_TARGET) if number == 0 else ("warm", WARM_TARGET)
            figures = run_in_fresh_process(Path(cache), judged)
            seconds = figures["seconds"]
            print(
                f"{label:<7}"
                + "".join(
                    f"{seconds[stage]:10.1f}" if stage in seconds else f"{'-':>10}"
                    for stage in STAGES
                ),
                flush=True,
            )
            if not figures["succeeded"]:
                print(f"{label} run failed; its output:\n{figures['output']}")
                return 1
            missed = missed or seconds.get("total", float("inf")) > target
    print(f"targets: cold under {COLD_TARGET:.0f} s, warm under {WARM_TARGET:.0f} s (total)")
    return 1 if arguments.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
