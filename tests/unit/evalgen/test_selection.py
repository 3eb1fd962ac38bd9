"""Per criterion, the implementation that agrees best with the grades is chosen and run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.evaluation.evalgen import (
    CodeImplementation,
    Criterion,
    EvalOutput,
    Grade,
    Thumb,
    candidates_for,
    run_assertion_set,
    select_assertions,
    suggest_criteria,
    validate_assertion,
)
from maas.evaluation.evalgen.criteria import Candidates
from maas.evaluation.evalgen.implementations import GraderImplementation, grader_candidates
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from tests.unit.evalgen.conftest import ScriptedJudge

TASK = "Answer a bookstore customer's question from the policy, briefly."
CORRECT = Criterion(name="correct", description="States the policy correctly.", check="llm")
BRIEF = Criterion(name="brief", description="At most 8 words.", check="code")

OUTPUTS = [
    EvalOutput(id="a", input="Free shipping?", output="Free over $35."),
    EvalOutput(id="b", input="Free shipping?", output="Shipping is always free [wrong]."),
    EvalOutput(
        id="c",
        input="Returns?",
        output="Within 30 days of delivery, unused, with the order number.",
    ),
    EvalOutput(id="d", input="Returns?", output="Within 14 days [wrong]."),
]
# People liked a and c (c is long but right) and disliked b and d (wrong facts).
GRADES = [
    Grade(output_id="a", grade=Thumb.UP),
    Grade(output_id="b", grade=Thumb.DOWN),
    Grade(output_id="c", grade=Thumb.UP),
    Grade(output_id="d", grade=Thumb.DOWN),
]


def code(kind: str, **params: object) -> CodeImplementation:
    return CodeImplementation(assertion=validate_assertion(kind, dict(params)))


def wrongness_judge(scripted: type[ScriptedJudge]) -> ScriptedJudge:
    """A grader that fails exactly the outputs marked [wrong]: it agrees with the people."""
    return scripted([("Output", lambda prompt: {"passed": "[wrong]" not in prompt})])


def test_the_implementation_agreeing_with_the_grades_is_chosen(
    scripted: type[ScriptedJudge],
) -> None:
    judge = wrongness_judge(scripted)
    candidates = [
        Candidates(
            criterion=CORRECT,
            # Word count fails only c, a good output, and catches neither bad one: alignment 0.
            implementations=(code("max_words", limit=8), *grader_candidates()[:1]),
        )
    ]
    report = select_assertions(TASK, candidates, OUTPUTS, GRADES, judge=judge)
    (criterion,) = report.criteria
    assert [c.figures.alignment for c in criterion.candidates] == [0.0, 1.0]
    assert criterion.chosen.label == "llm:phrasing-1"
    assert report.assertion_set.figures.coverage == 1.0
    assert report.assertion_set.figures.false_failure_rate == 0.0
    assert report.assertion_set.figures.graded == 4


def test_on_a_tie_code_wins_over_an_llm_grader_and_the_cheaper_grader_over_the_dearer(
    scripted: type[ScriptedJudge],
) -> None:
    judge = wrongness_judge(scripted)
    cheap = GraderImplementation(prompt="Output: {output}", phrasing=1)
    dear = GraderImplementation(prompt="A longer prompt. Output: {output}", phrasing=0)
    perfect_code = code("not_matches_regex", pattern=r"\[wrong\]")
    graders_only = Candidates(criterion=CORRECT, implementations=(dear, cheap))
    with_code = Candidates(criterion=BRIEF, implementations=(dear, perfect_code))
    report = select_assertions(TASK, [graders_only, with_code], OUTPUTS, GRADES, judge=judge)
    assert [c.chosen.label for c in report.criteria] == [
        "llm:phrasing-2",
        "code:not_matches_regex(pattern='\\\\[wrong\\\\]')",
    ]


def test_a_criterion_over_the_false_failure_limit_is_reported_and_left_out() -> None:
    candidates = [
        Candidates(criterion=BRIEF, implementations=(code("max_words", limit=8),)),
        Candidates(
            criterion=CORRECT, implementations=(code("not_matches_regex", pattern="wrong"),)
        ),
    ]
    report = select_assertions(TASK, candidates, OUTPUTS, GRADES, max_false_failure_rate=0.25)
    assert report.assertion_set.dropped == {"brief": "false failure rate 0.50 above the limit 0.25"}
    assert [a.criterion.name for a in report.assertion_set.assertions] == ["correct"]
    assert report.criteria[0].chosen.figures.false_failure_rate == 0.5


def test_the_latest_grade_of_an_output_counts() -> None:
    regraded = [*GRADES, Grade(output_id="c", grade=Thumb.DOWN, note="too long after all")]
    candidates = [Candidates(criterion=BRIEF, implementations=(code("max_words", limit=8),))]
    figures = select_assertions(TASK, candidates, OUTPUTS, regraded).assertion_set.figures
    assert (figures.good, figures.bad, figures.caught, figures.false_failures) == (1, 3, 1, 0)


def test_grades_of_outputs_not_given_are_refused() -> None:
    candidates = [Candidates(criterion=BRIEF, implementations=(code("max_words", limit=8),))]
    with pytest.raises(ValidationError, match="grades: no output with id 'zz'"):
        select_assertions(
            TASK, candidates, OUTPUTS, [*GRADES, Grade(output_id="zz", grade=Thumb.UP)]
        )


def test_a_stored_set_runs_over_new_outputs(scripted: type[ScriptedJudge]) -> None:
    judge = wrongness_judge(scripted)
    candidates = [
        Candidates(criterion=BRIEF, implementations=(code("max_words", limit=8),)),
        Candidates(criterion=CORRECT, implementations=tuple(grader_candidates()[:1])),
    ]
    chosen = select_assertions(TASK, candidates, OUTPUTS, GRADES, judge=judge).assertion_set
    new = [
        EvalOutput(id="n1", input="Gift cards?", output="They never expire."),
        EvalOutput(id="n2", input="Gift cards?", output="One year [wrong]."),
    ]
    results = run_assertion_set(chosen, new, judge=judge)
    assert [(r.output_id, r.passed, r.verdicts) for r in results] == [
        ("n1", True, {"brief": True, "correct": True}),
        ("n2", False, {"brief": True, "correct": False}),
    ]
    with pytest.raises(ValidationError, match="grades correct with an LLM; give a judge"):
        run_assertion_set(chosen, new)


def test_suggested_criteria_come_with_the_users_own_and_candidates_per_criterion(
    scripted: type[ScriptedJudge],
) -> None:
    judge = scripted(
        [
            (
                "List 2 to 5 criteria",
                {
                    "criteria": [
                        {"name": "brief", "description": "Short.", "check": "code"},
                        {"name": "polite", "description": "Polite tone.", "check": "llm"},
                    ]
                },
            ),
            ("Propose up to 3 checks", {"assertions": [{"kind": "no_refusal", "params": {}}]}),
        ]
    )
    criteria = suggest_criteria(judge, TASK, OUTPUTS, user_criteria=[BRIEF])
    # The user's "brief" replaces the judge's.
    assert [(c.name, c.description) for c in criteria] == [
        ("polite", "Polite tone."),
        ("brief", "At most 8 words."),
    ]
    assert "Output: Free over $35." in judge.prompts[0]
    candidates = candidates_for(judge, TASK, criteria[0], extra=[code("max_words", limit=8)])
    assert [i.label for i in candidates.implementations] == [
        "code:max_words(limit=8)",
        "code:no_refusal()",
        "llm:phrasing-1",
        "llm:phrasing-2",
        "llm:phrasing-3",
    ]
