"""Where to cut a judge's probability of a pass so that its verdicts agree with people's.

A small judge's probabilities are seldom centred on one half: SmolLM2-135M, asked whether a
bookstore's support answer is good, gives every answer 0.9-0.97 with no examples in its
prompt, so cutting at one half passes everything. What people said about the judge's verdicts
(corrections and agreements alike, each with the probability the judge gave) shows where the
line should be: a logistic fit of people's verdicts on the judge's log-odds gives the
probability at which a pass becomes more likely than not.

The fit is regularized towards a flat line (the slope's L2 penalty, on log-odds scaled to
unit spread), not towards the judge's own line at one half: where the judge's probability
tells good outputs from bad ones the slope grows and the cut falls between them; where it
tells nothing, the slope stays near zero and the verdict becomes what people said most often,
the best a judge without signal can do. Picking instead the cut that agrees with the most
reviewed verdicts overfits a handful of them: on the bundled set's training part
(``benchmarks/judge_alignment.py``, seed 7; each of 27 reviews judged by a cut fitted to the
other 26; the majority verdict agrees on 15) that cut agreed on 7, 15 and 18 of 27 (no
examples in the prompt, four picked by shared words, four by embedding), the fit on 12, 15
and 15.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The judge's own line: a pass when it thinks a pass more likely than not.
DEFAULT_THRESHOLD = 0.5
#: The slope's L2 penalty: a slope of one (a spread of the judge's log-odds moving people's
#: odds e-fold) costs as much as half a review misfitted.
SLOPE_PENALTY = 1.0
#: Above any probability: nothing passes (people failed most outputs, the judge tells nothing).
NOTHING_PASSES = math.nextafter(1.0, math.inf)
_STEPS = 50
_CONVERGED = 1e-9
_EDGE = 1e-6


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exponential = math.exp(value)
    return exponential / (1.0 + exponential)


def _logit(probability: float) -> float:
    clipped = min(max(probability, _EDGE), 1.0 - _EDGE)
    return math.log(clipped / (1.0 - clipped))


def _fit(features: Sequence[float], verdicts: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept of the penalized logistic regression, by Newton's method."""
    slope = intercept = 0.0
    for _ in range(_STEPS):
        gradient_slope = SLOPE_PENALTY * slope
        gradient_intercept = 0.0
        hessian_slope, hessian_cross, hessian_intercept = SLOPE_PENALTY, 0.0, 0.0
        for feature, verdict in zip(features, verdicts, strict=True):
            predicted = _sigmoid(slope * feature + intercept)
            weight = predicted * (1.0 - predicted)
            gradient_slope += (predicted - verdict) * feature
            gradient_intercept += predicted - verdict
            hessian_slope += weight * feature * feature
            hessian_cross += weight * feature
            hessian_intercept += weight
        determinant = hessian_slope * hessian_intercept - hessian_cross * hessian_cross
        step_slope = (hessian_intercept * gradient_slope - hessian_cross * gradient_intercept) / (
            determinant
        )
        step_intercept = (
            hessian_slope * gradient_intercept - hessian_cross * gradient_slope
        ) / determinant
        slope, intercept = slope - step_slope, intercept - step_intercept
        if abs(step_slope) + abs(step_intercept) < _CONVERGED:
            break
    return slope, intercept


def decision_threshold(
    scored: Sequence[tuple[float, bool]], *, default: float = DEFAULT_THRESHOLD
) -> float:
    """The probability at or above which a verdict is a pass, fitted to people's verdicts.

    ``scored`` holds (the judge's probability of a pass, the person's verdict) pairs. Until
    people have given both verdicts, ``default``: one kind alone would push the line past
    every output. A fit whose slope is not positive (the judge's probability tells nothing,
    or the opposite of what people say) gives the verdict people gave most: 0.0, everything
    passes, or :data:`NOTHING_PASSES`.

    Examples
    --------
    >>> round(decision_threshold([(0.62, False), (0.70, False), (0.81, True), (0.90, True)]), 3)
    0.774
    >>> decision_threshold([(0.9, True), (0.9, False), (0.95, True), (0.95, False), (0.92, True)])
    0.0
    >>> decision_threshold([(0.7, False), (0.9, False)])
    0.5
    """
    if len({verdict for _, verdict in scored}) < 2:
        return default
    log_odds = [_logit(probability) for probability, _ in scored]
    centre = sum(log_odds) / len(log_odds)
    spread = math.sqrt(sum((value - centre) ** 2 for value in log_odds) / len(log_odds)) or 1.0
    slope, intercept = _fit(
        [(value - centre) / spread for value in log_odds],
        [1.0 if verdict else 0.0 for _, verdict in scored],
    )
    if slope <= 0:
        return 0.0 if intercept >= 0 else NOTHING_PASSES
    return _sigmoid(centre - intercept * spread / slope)


__all__ = ["DEFAULT_THRESHOLD", "NOTHING_PASSES", "SLOPE_PENALTY", "decision_threshold"]
