"""pydantic documents as DynamoDB items and back, for the registries' tables.

DynamoDB has no float type and wants every attribute typed; records are pydantic models.
These two functions are the only place where one becomes the other.

Examples
--------
>>> from pydantic import BaseModel
>>> class Point(BaseModel):
...     name: str
...     weight: float
>>> item = to_item(Point(name="a", weight=0.5), {"pk": "P#a", "sk": "POINT"})
>>> item["weight"], item["pk"]
({'N': '0.5'}, {'S': 'P#a'})
>>> from_item(item, Point)
Point(name='a', weight=0.5)
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Mapping

ModelT = TypeVar("ModelT", bound=BaseModel)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

#: Attributes that address an item rather than describe it.
KEY_ATTRIBUTES = ("pk", "sk")


def key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    """A table key of string ``pk`` and ``sk``."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def to_item(document: BaseModel, item_key: Mapping[str, str]) -> dict[str, Any]:
    """``document`` as a typed item, with ``item_key`` (attribute -> string) added."""
    # Through JSON, so datetimes become strings and floats become Decimals.
    values = json.loads(document.model_dump_json(exclude_none=True), parse_float=Decimal)
    item = {name: _serializer.serialize(value) for name, value in values.items()}
    return item | {name: {"S": value} for name, value in item_key.items()}


def to_value(value: Any) -> dict[str, Any]:
    """One attribute value (JSON-compatible) as DynamoDB types it."""
    serialized = _serializer.serialize(json.loads(json.dumps(value), parse_float=Decimal))
    return dict(serialized)


def from_item(item: Mapping[str, Any], model: type[ModelT]) -> ModelT:
    """The document an item holds, key attributes left out."""
    values = {
        name: _deserializer.deserialize(value)
        for name, value in item.items()
        if name not in KEY_ATTRIBUTES
    }
    return model.model_validate(json.loads(json.dumps(values, default=_number)))


def _number(value: object) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


__all__ = ["KEY_ATTRIBUTES", "from_item", "key", "to_item", "to_value"]
