"""Coverage, false failure rate and alignment: how well checks agree with people's grades.

From the EvalGen paper (Shankar et al., arXiv 2404.12272): over the graded outputs, an
assertion (or a set of them) *covers* a thumbs-down output it fails, and *falsely fails* a
thumbs-up output it fails.

- coverage = thumbs-down outputs failed / thumbs-down outputs
- false failure rate (FFR) = thumbs-up outputs failed / thumbs-up outputs
- alignment = the harmonic mean of coverage and 1 - FFR

A check that gave no verdict on an output (the judge's answer never parsed) is counted as
wrong whichever way the person graded it: it neither catches a bad output nor passes a good
one, so a flaky grader is never credited for its silence.

Examples
--------
>>> passed = {"a": False, "b": True, "c": False, "d": True}
>>> thumbs_up = {"a": False, "b": False, "c": True, "d": True}
>>> figures = alignment_figures(passed, thumbs_up)
>>> (figures.coverage, figures.false_failure_rate, round(figures.alignment, 3))
(0.5, 0.5, 0.5)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping


class AlignmentFigures(BaseModel):
    """How a check, or a set of checks, agrees with the grades it was measured on."""

    model_config = ConfigDict(frozen=True)

    graded: int
    bad: int
    good: int
    caught: int
    false_failures: int
    unjudged: int = 0
    coverage: float
    false_failure_rate: float
    alignment: float


def harmonic_mean(first: float, second: float) -> float:
    """The harmonic mean of two shares; 0 when both are 0."""
    return 0.0 if first + second == 0 else 2 * first * second / (first + second)


def alignment_figures(
    passed: Mapping[str, bool | None], good: Mapping[str, bool]
) -> AlignmentFigures:
    """Figures of verdicts ``passed`` (output id -> passed, None: no verdict) against ``good``
    (output id -> thumbs up), over the graded outputs.

    A verdict missing for a graded output counts as no verdict.
    """
    bad_ids = [output_id for output_id, up in good.items() if not up]
    good_ids = [output_id for output_id, up in good.items() if up]
    if not bad_ids or not good_ids:
        raise ValidationError(
            "grades: alignment needs at least one thumbs-up and one thumbs-down grade "
            f"(have {len(good_ids)} up, {len(bad_ids)} down)"
        )
    caught = sum(1 for output_id in bad_ids if passed.get(output_id) is False)
    false_failures = sum(1 for output_id in good_ids if passed.get(output_id) is not True)
    unjudged = sum(1 for output_id in good if passed.get(output_id) is None)
    coverage = caught / len(bad_ids)
    false_failure_rate = false_failures / len(good_ids)
    return AlignmentFigures(
        graded=len(good),
        bad=len(bad_ids),
        good=len(good_ids),
        caught=caught,
        false_failures=false_failures,
        unjudged=unjudged,
        coverage=coverage,
        false_failure_rate=false_failure_rate,
        alignment=harmonic_mean(coverage, 1 - false_failure_rate),
    )


def combine(verdicts: list[bool | None]) -> bool | None:
    """A set's verdict on one output: fails if any check fails it, else unknown if any check
    gave no verdict, else passes."""
    if any(verdict is False for verdict in verdicts):
        return False
    if any(verdict is None for verdict in verdicts):
        return None
    return True


__all__ = ["AlignmentFigures", "alignment_figures", "combine", "harmonic_mean"]
