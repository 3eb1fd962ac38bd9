"""The judge learns from corrections: they appear as few-shot examples and move agreement."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from maas.evaluation.evalgen.assertions import key_terms
from maas.evaluation.evalgen.records import LabelledOutput, Thumb
from maas.evaluation.feedback import (
    CorrectionStore,
    FeedbackJudge,
    JudgeTask,
    measure_agreement,
)
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from pathlib import Path

    from tests.unit.evalgen.conftest import ScriptedJudge

TASK = JudgeTask(id="bookstore", description="Answers the customer's question correctly.")


def always_passes(scripted: type[ScriptedJudge]) -> ScriptedJudge:
    return scripted([("Now judge this one", {"passed": True, "reason": "looks fine"})])


def test_a_prompt_has_no_examples_until_a_person_corrects_the_judge(
    scripted: type[ScriptedJudge],
) -> None:
    judge = FeedbackJudge(always_passes(scripted), TASK, CorrectionStore())
    assert "People corrected earlier verdicts" not in judge.prompt("Free shipping?", "Always.")
    verdict = judge.verdict("Is shipping free?", "Shipping is always free.")
    assert verdict is True
    correction = judge.correct(
        "Is shipping free?",
        "Shipping is always free.",
        judge_verdict=verdict,
        human_verdict=False,
        note="only over $35",
    )
    assert correction is not None
    prompt = judge.prompt("Do you charge shipping?", "Shipping never costs anything.")
    assert (
        "Example 1\nInput: Is shipping free?\nOutput: Shipping is always free.\n"
        'Correct verdict: {"passed": false}\nWhy: only over $35'
    ) in prompt
    # The examples come before the output being judged.
    assert prompt.index("Example 1") < prompt.index("Now judge this one")


def test_agreeing_with_the_judge_is_not_a_correction(scripted: type[ScriptedJudge]) -> None:
    judge = FeedbackJudge(always_passes(scripted), TASK, CorrectionStore())
    assert judge.correct("q", "a", judge_verdict=True, human_verdict=True) is None
    assert judge.corrections.for_task(TASK.id) == []


def test_the_examples_shown_are_the_most_similar_corrections_of_the_same_task(
    tmp_path: Path, scripted: type[ScriptedJudge]
) -> None:
    store = CorrectionStore(tmp_path / "corrections.jsonl")
    judge = FeedbackJudge(always_passes(scripted), TASK, store, examples=1)
    judge.correct("Gift cards expire?", "After a year.", judge_verdict=True, human_verdict=False)
    judge.correct("Return window?", "14 days.", judge_verdict=True, human_verdict=False)
    other_task = FeedbackJudge(
        always_passes(scripted), JudgeTask(id="other", description="x"), store
    )
    other_task.correct("Return window?", "14 days!", judge_verdict=True, human_verdict=False)
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
