"""A person's review of an evaluation: the answers to grade, and the grades that resume it.

The workflow waits in *Wait for a person's grades* with a callback token kept on the record
(never shown to callers). :func:`submit_review` checks the grades against the questions
asked, keeps them on the record, and sends the token back with ``SendTaskSuccess``; the
workflow then writes the report with the grades.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from maas.evaluation.evalgen.records import Grade, Thumb
from maas.evaluation.outcome import gather
from maas.evaluation.plan import evaluation_prefix, read_job
from maas.exceptions import Conflict, ValidationError
from schemas.evaluation import (
    EvaluationRecord,
    EvaluationStatus,
    ReviewItem,
    ReviewState,
    ReviewSubmission,
)

if TYPE_CHECKING:
    from maas.evaluation.records import ScoredSample
    from maas.evaluation.store import EvaluationStore


def _awaiting(record: EvaluationRecord) -> ReviewState:
    if record.status is not EvaluationStatus.AWAITING_REVIEW or record.review is None:
        raise Conflict(
            f"evaluation: {record.evaluation_id!r} is {record.status.value}, not AwaitingReview"
        )
    return record.review


def answered(record: EvaluationRecord, *, s3: Any, bucket: str) -> list[ScoredSample]:
    """Every answer of the evaluation with its scores, read from its shards' results."""
    job_uri = evaluation_prefix(bucket, record.tenant_id, record.evaluation_id) + "job.json"
    return gather(read_job(s3, job_uri), record.spec, s3).samples


def review_grades(record: EvaluationRecord) -> list[Grade]:
    """The review's grades as EvalGen grades (an answer's id is the question's), given when
    the record was last written."""
    return [
        Grade(
            output_id=grade.question_id,
            grade=Thumb(grade.grade),
            note=grade.note,
            graded_at=record.updated_at,
        )
        for grade in (record.review.grades if record.review else [])
    ]


def review_items(record: EvaluationRecord, *, s3: Any, bucket: str) -> list[ReviewItem]:
    """The answers the evaluation asks a person to grade, in the order asked."""
    asked = _awaiting(record).question_ids
    by_id = {sample.question.id: sample for sample in answered(record, s3=s3, bucket=bucket)}
    return [
        ReviewItem(
            question_id=question_id,
            question=by_id[question_id].question.question,
            reference=by_id[question_id].question.reference,
            answer=by_id[question_id].answer.answer,
            context_ids=[context.id for context in by_id[question_id].answer.contexts],
            scores=by_id[question_id].scores,
            trace_id=by_id[question_id].answer.trace_id,
        )
        for question_id in asked
        if question_id in by_id
    ]


def submit_review(
    record: EvaluationRecord,
    submission: ReviewSubmission,
    *,
    store: EvaluationStore,
    stepfunctions: Any,
) -> EvaluationRecord:
    """Keep ``submission``'s grades on the record and resume the workflow.

    Every graded id must be one the evaluation asked about (``ValidationError`` names the
    others); an evaluation not waiting for a review is a ``Conflict``.
    """
    review = _awaiting(record)
    asked = review.question_ids
    unknown = sorted({grade.question_id for grade in submission.grades} - set(asked))
    if unknown:
        raise ValidationError(
            f"grades: {', '.join(unknown)} not among the answers to review ({', '.join(asked)})"
        )
    assert record.review is not None
    token = record.review.task_token
    saved = store.save(
        record.model_copy(
            update={
                "status": EvaluationStatus.RUNNING,
                "review": review.model_copy(
                    update={
                        "grades": submission.grades,
                        "reviewer": submission.reviewer,
                        "task_token": None,
                    }
                ),
            }
        ),
        expected={EvaluationStatus.AWAITING_REVIEW},
    )
    stepfunctions.send_task_success(
        taskToken=token,
        output=json.dumps({"requested": True, "graded": len(submission.grades)}),
    )
    return saved


__all__ = ["answered", "review_grades", "review_items", "submit_review"]
