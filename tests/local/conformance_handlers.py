"""Lambda handlers for the conformance tests: each returns or raises one thing AWS's Python
runtime treats in a documented way (``tests/local/test_conformance_lambda.py``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NamedTuple

import boto3


class Point(NamedTuple):
    """A named tuple, as a handler might answer one."""

    x: int
    y: int


def return_bytes(event: dict[str, Any], context: Any) -> bytes:
    """Answer the bytes the event names (text, encoded)."""
    return str(event["text"]).encode()


def return_decimals(event: Any, context: Any) -> dict[str, Decimal]:
    """Answer numbers as boto3 reads them from DynamoDB."""
    return {"price": Decimal("1.10"), "count": Decimal("3")}


def return_text(event: Any, context: Any) -> dict[str, str]:
    """Answer text outside ASCII."""
    return {"name": "café ☕"}


def _parse(text: str) -> Any:
    return json.loads(text)


def raise_from_a_helper(event: Any, context: Any) -> Any:
    """Fail two frames down, in the standard library."""
    return _parse("not json")


def request_id(event: Any, context: Any) -> str:
    """Answer the invocation's request id."""
    print("the handler ran")
    return str(context.aws_request_id)


def return_named_tuple(event: Any, context: Any) -> dict[str, Any]:
    """Answer named tuples, alone and in a list."""
    return {"point": Point(1, 2), "path": [Point(0, 0)], "pair": (1, 2)}


def call_an_unknown_service(event: Any, context: Any) -> Any:
    """Fail inside an installed package (boto3)."""
    service: Any = "no-such-service"
    return boto3.client(service)
