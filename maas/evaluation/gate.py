"""Summaries of the scored samples, and the gate that compares them with thresholds.

A metric's mean is over the samples it scored; a sample it could not score counts in
``failed`` and never as a zero or a NaN. A threshold on a metric that scored no sample
fails: nothing was shown to pass.

Examples
--------
>>> summary = summarize_metric("faithfulness", [0.9, 0.7, 0.8], failed=1)
>>> round(summary.mean or 0, 3), summary.scored, summary.failed
(0.8, 3, 1)
>>> verdict = judge_gate([summary], {"faithfulness": 0.85}, on_failure="reject_version")
>>> verdict.passed, verdict.action, verdict.checks[0].mean is not None
(False, 'reject_version', True)
>>> judge_gate([summary], {"faithfulness": 0.5}, on_failure="teardown").action is None
True
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from schemas.evaluation import GateFailureAction, GateVerdict, MetricSummary, ThresholdCheck

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from maas.evaluation.records import ScoredSample


def summarize_metric(metric: str, scores: Sequence[float], *, failed: int) -> MetricSummary:
    """Mean, median and range of ``scores``; ``failed`` samples had no score."""
    if not scores:
        return MetricSummary(
            metric=metric,
            scored=0,
            failed=failed,
            mean=None,
            median=None,
            minimum=None,
            maximum=None,
        )
    return MetricSummary(
        metric=metric,
        scored=len(scores),
        failed=failed,
        mean=statistics.fmean(scores),
        median=statistics.median(scores),
        minimum=min(scores),
        maximum=max(scores),
    )


def summarize(samples: Iterable[ScoredSample], metrics: Sequence[str]) -> list[MetricSummary]:
    """One summary per metric of ``metrics``, in that order."""
    scores: dict[str, list[float]] = {metric: [] for metric in metrics}
    failed = dict.fromkeys(metrics, 0)
    for sample in samples:
        for metric in metrics:
            if metric in sample.scores:
                scores[metric].append(sample.scores[metric])
            else:
                failed[metric] += 1
    return [summarize_metric(metric, scores[metric], failed=failed[metric]) for metric in metrics]


def judge_gate(
    summaries: Sequence[MetricSummary],
    thresholds: Mapping[str, float],
    *,
    on_failure: GateFailureAction,
) -> GateVerdict:
    """Pass when every threshold's metric has a mean at or above it."""
    means = {summary.metric: summary.mean for summary in summaries}
    checks = [
        ThresholdCheck(
            metric=metric,
            threshold=threshold,
            mean=means.get(metric),
            passed=(mean := means.get(metric)) is not None and mean >= threshold,
        )
        for metric, threshold in sorted(thresholds.items())
    ]
    passed = all(check.passed for check in checks)
    return GateVerdict(passed=passed, checks=checks, action=None if passed else on_failure)


__all__ = ["judge_gate", "summarize", "summarize_metric"]
