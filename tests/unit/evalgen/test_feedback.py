"""The judge learns from people's verdicts: corrections appear as few-shot examples, and a
judge that gives probabilities has its threshold fitted to them; agreement moves."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from maas.evaluation.evalgen.assertions import key_terms
from maas.evaluation.evalgen.records import LabelledOutput, Thumb
from maas.evaluation.feedback import (
    DEFAULT_THRESHOLD,
    AgreementFigures,
    CorrectionStore,
    FeedbackJudge,
    Judgement,
    JudgeTask,
    decision_threshold,
    measure_agreement,
)
from maas.evaluation.feedback.calibration import NOTHING_PASSES
from maas.evaluation.judging import JudgeAnswerError, ProbabilityJudge
from maas.evaluation.records import JudgeUsage
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from pydantic import BaseModel

    from maas.evaluation.judging import AnswerT
    from tests.unit.evalgen.conftest import ScriptedJudge

TASK = JudgeTask(id="bookstore", description="Answers the customer's question correctly.")


def always_passes(scripted: type[ScriptedJudge]) -> ScriptedJudge:
    return scripted([("Now judge this one", {"passed": True, "reason": "looks fine"})])


def test_a_prompt_has_no_examples_until_a_person_corrects_the_judge(
    scripted: type[ScriptedJudge],
) -> None:
    judge = FeedbackJudge(always_passes(scripted), TASK, CorrectionStore())
    assert "People corrected earlier verdicts" not in judge.prompt("Free shipping?", "Always.")
    judgement = judge.judgement("Is shipping free?", "Shipping is always free.")
    assert judgement == Judgement(passed=True)
    correction = judge.review(
        "Is shipping free?",
        "Shipping is always free.",
        judgement,
        human_verdict=False,
        note="only over $35",
    )
    assert correction.corrects
    prompt = judge.prompt("Do you charge shipping?", "Shipping never costs anything.")
    assert (
        "Example 1\nInput: Is shipping free?\nOutput: Shipping is always free.\n"
        'Correct verdict: {"passed": false}\nWhy: only over $35'
    ) in prompt
    # The examples come before the output being judged.
    assert prompt.index("Example 1") < prompt.index("Now judge this one")


def test_agreeing_with_the_judge_is_kept_but_never_shown_as_an_example(
    scripted: type[ScriptedJudge],
) -> None:
    judge = FeedbackJudge(always_passes(scripted), TASK, CorrectionStore())
    review = judge.review("q", "a", Judgement(passed=True), human_verdict=True)
    assert not review.corrects
    assert judge.corrections.for_task(TASK.id) == [review]
    assert "People corrected earlier verdicts" not in judge.prompt("q", "a")


def test_the_examples_shown_are_the_most_similar_corrections_of_the_same_task(
    tmp_path: Path, scripted: type[ScriptedJudge]
) -> None:
    store = CorrectionStore(tmp_path / "corrections.jsonl")
    judge = FeedbackJudge(always_passes(scripted), TASK, store, examples=1)
    passed = Judgement(passed=True)
    judge.review("Gift cards expire?", "After a year.", passed, human_verdict=False)
    judge.review("Return window?", "14 days.", passed, human_verdict=False)
    other_task = FeedbackJudge(
        always_passes(scripted), JudgeTask(id="other", description="x"), store
    )
    other_task.review("Return window?", "14 days!", passed, human_verdict=False)
    # Read back from the file by a new store: corrections outlive the process.
    reread = FeedbackJudge(
        always_passes(scripted),
        TASK,
        CorrectionStore(store_path := tmp_path / "corrections.jsonl"),
        examples=1,
    )
    assert store_path.exists()
    prompt = reread.prompt("How long is the return window?", "30 days.")
    assert "Output: 14 days.\n" in prompt
    assert "After a year" not in prompt
    assert "14 days!" not in prompt


def nearest_example_judge(scripted: type[ScriptedJudge]) -> ScriptedJudge:
    """Follows the example sharing most key terms with the judged output; passes otherwise."""

    def reply(prompt: str) -> dict[str, object]:
        examples, judged = prompt.split("Now judge this one.")
        wanted = key_terms(judged.split("Output:")[1].split("Answer as JSON")[0])
        best: tuple[int, bool] = (0, True)
        for output, verdict in re.findall(
            r"Output: (.*?)\nCorrect verdict: \{\"passed\": (true|false)\}", examples
        ):
            shared = len(wanted & key_terms(output))
            if shared > best[0]:
                best = (shared, verdict == "true")
        return {"passed": best[1]}

    return scripted([("Now judge this one", reply)])


def labelled(item_id: str, output: str, grade: Thumb) -> LabelledOutput:
    return LabelledOutput(id=item_id, task=TASK.id, input="q", output=output, grade=grade)


def test_agreement_on_held_out_outputs_is_measured_before_and_after_corrections(
    scripted: type[ScriptedJudge],
) -> None:
    training = [
        labelled("t1", "shipping is always free", Thumb.DOWN),
        labelled("t2", "returns within 30 days", Thumb.UP),
        labelled("t3", "gift cards expire yearly", Thumb.DOWN),
        labelled("t4", "pre-orders charged immediately", Thumb.DOWN),
    ]
    heldout = [
        labelled("h1", "always free shipping worldwide", Thumb.DOWN),
        labelled("h2", "gift cards expire after one year", Thumb.DOWN),
        labelled("h3", "returns accepted within 30 days", Thumb.UP),
        labelled("h4", "customs fees are included", Thumb.DOWN),
    ]
    report = measure_agreement(
        nearest_example_judge(scripted), TASK, training=training, heldout=heldout, corrections=2
    )
    # Before: the judge passes everything, right only on h3.
    assert (report.before.agreed, report.before.total, report.before.unjudged) == (1, 4, 0)
    # Two corrections (t1, t3; t2 it got right) teach it h1 and h2; h4 it still passes.
    assert (report.corrections, report.training_judged) == (2, 3)
    assert (report.after.agreed, report.after.total) == (3, 4)
    assert report.after.agreement == 0.75


def test_unparsed_verdicts_count_as_disagreements(scripted: type[ScriptedJudge]) -> None:
    silent = scripted([])
    heldout = [labelled("h1", "fine", Thumb.UP)]
    report = measure_agreement(silent, TASK, training=[], heldout=heldout, corrections=3)
    assert (report.before.agreed, report.before.unjudged, report.corrections) == (0, 1, 0)


def test_held_out_outputs_must_not_be_in_the_training_part(scripted: type[ScriptedJudge]) -> None:
    item = labelled("x", "fine", Thumb.UP)
    with pytest.raises(
        ValidationError, match=r"1 outputs are also in the training part, e\.g\. 'x'"
    ):
        measure_agreement(
            always_passes(scripted), TASK, training=[item], heldout=[item], corrections=1
        )


class OddsJudge:
    """A :class:`ProbabilityJudge` double: the probability of a pass is ``odds`` of the output
    being judged (the prompt's last ``Output:``); asking it for text is a test failure."""

    def __init__(self, odds: Callable[[str], float]) -> None:
        self.odds = odds
        self.prompts: list[str] = []

    @property
    def name(self) -> str:
        return "odds"

    @property
    def usage(self) -> JudgeUsage:
        return JudgeUsage(calls=len(self.prompts))

    def ask(self, prompt: str, answer: type[AnswerT], *, max_new_tokens: int = 256) -> AnswerT:
        raise AssertionError("a judge that gives probabilities is not asked for text")

    def probability(self, prompt: str, answer: type[BaseModel]) -> float:
        self.prompts.append(prompt)
        judged = prompt.split("Now judge this one.")[1].split("Output: ")[1]
        return self.odds(judged.split("\n\nAnswer as JSON")[0])


def fluent_but_wrong(output: str) -> float:
    """A small judge's odds: everything looks good to it, wrong answers a little less so."""
    if output == "unreadable":
        raise JudgeAnswerError("odds: no answer")
    return 0.7 if "wrong" in output else 0.9


def test_the_threshold_is_cut_where_people_s_verdicts_change() -> None:
    people = [(0.62, False), (0.70, False), (0.81, True), (0.90, True)]
    assert 0.70 < decision_threshold(people) <= 0.81
    # One verdict out of line among so few flattens the fit: people's majority (fail) wins.
    assert decision_threshold([*people, (0.95, False)]) > 0.95


def test_a_probability_that_tells_nothing_gives_the_verdict_people_gave_most() -> None:
    # Good and bad outputs get the same probabilities: the verdict follows the majority.
    mostly_good = [(0.9, True), (0.9, False), (0.95, True), (0.95, False), (0.92, True)]
    assert decision_threshold(mostly_good) <= 0.9
    mostly_bad = [(0.9, False), (0.9, True), (0.95, False), (0.95, True), (0.92, False)]
    assert decision_threshold(mostly_bad) > 0.95
    # Higher probabilities for the bad outputs: no line keeps the judge's order, so the
    # verdict is people's majority whatever the probability, a certain pass included.
    inverted = [(0.9, True), (0.8, True), (0.95, False), (0.97, False), (0.96, False)]
    assert decision_threshold(inverted) == NOTHING_PASSES > 1.0


def test_the_threshold_stays_at_one_half_until_people_gave_both_verdicts() -> None:
    assert decision_threshold([]) == DEFAULT_THRESHOLD == 0.5
    assert decision_threshold([(0.7, False), (0.9, False)]) == 0.5


def test_a_judge_that_gives_probabilities_has_its_threshold_fitted_to_reviews() -> None:
    odds = OddsJudge(fluent_but_wrong)
    assert isinstance(odds, ProbabilityJudge)
    judge = FeedbackJudge(odds, TASK, CorrectionStore())
    first = judge.judgement("Return window?", "30 days, wrong")
    assert first == Judgement(passed=True, probability=0.7, threshold=0.5)
    judge.review("Return window?", "30 days, wrong", first, human_verdict=False)
    right = judge.judgement("Return window?", "30 days")
    judge.review("Return window?", "30 days", right, human_verdict=True)
    assert [review.judge_probability for review in judge.corrections.for_task(TASK.id)] == [
        0.7,
        0.9,
    ]
    # The line now lies between the two reviewed probabilities: wrong answers fail.
    threshold = judge.threshold()
    assert threshold is not None
    assert 0.7 < threshold < 0.9
    wrong = judge.judgement("Gift cards?", "They never expire, wrong")
    assert wrong == Judgement(passed=False, probability=0.7, threshold=threshold)
    assert judge.verdict("Gift cards?", "They expire after five years") is True
    assert judge.verdict("Gift cards?", "unreadable") is None


def test_a_judge_that_gives_verdicts_only_keeps_the_examples_alone(
    scripted: type[ScriptedJudge],
) -> None:
    plain = always_passes(scripted)
    assert not isinstance(plain, ProbabilityJudge)
    judge = FeedbackJudge(plain, TASK, CorrectionStore())
    judgement = judge.judgement("Return window?", "14 days")
    judge.review("Return window?", "14 days", judgement, human_verdict=False)
    judge.review("Gift cards?", "5 years", judgement, human_verdict=True)
    assert judge.threshold() is None
    assert judge.judgement("Return window?", "14 days") == Judgement(passed=True)
    assert 'Output: 14 days\nCorrect verdict: {"passed": false}' in plain.prompts[-1]


def test_a_fitted_threshold_raises_held_out_agreement() -> None:
    training = [
        labelled("t1", "returns within 30 days", Thumb.UP),
        labelled("t2", "shipping is free, wrong", Thumb.DOWN),
        labelled("t3", "gift cards expire yearly, wrong", Thumb.DOWN),
    ]
    heldout = [
        labelled("h1", "pre-orders are charged at once, wrong", Thumb.DOWN),
        labelled("h2", "customs fees are included, wrong", Thumb.DOWN),
        labelled("h3", "e-books are not refundable", Thumb.UP),
        labelled("h4", "unreadable", Thumb.UP),
    ]
    report = measure_agreement(
        OddsJudge(fluent_but_wrong), TASK, training=training, heldout=heldout, corrections=5
    )
    # Before: everything passes at one half; h3 right, h4 unjudged.
    assert (report.before.agreed, report.before.unjudged) == (1, 1)
    # Every training verdict is reviewed: t1 agreed, t2 corrected, which moves the line
    # between 0.7 and 0.9, so t3 is already failed (agreed); one correction, never five.
    assert (report.corrections, report.training_judged) == (1, 3)
    assert report.threshold is not None
    assert 0.7 < report.threshold < 0.9
    assert (report.after.agreed, report.after.unjudged) == (3, 1)


def figures(good: int, bad: int, *, passed_good: int, failed_bad: int) -> AgreementFigures:
    return AgreementFigures(
        total=good + bad, good=good, passed_good=passed_good, failed_bad=failed_bad, unjudged=0
    )


def test_a_judge_that_always_passes_scores_the_majority_share_and_no_more() -> None:
    always = figures(25, 22, passed_good=25, failed_bad=0)
    assert always.agreement == pytest.approx(25 / 47)
    assert always.majority_baseline == pytest.approx(25 / 47)
    assert always.balanced_accuracy == 0.5
    assert always.kappa == 0.0


def test_kappa_and_balanced_accuracy_reward_agreement_on_both_grades() -> None:
    perfect = figures(5, 5, passed_good=5, failed_bad=5)
    assert (perfect.balanced_accuracy, perfect.kappa) == (1.0, 1.0)
    # 8/10 agreed, judge passes 5 of 10, people 5 of 10: chance 0.5, kappa (0.8-0.5)/0.5.
    mostly = figures(5, 5, passed_good=4, failed_bad=4)
    assert mostly.balanced_accuracy == pytest.approx(0.8)
    assert mostly.kappa == pytest.approx(0.6)


def test_an_unjudged_output_counts_against_the_judge_in_every_figure() -> None:
    # One good output unjudged, the rest right: as if the judge had failed it.
    unjudged = AgreementFigures(total=4, good=2, passed_good=1, failed_bad=2, unjudged=1)
    failed = figures(2, 2, passed_good=1, failed_bad=2)
    assert unjudged.agreement == failed.agreement == 0.75
    assert unjudged.balanced_accuracy == failed.balanced_accuracy == 0.75
    assert unjudged.kappa == pytest.approx(failed.kappa)
