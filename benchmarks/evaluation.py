"""How fast samples are scored locally, and how often the local judge's answer fails to parse.

Two figures, on the bundled question set (``maas/data/evaluation/questions.jsonl``, ``--samples``
of them, 10 by default, round again past its six), each question answered with its first reference
context and retrieving it beside a passage about something else (scoring is measured here,
not the RAG pipeline, so the answers are fixed and the same every run):

- **non-LLM metrics** (string similarity, ROUGE, BLEU, exact match, non-LLM context precision
  and recall): samples scored per second, the median of three runs after one that warms up;
- **LLM metrics with the local judge** (SmolLM2-135M-Instruct with constrained decoding):
  faithfulness, answer relevancy, context precision and context recall, one run (each takes
  minutes on a CPU): samples per second, judge calls per sample, and the share of judge calls
  whose answer never parsed, with the metrics the judge could not score.

:func:`measure` scores one list of samples and returns its figures: the Map-shard scaling
benchmark calls it per shard.

Run: ``python benchmarks/evaluation.py`` (the ``evaluation`` and ``model`` extras and the demo
model); ``--samples N``, ``--no-llm`` to skip the judge.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.evaluation.metric_names import LLM_METRICS, NON_LLM_METRICS
from maas.evaluation.records import (
    JudgeUsage,
    PipelineAnswer,
    QuestionRecord,
    RetrievedContext,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.evaluation.judging import Judge

QUESTIONS = (
    Path(__file__).resolve().parent.parent / "maas" / "data" / "evaluation" / "questions.jsonl"
)
DISTRACTOR = "Bananas are yellow when they are ripe and green before."
RUNS = 3
#: New tokens per judge answer: ragas's answers on these short samples fit.
JUDGE_TOKENS = 128


@dataclass(frozen=True)
class Figures:
    """One scoring run: how many samples, how long, what the judge did and what failed."""

    samples: int
    seconds: float
    usage: JudgeUsage
    failures: dict[str, int]

    @property
    def per_second(self) -> float:
        """Samples scored per second."""
        return self.samples / self.seconds if self.seconds else 0.0


def bundled_samples(count: int) -> list[tuple[QuestionRecord, PipelineAnswer]]:
    """The first ``count`` bundled questions, each with a fixed answer and contexts."""
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions = [QuestionRecord.model_validate_json(line) for line in lines if line.strip()]
    samples = []
    # The set is small: past its end the questions come round again, under new ids.
    for index in range(count):
        question = questions[index % len(questions)]
        if index >= len(questions):
            question = question.model_copy(update={"id": f"{question.id}-{index}"})
        passage = (
            question.reference_contexts[0] if question.reference_contexts else question.reference
        )
        answer = PipelineAnswer(
            answer=passage.split(". ")[0].rstrip(".") + ".",
            contexts=(
                RetrievedContext(id="relevant", text=passage, score=0.9),
                RetrievedContext(id="distractor", text=DISTRACTOR, score=0.2),
            ),
        )
        samples.append((question, answer))
    return samples


def measure(
    samples: Sequence[tuple[QuestionRecord, PipelineAnswer]],
    metrics: Sequence[str],
    judge: Judge | None = None,
) -> Figures:
    """Score ``samples`` once with ``metrics``: the time it took and what failed."""
    from maas.evaluation.metrics import score

    started = time.perf_counter()
    scored, usage = score(samples, metrics, judge, max_new_tokens=JUDGE_TOKENS)
    seconds = time.perf_counter() - started
    failures: dict[str, int] = {}
    for sample in scored:
        for metric in sample.failures:
            failures[metric] = failures.get(metric, 0) + 1
    return Figures(samples=len(scored), seconds=seconds, usage=usage, failures=failures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--no-llm", action="store_true", help="skip the LLM metrics")
    arguments = parser.parse_args()
    samples = bundled_samples(arguments.samples)
    non_llm = sorted(NON_LLM_METRICS)

    measure(samples, non_llm)  # imports ragas and warms its metrics
    runs = [measure(samples, non_llm) for _ in range(RUNS)]
    rate = statistics.median(run.per_second for run in runs)
    print(f"non-LLM metrics ({', '.join(non_llm)}): {len(samples)} samples")
    print(f"  {rate:.1f} samples/s (median of {RUNS}); failures: {runs[0].failures or 'none'}")
    if arguments.no_llm:
        return 0

    from maas.evaluation.judges.local import LocalJudge

    started = time.perf_counter()
    judge = LocalJudge()
    print(f"local judge {judge.name}: loaded in {time.perf_counter() - started:.1f} s")
    llm = sorted(LLM_METRICS)
    figures = measure(samples, llm, judge)
    usage = figures.usage
    print(f"LLM metrics ({', '.join(llm)}) with the local judge: {len(samples)} samples")
    print(
        f"  {figures.per_second:.3f} samples/s ({figures.seconds:.0f} s); "
        f"{usage.calls / len(samples):.1f} judge calls per sample, {usage.retries} retries"
    )
    print(
        f"  judge parse failures: {usage.parse_failures} of {usage.calls} calls "
        f"({usage.failure_share:.1%}); unscored: {figures.failures or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
