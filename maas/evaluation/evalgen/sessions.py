"""EvalGen through the API: the request bodies, and a session begun from outputs or from an
evaluation.

A session is begun with outputs a caller sends, or with an evaluation's answers: every
answered question becomes an output (the question as input, the reference as reference) and
the grades the evaluation's review holds come with them. Criteria come with their candidate
assertions from the vetted library only; no judge runs behind the API (the local judge
needs torch, which the API's Lambda does not have), so criteria a judge suggests come from
``maas evalgen criteria``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from maas.evaluation.evalgen.assertions import AssertionSpec
from maas.evaluation.evalgen.criteria import Candidates
from maas.evaluation.evalgen.grading import MAX_TASK_LENGTH
from maas.evaluation.evalgen.implementations import CodeImplementation
from maas.evaluation.evalgen.records import (
    CRITERION_NAME_PATTERN,
    SESSION_NAME_PATTERN,
    Criterion,
    EvalOutput,
    Thumb,
)
from maas.evaluation.evalgen.selection import AssertionSet
from maas.exceptions import Conflict
from schemas.common import REQUEST_CONFIG
from schemas.evaluation import EvaluationId, EvaluationStatus

if TYPE_CHECKING:
    from maas.evaluation.evalgen.grading import GradingSession
    from maas.evaluation.evalgen.records import Grade
    from maas.evaluation.evalgen.session_table import SessionTable
    from maas.evaluation.store import EvaluationStore
    from schemas.evaluation import EvaluationRecord

#: Outputs one request may bring: a person grades a sample, and each output is one write.
MAX_OUTPUTS = 1000
#: Evaluations whose answers are all written: waiting for a review, or finished.
_ANSWERED = frozenset(
    {EvaluationStatus.AWAITING_REVIEW, EvaluationStatus.PASSED, EvaluationStatus.GATE_FAILED}
)

SessionName = Annotated[
    str,
    StringConstraints(pattern=SESSION_NAME_PATTERN),
    Field(description="Letters, digits, '-' and '_', at most 64.", examples=["support-v1"]),
]


class SessionSpec(BaseModel):
    """A grading session to begin (or to add outputs to): outputs, or an evaluation's answers."""

    model_config = REQUEST_CONFIG

    name: SessionName
    task: str = Field(
        min_length=1,
        max_length=MAX_TASK_LENGTH,
        description="What the model was asked to do; selection and judges read it.",
    )
    outputs: list[EvalOutput] | None = Field(default=None, min_length=1, max_length=MAX_OUTPUTS)
    evaluation_id: EvaluationId | None = Field(
        default=None,
        description="Take the evaluation's answers as the outputs, with its review's grades.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SessionSpec:
        if (self.outputs is None) == (self.evaluation_id is None):
            raise ValueError("give either outputs or evaluation_id")
        counts = Counter(output.id for output in self.outputs or [])
        twice = sorted(output_id for output_id, count in counts.items() if count > 1)
        if twice:
            raise ValueError(f"output ids must differ; given more than once: {', '.join(twice)}")
        return self


class GradeSpec(BaseModel):
    """A person's thumbs up or down on one output of the session."""

    model_config = REQUEST_CONFIG

    output_id: str = Field(min_length=1, max_length=128)
    grade: Thumb
    note: str | None = Field(default=None, max_length=2000)


class CriterionSpec(BaseModel):
    """A criterion with the assertions from the vetted library to try for it."""

    model_config = REQUEST_CONFIG

    name: str = Field(pattern=CRITERION_NAME_PATTERN, examples=["concise"])
    description: str = Field(min_length=1, max_length=500)
    check: Literal["code", "llm"] = Field(
        default="code", description="Whether code can check it or an LLM must read it."
    )
    assertions: list[AssertionSpec] = Field(
        min_length=1,
        max_length=20,
        description="Candidates, each a vetted kind with its parameters.",
        examples=[[{"kind": "max_words", "limit": 60}]],
    )

    def candidates(self) -> Candidates:
        """The criterion and its candidates, as selection takes them."""
        return Candidates(
            criterion=Criterion(name=self.name, description=self.description, check=self.check),
            implementations=tuple(
                CodeImplementation(assertion=assertion) for assertion in self.assertions
            ),
        )


class CriteriaSpec(BaseModel):
    """The session's criteria, replacing those it had."""

    model_config = REQUEST_CONFIG

    criteria: list[CriterionSpec] = Field(min_length=1, max_length=20)


class AssertionSetChoice(BaseModel):
    """The assertion set to store with a version: a session's latest choice, or a set."""

    model_config = REQUEST_CONFIG

    session: SessionName | None = Field(
        default=None, description="The session whose latest selection chose the set."
    )
    assertion_set: AssertionSet | None = Field(
        default=None, description="A set chosen elsewhere (maas evalgen select)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> AssertionSetChoice:
        if (self.session is None) == (self.assertion_set is None):
            raise ValueError("give either session or assertion_set")
        return self


def evaluation_outputs(
    record: EvaluationRecord, *, s3: Any, bucket: str
) -> tuple[list[EvalOutput], list[Grade]]:
    """An evaluation's answers as outputs, and its review's grades.

    The reviewed answers come first, then the others in question order, at most
    :data:`MAX_OUTPUTS`. :class:`Conflict` until the evaluation's answers are all written.
    """
    # Imported here: the review reads S3 through boto3, and the request bodies above are also
    # the client install's (sdk/python), which has no boto3.
    from maas.evaluation.review import answered, review_grades  # noqa: PLC0415

    if record.status not in _ANSWERED:
        raise Conflict(
            f"evaluation: {record.evaluation_id!r} is {record.status.value}; its answers can "
            "be graded once it awaits a review or has finished"
        )
    reviewed = record.review.question_ids if record.review else []
    rank = {question_id: position for position, question_id in enumerate(reviewed)}
    samples = sorted(
        answered(record, s3=s3, bucket=bucket),
        key=lambda sample: rank.get(sample.question.id, len(rank)),
    )[:MAX_OUTPUTS]
    outputs = [EvalOutput.of_sample(sample) for sample in samples]
    kept = {output.id for output in outputs}
    return outputs, [grade for grade in review_grades(record) if grade.output_id in kept]


def begin_session(
    sessions: SessionTable,
    tenant_id: str,
    spec: SessionSpec,
    *,
    evaluations: EvaluationStore,
    s3: Any,
    bucket: str,
) -> tuple[GradingSession, bool]:
    """Begin the session (or add to it); the session, and whether it is new.

    :class:`Conflict` when it exists for another task or holds an output id with other
    text; :class:`~maas.exceptions.NotFound` for an evaluation the tenant does not have.
    Grades from an evaluation come only with outputs new to the session, so sending the
    same request again adds nothing.
    """
    outputs, grades = (
        evaluation_outputs(evaluations.get(tenant_id, spec.evaluation_id), s3=s3, bucket=bucket)
        if spec.evaluation_id is not None
        else (spec.outputs or [], [])
    )
    session = sessions.session(tenant_id, spec.name)
    held = {output.id for output in session.outputs()}
    created = session.begin(spec.task)
    session.add_outputs(outputs)
    session.add_grades(grade for grade in grades if grade.output_id not in held)
    return session, created


__all__ = [
    "MAX_OUTPUTS",
    "AssertionSetChoice",
    "CriteriaSpec",
    "CriterionSpec",
    "GradeSpec",
    "SessionName",
    "SessionSpec",
    "begin_session",
    "evaluation_outputs",
]
