"""Coverage, false failure rate and alignment, computed by hand on toy grades."""

from __future__ import annotations

import pytest

from maas.evaluation.evalgen.alignment import alignment_figures, combine, harmonic_mean
from maas.exceptions import ValidationError

# Three thumbs-down (b1..b3) and three thumbs-up (g1..g3) outputs.
GOOD = {"b1": False, "b2": False, "b3": False, "g1": True, "g2": True, "g3": True}


def test_coverage_is_the_share_of_bad_outputs_failed_and_ffr_of_good_outputs_failed() -> None:
    # Fails b1, b2 (caught) and g1 (a false failure); passes b3, g2, g3.
    passed = {"b1": False, "b2": False, "b3": True, "g1": False, "g2": True, "g3": True}
    figures = alignment_figures(passed, GOOD)
    assert (figures.bad, figures.good, figures.caught, figures.false_failures) == (3, 3, 2, 1)
    assert figures.coverage == pytest.approx(2 / 3)
    assert figures.false_failure_rate == pytest.approx(1 / 3)
    # Harmonic mean of 2/3 and 1 - 1/3 = 2/3.
    assert figures.alignment == pytest.approx(2 / 3)


def test_a_check_that_fails_everything_has_full_coverage_and_no_alignment_to_spare() -> None:
    figures = alignment_figures(dict.fromkeys(GOOD, False), GOOD)
    assert (figures.coverage, figures.false_failure_rate, figures.alignment) == (1.0, 1.0, 0.0)


def test_alignment_is_the_harmonic_mean_of_coverage_and_one_minus_ffr() -> None:
    # Catches all three bad outputs, falsely fails two of three good: 2*1*(1/3)/(1+1/3) = 0.5.
    passed = {"b1": False, "b2": False, "b3": False, "g1": False, "g2": False, "g3": True}
    assert alignment_figures(passed, GOOD).alignment == pytest.approx(0.5)
    assert harmonic_mean(1.0, 1 / 3) == pytest.approx(0.5)
    assert harmonic_mean(0.0, 0.0) == 0.0


def test_no_verdict_counts_against_the_check_on_both_sides() -> None:
    # b1 unjudged is not caught; g1 unjudged is a false failure.
    passed = {"b1": None, "b2": False, "b3": False, "g1": None, "g2": True, "g3": True}
    figures = alignment_figures(passed, GOOD)
    assert (figures.caught, figures.false_failures, figures.unjudged) == (2, 1, 2)


def test_alignment_needs_both_thumbs_up_and_thumbs_down() -> None:
    with pytest.raises(
        ValidationError, match=r"at least one thumbs-up and one thumbs-down.*3 up, 0 down"
    ):
        alignment_figures({"g1": True}, {"g1": True, "g2": True, "g3": True})


def test_a_set_fails_an_output_when_any_assertion_fails_it() -> None:
    assert combine([True, False, None]) is False
    assert combine([True, None]) is None
    assert combine([True, True]) is True
    assert combine([]) is True
