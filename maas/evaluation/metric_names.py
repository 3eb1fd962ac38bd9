"""The names of the metrics an evaluation can compute, importable without ragas.

A Lambda checks a request's metrics against these; the evaluator computes them through
ragas (:mod:`maas.evaluation.metrics`). The LLM metrics need a judge; the others do not.
"""

from __future__ import annotations

from typing import Final

#: Metrics an LLM judge scores.
LLM_METRICS: Final = frozenset(
    {"faithfulness", "answer_relevancy", "context_precision", "context_recall"}
)

#: Metrics computed without an LLM (string and context overlap).
NON_LLM_METRICS: Final = frozenset(
    {
        "non_llm_context_precision",
        "non_llm_context_recall",
        "string_similarity",
        "rouge",
        "bleu",
        "exact_match",
    }
)

#: Metrics ragas computes.
METRIC_NAMES: Final = LLM_METRICS | NON_LLM_METRICS

#: The model version's EvalGen assertion set (maas.evaluation.evalgen), run by the evaluator.
ASSERTIONS_METRIC: Final = "assertions"

#: Every metric an evaluation request may name.
EVALUATION_METRICS: Final = METRIC_NAMES | {ASSERTIONS_METRIC}

__all__ = [
    "ASSERTIONS_METRIC",
    "EVALUATION_METRICS",
    "LLM_METRICS",
    "METRIC_NAMES",
    "NON_LLM_METRICS",
]
