"""Choosing, per criterion, the implementation that agrees best with people's grades.

Each candidate runs over the graded outputs only (a grader costs a judge call per output);
the one with the highest alignment is chosen, ties going to code over an LLM grader and then
to the cheaper one. The chosen implementations make the assertion set, whose own figures
(an output fails the set if any assertion fails it) are reported beside each criterion's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.evalgen.alignment import AlignmentFigures, alignment_figures, combine
from maas.evaluation.evalgen.implementations import Implementation
from maas.evaluation.evalgen.records import Criterion
from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from maas.evaluation.evalgen.criteria import Candidates
    from maas.evaluation.evalgen.records import EvalOutput, Grade
    from maas.evaluation.judging import Judge


class CandidateFigures(BaseModel):
    """One candidate implementation and how it agreed with the grades."""

    model_config = ConfigDict(frozen=True)

    label: str
    implementation: Implementation
    figures: AlignmentFigures


class ChosenAssertion(BaseModel):
    """A criterion, the implementation chosen for it and that implementation's figures."""

    model_config = ConfigDict(frozen=True)

    criterion: Criterion
    implementation: Implementation
    figures: AlignmentFigures


class AssertionSet(BaseModel):
    """The chosen assertions for a task, as stored with a model version and run later."""

    model_config = ConfigDict(frozen=True)

    task: str
    assertions: tuple[ChosenAssertion, ...]
    figures: AlignmentFigures = Field(description="The whole set's figures on the grades.")
    dropped: dict[str, str] = Field(
        default_factory=dict, description="Criterion name -> why it was left out of the set."
    )
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class CriterionReport(BaseModel):
    """Every candidate of one criterion with its figures, and which was chosen."""

    model_config = ConfigDict(frozen=True)

    criterion: Criterion
    candidates: tuple[CandidateFigures, ...]
    chosen: CandidateFigures
    rejected_proposals: int = 0


class SelectionReport(BaseModel):
    """What selection tried and what it kept."""

    model_config = ConfigDict(frozen=True)

    criteria: tuple[CriterionReport, ...]
    assertion_set: AssertionSet


def latest_grades(grades: Sequence[Grade]) -> dict[str, bool]:
    """Output id -> thumbs up, the latest grade of each output winning."""
    ordered = sorted(grades, key=lambda grade: grade.graded_at)
    return {grade.output_id: grade.good for grade in ordered}


def _preference(candidate: CandidateFigures) -> tuple[float, int, int]:
    # Best alignment first; on a tie code (cost 0) before a grader, then the cheaper grader.
    implementation = candidate.implementation
    return (
        -candidate.figures.alignment,
        0 if implementation.type == "code" else 1,
        implementation.cost,
    )


def select_assertions(
    task: str,
    candidates: Sequence[Candidates],
    outputs: Sequence[EvalOutput],
    grades: Sequence[Grade],
    *,
    judge: Judge | None = None,
    max_false_failure_rate: float | None = None,
) -> SelectionReport:
    """Choose per criterion the candidate that agrees best with ``grades`` over ``outputs``.

    A criterion whose chosen implementation falsely fails more than
    ``max_false_failure_rate`` of the thumbs-up outputs is reported but left out of the set.
    """
    good = latest_grades(grades)
    graded = [output for output in outputs if output.id in good]
    missing = sorted(set(good) - {output.id for output in graded})
    if missing:
        raise ValidationError(f"grades: no output with id {', '.join(map(repr, missing[:5]))}")
    reports: list[CriterionReport] = []
    kept: list[tuple[ChosenAssertion, dict[str, bool | None]]] = []
    dropped: dict[str, str] = {}
    for entry in candidates:
        if not entry.implementations:
            dropped[entry.criterion.name] = "no candidate implementation"
            continue
        scored: list[tuple[CandidateFigures, dict[str, bool | None]]] = []
        for implementation in entry.implementations:
            verdicts = {
                output.id: implementation.verdict(entry.criterion, output, judge)
                for output in graded
            }
            figures = alignment_figures(verdicts, good)
            scored.append(
                (
                    CandidateFigures(
                        label=implementation.label, implementation=implementation, figures=figures
                    ),
                    verdicts,
                )
            )
        # sorted() is stable: among equals the candidate proposed first stays first.
        ranked = sorted(scored, key=lambda pair: _preference(pair[0]))
        best, best_verdicts = ranked[0]
        reports.append(
            CriterionReport(
                criterion=entry.criterion,
                candidates=tuple(candidate for candidate, _ in scored),
                chosen=best,
                rejected_proposals=len(entry.rejected),
            )
        )
        rate = best.figures.false_failure_rate
        if max_false_failure_rate is not None and rate > max_false_failure_rate:
            dropped[entry.criterion.name] = (
                f"false failure rate {rate:.2f} above the limit {max_false_failure_rate:.2f}"
            )
            continue
        chosen = ChosenAssertion(
            criterion=entry.criterion, implementation=best.implementation, figures=best.figures
        )
        kept.append((chosen, best_verdicts))
    set_verdicts = {
        output.id: combine([verdicts[output.id] for _, verdicts in kept]) for output in graded
    }
    assertion_set = AssertionSet(
        task=task,
        assertions=tuple(chosen for chosen, _ in kept),
        figures=alignment_figures(set_verdicts, good),
        dropped=dropped,
    )
    return SelectionReport(criteria=tuple(reports), assertion_set=assertion_set)


class OutputResult(BaseModel):
    """A stored assertion set's verdicts on one output."""

    model_config = ConfigDict(frozen=True)

    output_id: str
    passed: bool | None = Field(description="False if any assertion failed; None if unjudged.")
    verdicts: dict[str, bool | None] = Field(description="Criterion name -> passed.")


def run_assertion_set(
    assertion_set: AssertionSet, outputs: Sequence[EvalOutput], *, judge: Judge | None = None
) -> list[OutputResult]:
    """Every assertion of the set on every output (a set with LLM graders needs ``judge``)."""
    if judge is None:
        graders = [
            c.criterion.name for c in assertion_set.assertions if c.implementation.type == "llm"
        ]
        if graders:
            raise ValidationError(
                f"judge: the assertion set grades {', '.join(graders)} with an LLM; give a judge"
            )
    results = []
    for output in outputs:
        verdicts: Mapping[str, bool | None] = {
            chosen.criterion.name: chosen.implementation.verdict(chosen.criterion, output, judge)
            for chosen in assertion_set.assertions
        }
        results.append(
            OutputResult(
                output_id=output.id,
                passed=combine(list(verdicts.values())),
                verdicts=dict(verdicts),
            )
        )
    return results


class StoredAssertionSet(BaseModel):
    """An assertion set as the registry keeps it with a model version (``maas.registry``; here,
    beside the set, so that the client install parses it without the registry)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    model_name: str
    version: int
    assertion_set: AssertionSet
    stored_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


__all__ = [
    "AssertionSet",
    "CandidateFigures",
    "ChosenAssertion",
    "CriterionReport",
    "OutputResult",
    "SelectionReport",
    "StoredAssertionSet",
    "latest_grades",
    "run_assertion_set",
    "select_assertions",
]
