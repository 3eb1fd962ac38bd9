"""A chosen assertion set is stored with its model version and read back unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from maas.endpoints.records import table_arguments
from maas.evaluation.evalgen import (
    CodeImplementation,
    Criterion,
    EvalOutput,
    Grade,
    Thumb,
    grader_candidates,
    select_assertions,
    validate_assertion,
)
from maas.evaluation.evalgen.criteria import Candidates
from maas.exceptions import NotFound
from maas.registry import AssertionSetRegistry, ModelRegistry
from schemas import PackagingRequest
from tests.factories import ARTIFACTS_BUCKET, packaging_request
from tests.unit.evalgen.conftest import ScriptedJudge

if TYPE_CHECKING:
    from maas.evaluation.evalgen import AssertionSet


@pytest.fixture
def registries(aws: None) -> tuple[ModelRegistry, AssertionSetRegistry]:
    client = boto3.client("dynamodb")
    client.create_table(**table_arguments("models"))
    versions = ModelRegistry("models", client)
    versions.open_version(
        PackagingRequest.model_validate(packaging_request()),
        model_name="smollm2",
        correlation_id="run-1",
        execution_arn=None,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    return versions, AssertionSetRegistry("models", client)


def chosen_set() -> AssertionSet:
    outputs = [
        EvalOutput(id="a", input="q", output="short and right"),
        EvalOutput(id="b", input="q", output="far too long an answer for anyone to read"),
    ]
    grades = [Grade(output_id="a", grade=Thumb.UP), Grade(output_id="b", grade=Thumb.DOWN)]
    brief = Criterion(name="brief", description="At most 5 words.", check="code")
    tone = Criterion(name="tone", description="Polite.", check="llm")
    candidates = [
        Candidates(
            criterion=brief,
            implementations=(
                CodeImplementation(assertion=validate_assertion("max_words", {"limit": 5})),
            ),
        ),
        Candidates(criterion=tone, implementations=(*grader_candidates()[:1],)),
    ]

    judge = ScriptedJudge([("Output", lambda prompt: {"passed": "far too long" not in prompt})])
    report = select_assertions("answer briefly", candidates, outputs, grades, judge=judge)
    return report.assertion_set


def test_a_stored_set_round_trips_through_the_registry(
    registries: tuple[ModelRegistry, AssertionSetRegistry],
) -> None:
    versions, sets = registries
    assertion_set = chosen_set()
    stored = sets.store("acme", "smollm2", 1, assertion_set)
    read = sets.get("acme", "smollm2", 1)
    assert read == stored
    assert read.assertion_set == assertion_set
    assert [a.implementation.type for a in read.assertion_set.assertions] == ["code", "llm"]
    # The version list is not disturbed by the set stored beside it.
    assert [record.version for record in versions.list_versions("acme", "smollm2")] == [1]
    assert len(versions.tenant_versions("acme")) == 1


def test_a_set_needs_an_existing_version_and_is_per_tenant(
    registries: tuple[ModelRegistry, AssertionSetRegistry],
) -> None:
    _, sets = registries
    with pytest.raises(NotFound, match="no version 2 of model 'smollm2'"):
        sets.store("acme", "smollm2", 2, chosen_set())
    sets.store("acme", "smollm2", 1, chosen_set())
    with pytest.raises(NotFound, match="no assertion set stored with version 1 of 'smollm2'"):
        sets.get("globex", "smollm2", 1)
