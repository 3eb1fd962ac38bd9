"""How long the serving-size advisor takes to size a model and rank every candidate.

Prints, for each fixture config in tests/unit/advisor/configs, the median milliseconds of
``advise()`` (parse the config, size weights, KV cache and activations, evaluate every
instance x TP x quantization candidate, rank, explain), for a request of 8 sequences of
4096 tokens.

Target: under 50 ms per model, so that the CLI answers at once and the packaging job can
embed the report without noticing.

Then the bounds the API relies on (``CONFIG_LIMITS``): a config at every limit with the
largest load ``ServingRequest`` takes, and one a billion layers deep, each answered (sized,
or refused by name) in under a second: the API sizes configs that callers send.

Run: ``make bench`` (or ``python benchmarks/advisor.py``).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.advisor import ServingRequest, advise
from maas.advisor.architecture import CONFIG_LIMITS
from maas.advisor.request import MAX_CONCURRENT_REQUESTS, MAX_CONTEXT_TOKENS
from maas.advisor.sizing import parameter_groups
from maas.exceptions import ValidationError

CONFIGS = Path(__file__).resolve().parent.parent / "tests" / "unit" / "advisor" / "configs"
REPEATS = 30
TARGET_MS = 50.0
REQUEST = ServingRequest(context_tokens=4096, concurrent_requests=8)
BOUNDS_TARGET_MS = 1000.0
LARGEST = ServingRequest(
    context_tokens=MAX_CONTEXT_TOKENS,
    prompt_tokens=MAX_CONTEXT_TOKENS,
    concurrent_requests=MAX_CONCURRENT_REQUESTS,
)
#: A DeepSeek-style config with every size at its limit: MoE and latent attention included.
AT_THE_LIMITS: dict[str, object] = {"model_type": "deepseek_v3"} | {
    name: CONFIG_LIMITS[name]
    for name in (
        "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
        "intermediate_size", "vocab_size", "max_position_embeddings", "q_lora_rank",
        "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim",
        "n_routed_experts", "n_shared_experts", "num_experts_per_tok", "moe_intermediate_size",
    )
}  # fmt: skip


def bounds_milliseconds(config: dict[str, object]) -> float:
    """How long ``advise`` takes to answer ``config`` at the largest load, refusals included."""
    started = time.perf_counter()
    with contextlib.suppress(ValidationError):  # NoInstanceFits, or a size past its limit
        advise(config, LARGEST)
    return 1000 * (time.perf_counter() - started)


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
    print()
    print(f"{'bounds':28} {'ms':>10}  target < {BOUNDS_TARGET_MS:.0f} ms")
    for name, config in (
        ("every size at its limit", AT_THE_LIMITS),
        ("a billion layers", {**AT_THE_LIMITS, "num_hidden_layers": 1_000_000_000}),
    ):
        elapsed = bounds_milliseconds(config)
        verdict = "ok" if elapsed < BOUNDS_TARGET_MS else "MISSED"
        missed += verdict == "MISSED"
        print(f"{name:28} {elapsed:10.2f}  {verdict}")
    return 1 if missed and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
