"""An evaluation that names a dataset version as its question set: planned from the version
as stored (its sha256 checked), only the tenant's, only a question set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pydantic
import pytest

from maas.datasets import DatasetStore, numbered_rows, object_key, validate_rows
from maas.evaluation.metric_names import METRIC_NAMES
from maas.evaluation.plan import plan_evaluation, read_job
from maas.exceptions import IntegrityError, NotFound, ValidationError
from schemas.datasets import DatasetKind, DatasetSource
from schemas.evaluation import EvaluationRequest, EvaluationSpec
from tests.factories import ARTIFACTS_BUCKET
from tests.unit.evaluation.test_evaluation_steps import QUESTIONS, World

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maas.evaluation.plan import EvaluationPlan


@pytest.fixture
def world(aws: None) -> Iterator[World]:
    made = World()
    made.serve()
    yield made


@pytest.fixture
def datasets(world: World) -> DatasetStore:
    store = DatasetStore("models", world.dynamodb, world.s3, ARTIFACTS_BUCKET)
    for tenant, name, kind, rows in (
        ("acme", "qa", DatasetKind.QUESTION_SET, QUESTIONS),
        ("acme", "kb", DatasetKind.CORPUS, [{"id": "d", "text": "Two plus two is four."}]),
        ("globex", "theirs", DatasetKind.QUESTION_SET, QUESTIONS[:1]),
    ):
        content = validate_rows(kind, numbered_rows(rows))
        store.create(tenant, name, kind, content, DatasetSource(type="upload"))
    return store


def _plan(world: World, datasets: DatasetStore, dataset: dict[str, Any]) -> EvaluationPlan:
    request = EvaluationRequest.model_validate(
        {
            "tenant_id": "acme",
            "evaluation_id": "e1",
            "endpoint_name": "chat",
            "dataset": dataset,
            "metrics": ["exact_match"],
            "shard_size": 2,
        }
    )
    return plan_evaluation(
        request,
        endpoints=world.endpoints,
        pipelines=world.pipelines,
        store=world.store,
        s3=world.s3,
        bucket=ARTIFACTS_BUCKET,
        correlation_id="eval-run-1",
        known_metrics=METRIC_NAMES,
        datasets=datasets,
    )


def test_a_dataset_version_is_the_evaluations_question_set(
    world: World, datasets: DatasetStore
) -> None:
    plan = _plan(world, datasets, {"name": "qa", "version": 1})

    record = world.store.get("acme", "e1")
    assert record.questions == len(QUESTIONS)
    assert record.spec.dataset is not None
    assert (record.spec.dataset.name, record.spec.dataset.version) == ("qa", 1)
    assert record.spec.question_set_uri is None
    asked = []
    for uri in read_job(world.s3, plan.job_uri).shard_uris:
        key = uri.removeprefix(f"s3://{ARTIFACTS_BUCKET}/")
        body = world.s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=key)["Body"].read().decode()
        asked += [line for line in body.splitlines() if line]
    assert [line.split('"')[3] for line in asked] == [row["id"] for row in QUESTIONS]


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ({"name": "never", "version": 1}, "dataset: no dataset 'never' for this tenant"),
        ({"name": "qa", "version": 2}, "dataset: no version 2 of dataset 'qa'"),
        # Another tenant's dataset is a missing one.
        ({"name": "theirs", "version": 1}, "dataset: no dataset 'theirs' for this tenant"),
    ],
)
def test_a_version_the_tenant_does_not_have_is_not_found_and_nothing_is_recorded(
    world: World, datasets: DatasetStore, dataset: dict[str, Any], message: str
) -> None:
    with pytest.raises(NotFound) as missing:
        _plan(world, datasets, dataset)

    assert missing.value.message == message
    with pytest.raises(NotFound):
        world.store.get("acme", "e1")


def test_a_dataset_of_another_kind_is_refused(world: World, datasets: DatasetStore) -> None:
    with pytest.raises(ValidationError, match="dataset: 'kb' holds corpus rows, not a"):
        _plan(world, datasets, {"name": "kb", "version": 1})


def test_an_object_changed_under_its_version_fails_integrity(
    world: World, datasets: DatasetStore
) -> None:
    version = datasets.get_version("acme", "qa", 1)
    world.s3.put_object(
        Bucket=ARTIFACTS_BUCKET,
        Key=object_key("acme", "qa", version.sha256),
        Body=b'{"id":"x","question":"Injected?","reference":"yes","reference_contexts":[]}\n',
    )

    with pytest.raises(IntegrityError, match="reads as sha256"):
        _plan(world, datasets, {"name": "qa", "version": 1})


@pytest.mark.parametrize(
    "questions",
    [{}, {"question_set_uri": "s3://bucket/acme/q.jsonl", "dataset": {"name": "qa", "version": 1}}],
)
def test_an_evaluation_names_its_questions_one_way(questions: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError, match="question_set_uri or by dataset"):
        EvaluationSpec.model_validate({"endpoint_name": "chat", **questions})
