"""The ``assertions`` metric: a version's stored EvalGen set, run on every answer."""

from __future__ import annotations

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.evaluation.evalgen.alignment import alignment_figures
from maas.evaluation.evalgen.assertions import validate_assertion
from maas.evaluation.evalgen.implementations import CodeImplementation
from maas.evaluation.evalgen.records import Criterion
from maas.evaluation.evalgen.selection import AssertionSet, ChosenAssertion
from maas.evaluation.plan import EvaluationJob
from maas.evaluation.records import PipelineAnswer, QuestionRecord
from maas.evaluation.scoring import scorer_for
from maas.registry import ModelRegistry
from maas.registry.assertion_sets import AssertionSetRegistry
from schemas import PackagingRequest
from schemas.packaging import ApprovalStatus
from schemas.pipeline import PipelineSpec
from tests.factories import ARTIFACTS_BUCKET, package_manifest, packaging_request

#: The set agreed with two grades: the short answer up, the long one down.
FIGURES = alignment_figures({"a": True, "b": False}, {"a": True, "b": False})
SHORT = AssertionSet(
    task="answer in a few words",
    assertions=(
        ChosenAssertion(
            criterion=Criterion(name="short", description="At most five words.", check="code"),
            implementation=CodeImplementation(
                assertion=validate_assertion("max_words", {"limit": 5})
            ),
            figures=FIGURES,
        ),
    ),
    figures=FIGURES,
)


def job(version: str = "1") -> EvaluationJob:
    return EvaluationJob(
        tenant_id="acme",
        evaluation_id="e1",
        endpoint_name="chat",
        sagemaker_endpoint_name="acme-chat-c7bee5eb",
        model_id="smollm2",
        model_version=version,
        pipeline=PipelineSpec(),
        metrics=["assertions"],
        judge=None,
        shard_uris=["s3://b/evaluations/acme/e1/shards/0000.jsonl"],
    )


def answered(*answers: str) -> list[tuple[QuestionRecord, PipelineAnswer]]:
    return [
        (QuestionRecord(id=f"q{n}", question="?", reference="!"), PipelineAnswer(answer=answer))
        for n, answer in enumerate(answers)
    ]


@pytest.fixture
def assertion_sets(aws: None) -> AssertionSetRegistry:
    client = boto3.client("dynamodb")
    client.create_table(**table_arguments("models"))
    registry = ModelRegistry("models", client)
    request = PackagingRequest.model_validate(packaging_request(model_name="smollm2"))
    record = registry.open_version(
        request,
        model_name="smollm2",
        correlation_id="pkg-1",
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    registry.mark_registered(
        package_manifest(record),
        model_package_arn="arn:pkg",
        approval_status=ApprovalStatus.APPROVED,
    )
    return AssertionSetRegistry("models", client)


def test_each_answer_scores_one_when_every_assertion_passes(
    assertion_sets: AssertionSetRegistry,
) -> None:
    assertion_sets.store("acme", "smollm2", 1, SHORT)
    scorer = scorer_for(job(), assertion_sets=assertion_sets)

    samples, usage, judge = scorer(
        answered("Paris.", "It is the city of Paris, in France."), ["assertions"]
    )

    assert [sample.scores for sample in samples] == [{"assertions": 1.0}, {"assertions": 0.0}]
    assert (usage.calls, judge) == (0, None)


def test_a_version_without_a_set_fails_the_metric_saying_why(
    assertion_sets: AssertionSetRegistry,
) -> None:
    scorer = scorer_for(job(), assertion_sets=assertion_sets)

    (sample,), _, _ = scorer(answered("Paris."), ["assertions"])

    assert sample.scores == {}
    assert "no assertion set stored with version 1" in sample.failures["assertions"]
