"""Criteria and their candidate implementations, as the judge suggests them.

EvalGen's first step: from the task and a few sample outputs, the judge suggests what a good
output does; a person may add criteria of their own. Then, per criterion, the judge proposes
code assertions as a kind from the vetted library plus parameters (validated before use, a
proposal that fails validation is kept as a rejection with its reason), and the grader
phrasings are added as LLM candidates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from maas.evaluation.evalgen.assertions import catalog, validate_assertion
from maas.evaluation.evalgen.exceptions import InvalidAssertion
from maas.evaluation.evalgen.implementations import (
    CodeImplementation,
    GraderImplementation,
    grader_candidates,
)
from maas.evaluation.evalgen.records import CRITERION_NAME_PATTERN, Criterion

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.evaluation.evalgen.records import EvalOutput
    from maas.evaluation.judging import Judge

#: Sample outputs shown to the judge when it suggests criteria; more would crowd a small model.
MAX_SAMPLES_SHOWN = 3
_SAMPLE_CHARS = 400


class CriterionProposal(BaseModel):
    """One criterion as the judge suggests it."""

    name: str = Field(pattern=CRITERION_NAME_PATTERN)
    description: str = Field(min_length=1, max_length=500)
    check: Literal["code", "llm"]


class CriteriaAnswer(BaseModel):
    """The judge's suggested criteria."""

    criteria: list[CriterionProposal] = Field(min_length=1, max_length=8)


class AssertionProposal(BaseModel):
    """A code assertion as the judge proposes it: a vetted kind and its parameters."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    params: dict[str, str | int | float | bool | list[str]] = Field(default_factory=dict)


class AssertionsAnswer(BaseModel):
    """The judge's proposed code assertions for one criterion."""

    assertions: list[AssertionProposal] = Field(max_length=5)


class RejectedProposal(BaseModel):
    """A proposal that failed validation, and why."""

    kind: str
    params: dict[str, Any]
    reason: str


class Candidates(BaseModel):
    """A criterion with every implementation worth trying, and the proposals refused."""

    model_config = ConfigDict(frozen=True)

    criterion: Criterion
    implementations: tuple[CodeImplementation | GraderImplementation, ...]
    rejected: tuple[RejectedProposal, ...] = ()


def suggest_criteria(
    judge: Judge,
    task: str,
    samples: Sequence[EvalOutput],
    *,
    user_criteria: Sequence[Criterion] = (),
) -> list[Criterion]:
    """The judge's criteria for ``task`` followed by the user's; a user's name wins a clash."""
    shown = "\n\n".join(
        f"Input: {sample.input[:_SAMPLE_CHARS]}\nOutput: {sample.output[:_SAMPLE_CHARS]}"
        for sample in samples[:MAX_SAMPLES_SHOWN]
    )
    prompt = (
        f"Task given to a language model: {task}\n\nSample outputs:\n{shown}\n\n"
        "List 2 to 5 criteria a good output meets. For each give a snake_case name, a one "
        'sentence description and check: "code" if a simple program could check it (length, '
        'format, required or forbidden words) or "llm" if it needs reading. Answer as JSON: '
        '{"criteria": [{"name": ..., "description": ..., "check": ...}]}'
    )
    answer = judge.ask(prompt, CriteriaAnswer, max_new_tokens=400)
    own = {criterion.name for criterion in user_criteria}
    suggested = [
        Criterion(name=item.name, description=item.description, check=item.check)
        for item in answer.criteria
        if item.name not in own
    ]
    unique = {criterion.name: criterion for criterion in suggested}
    return [*unique.values(), *user_criteria]


def propose_code_assertions(
    judge: Judge, task: str, criterion: Criterion
) -> tuple[list[CodeImplementation], list[RejectedProposal]]:
    """The judge's code assertions for ``criterion``: those that validated, and the rest."""
    prompt = (
        f"Task: {task}\nCriterion {criterion.name}: {criterion.description}\n\n"
        "Propose up to 3 checks for this criterion, each one of these kinds with its "
        f"parameters:\n{catalog()}\n\n"
        'Answer as JSON: {"assertions": [{"kind": ..., "params": {...}}]}'
    )
    answer = judge.ask(prompt, AssertionsAnswer, max_new_tokens=300)
    accepted: list[CodeImplementation] = []
    rejected: list[RejectedProposal] = []
    for proposal in answer.assertions:
        try:
            spec = validate_assertion(proposal.kind, dict(proposal.params))
        except InvalidAssertion as error:
            rejected.append(
                RejectedProposal(kind=proposal.kind, params=proposal.params, reason=error.message)
            )
            continue
        implementation = CodeImplementation(assertion=spec)
        if implementation not in accepted:
            accepted.append(implementation)
    return accepted, rejected


def candidates_for(
    judge: Judge | None,
    task: str,
    criterion: Criterion,
    *,
    extra: Sequence[CodeImplementation] = (),
    graders: bool = True,
) -> Candidates:
    """Every implementation to try for ``criterion``.

    ``extra`` are a person's own assertions. Without a judge only they are tried.
    """
    code = list(extra)
    rejected: list[RejectedProposal] = []
    if judge is not None:
        proposed, rejected = propose_code_assertions(judge, task, criterion)
        code += [implementation for implementation in proposed if implementation not in code]
    llm = grader_candidates() if graders and judge is not None else []
    return Candidates(criterion=criterion, implementations=(*code, *llm), rejected=tuple(rejected))


__all__ = [
    "MAX_SAMPLES_SHOWN",
    "AssertionProposal",
    "AssertionsAnswer",
    "Candidates",
    "CriteriaAnswer",
    "CriterionProposal",
    "RejectedProposal",
    "candidates_for",
    "propose_code_assertions",
    "suggest_criteria",
]
