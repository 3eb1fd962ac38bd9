"""DynamoDB on the local runtime: a conditional write is atomic, as on AWS.

Before the runtime serialised moto's item operations, threads racing on one conditional
``UpdateItem`` could all pass its condition, and a counter capped at 10 ended above it.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from maas.aws import error_code
from tests.local.support import unique

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from maas.local import LocalRuntime

CAP = 10
WRITERS = 40


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Switch threads as often as the interpreter can, to widen any race."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def _capped_increments(dynamodb: Any, table: str) -> int:
    """Increment one counter from :data:`WRITERS` threads, each under the cap; count admitted."""
    start = threading.Barrier(WRITERS)

    def increment(_: int) -> bool:
        start.wait()
        try:
            dynamodb.update_item(
                TableName=table,
                Key={"pk": {"S": "counter"}, "sk": {"S": "counter"}},
                UpdateExpression="ADD taken :one SET #writer = :one",
                ConditionExpression="attribute_not_exists(taken) OR taken < :cap",
                ExpressionAttributeNames={"#writer": "last_writer"},
                ExpressionAttributeValues={":one": {"N": "1"}, ":cap": {"N": str(CAP)}},
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    with ThreadPoolExecutor(WRITERS) as pool:
        return sum(pool.map(increment, range(WRITERS)))


def _table(dynamodb: Any) -> str:
    name = unique("counters")
    dynamodb.create_table(
        TableName=name,
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
    return name


def _stored(dynamodb: Any, table: str) -> int:
    item = dynamodb.get_item(
        TableName=table,
        Key={"pk": {"S": "counter"}, "sk": {"S": "counter"}},
        ConsistentRead=True,
    )["Item"]
    return int(item["taken"]["N"])


@pytest.mark.usefixtures("switch_often")
@pytest.mark.parametrize("path", ["in process", "over HTTP"])
def test_racing_conditional_increments_admit_exactly_the_cap(
    runtime: LocalRuntime, path: str
) -> None:
    clients: dict[str, Callable[[], Any]] = {
        "in process": lambda: runtime.client("dynamodb"),
        "over HTTP": lambda: boto3.client(
            "dynamodb",
            endpoint_url=runtime.endpoint_url(),
            region_name=runtime.settings.region,
            config=Config(max_pool_connections=WRITERS),
        ),
    }
    dynamodb = clients[path]()
    table = _table(dynamodb)

    for _ in range(3):  # a race lost once is a race; three rounds make it likely to show
        admitted = _capped_increments(dynamodb, table)
        assert _stored(dynamodb, table) == CAP
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": "counter"}, "sk": {"S": "counter"}},
            UpdateExpression="SET taken = :zero",
            ExpressionAttributeValues={":zero": {"N": "0"}},
        )
        assert admitted == CAP
