"""The dataset store on moto: what a failure at each step leaves behind (nothing), and a
delete that finishes what an earlier one could not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from maas.datasets import DatasetStore, numbered_rows, validate_rows
from maas.datasets.store import dataset_folder
from maas.exceptions import Conflict, NotFound
from maas.pipeline.retrieval import read_corpus
from schemas.datasets import DatasetKind, DatasetSource, DatasetStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

TABLE = "models"
BUCKET = "artifacts"
UPLOAD = DatasetSource(type="upload")
ROWS = [{"id": "d1", "text": "One."}, {"id": "d2", "text": "Two."}]


class Failing:
    """A boto3 client whose operation ``fail[operation]`` raises when that holds for the
    call's arguments (the check may act first, as another writer would)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.fail: dict[str, Callable[[dict[str, Any]], bool]] = {}

    def __getattr__(self, operation: str) -> Any:
        real = getattr(self._client, operation)
        if operation not in self.fail:
            return real

        def call(**arguments: Any) -> Any:
            if self.fail[operation](arguments):
                raise RuntimeError(f"{operation} failed")
            return real(**arguments)

        return call


@pytest.fixture
def clients(aws: None) -> Iterator[tuple[Failing, Failing]]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    yield Failing(dynamodb), Failing(s3)


@pytest.fixture
def store(clients: tuple[Failing, Failing]) -> DatasetStore:
    dynamodb, s3 = clients
    return DatasetStore(TABLE, dynamodb, s3, BUCKET)


def _content(rows: list[dict[str, Any]] = ROWS) -> Any:
    return validate_rows(DatasetKind.CORPUS, numbered_rows(rows))


def _left(clients: tuple[Failing, Failing], name: str) -> tuple[list[str], list[str]]:
    dynamodb, s3 = clients
    objects = s3.list_objects_v2(Bucket=BUCKET, Prefix=dataset_folder("acme", name))
    items = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "TENANT#acme"}},
    )["Items"]
    keys = [item["sk"]["S"] for item in items if name in item["sk"]["S"]]
    return [item["Key"] for item in objects.get("Contents", [])], keys


def _is_version(arguments: dict[str, Any]) -> bool:
    return "DATASETVERSION#" in arguments.get("Item", arguments.get("Key", {})).get("sk", {}).get(
        "S", ""
    )


def test_a_first_version_that_cannot_be_recorded_leaves_no_dataset(
    store: DatasetStore, clients: tuple[Failing, Failing]
) -> None:
    clients[0].fail["put_item"] = _is_version

    with pytest.raises(RuntimeError, match="put_item failed"):
        store.create("acme", "kb", DatasetKind.CORPUS, _content(), UPLOAD)

    assert _left(clients, "kb") == ([], [])
    with pytest.raises(NotFound):
        store.get("acme", "kb")


def test_a_version_that_cannot_be_recorded_leaves_the_dataset_as_it_was(
    store: DatasetStore, clients: tuple[Failing, Failing]
) -> None:
    first, _ = store.create("acme", "kb", DatasetKind.CORPUS, _content(), UPLOAD)
    before = _left(clients, "kb")
    clients[0].fail["put_item"] = _is_version

    with pytest.raises(RuntimeError):
        store.add_version(store.get("acme", "kb"), _content(ROWS[:1]), UPLOAD)

    assert _left(clients, "kb") == before
    assert store.get("acme", "kb").latest_version == first.version == 1
    # The number taken is not given again: versions are never renumbered.
    clients[0].fail.clear()
    second, created = store.add_version(store.get("acme", "kb"), _content(ROWS[:1]), UPLOAD)
    assert (second.version, created) == (3, True)


def test_a_delete_between_the_record_and_the_settling_takes_the_version_back(
    store: DatasetStore, clients: tuple[Failing, Failing]
) -> None:
    store.create("acme", "kb", DatasetKind.CORPUS, _content(), UPLOAD)
    before = _left(clients, "kb")
    dataset = store.get("acme", "kb")

    def deleting_meanwhile(arguments: dict[str, Any]) -> None:
        clients[0]._client.update_item(
            TableName=TABLE,
            Key=arguments["Key"],
            UpdateExpression="SET #s = :d",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":d": {"S": "DELETING"}},
        )

    # The version number is taken first (update_item), the settling is the second update.
    calls = {"count": 0}

    def second_update(arguments: dict[str, Any]) -> bool:
        calls["count"] += 1
        if calls["count"] == 2:
            deleting_meanwhile(arguments)
        return False

    clients[0].fail["update_item"] = second_update

    with pytest.raises(Conflict, match="is being deleted"):
        store.add_version(dataset, _content(ROWS[:1]), UPLOAD)

    assert _left(clients, "kb") == before


def test_undoing_a_version_keeps_an_object_another_version_holds(
    store: DatasetStore, clients: tuple[Failing, Failing]
) -> None:
    store.create("acme", "kb", DatasetKind.CORPUS, _content(), UPLOAD)
    held = _left(clients, "kb")[0]
    # Another writer of the very same rows recorded them first; this one fails to settle.
    clients[0].fail["put_item"] = _is_version
    dataset = store.get("acme", "kb")

    with pytest.raises(RuntimeError):
        store._write_version(dataset, _content(), UPLOAD, None)

    assert _left(clients, "kb")[0] == held


def test_a_delete_cut_short_stays_deleting_refuses_versions_and_finishes_when_sent_again(
    store: DatasetStore, clients: tuple[Failing, Failing]
) -> None:
    store.create("acme", "kb", DatasetKind.CORPUS, _content(), UPLOAD)
    store.add_version(store.get("acme", "kb"), _content(ROWS[:1]), UPLOAD)
    clients[1].fail["delete_objects"] = lambda arguments: True

    with pytest.raises(RuntimeError):
        store.delete("acme", "kb")

    dataset = store.get("acme", "kb")
    assert dataset.status is DatasetStatus.DELETING
    with pytest.raises(Conflict, match="is being deleted"):
        store.add_version(dataset, _content([{"id": "d3", "text": "Three."}]), UPLOAD)
    clients[1].fail.clear()
    deleted = store.delete("acme", "kb")
    assert (deleted.versions, deleted.objects) == (2, 2)
    assert _left(clients, "kb") == ([], [])


def test_a_dataset_of_another_tenant_is_not_found_even_in_its_partition(
    store: DatasetStore, clients: tuple[Failing, Failing]
) -> None:
    """A record under acme's key that names another tenant (written by hand, or by a bug)
    is not answered as acme's."""
    store.create("acme", "kb", DatasetKind.CORPUS, _content(), UPLOAD)
    clients[0]._client.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "TENANT#acme"}, "sk": {"S": "DATASET#kb"}},
        UpdateExpression="SET tenant_id = :other",
        ExpressionAttributeValues={":other": {"S": "globex"}},
    )

    with pytest.raises(NotFound):
        store.get("acme", "kb")
    assert store.list_datasets("acme") == []


def test_a_corpus_version_is_a_corpus_an_endpoints_pipeline_reads(
    store: DatasetStore, clients: tuple[Failing, Failing]
) -> None:
    version, _ = store.create("acme", "kb", DatasetKind.CORPUS, _content(), UPLOAD)

    documents = read_corpus(version.uri, s3=clients[1])

    assert [document.id for document in documents] == ["d1", "d2"]
