"""Parse input at a boundary into a contract model, or fail with ``Maas.ValidationError``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import pydantic

from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
T = TypeVar("T")


def describe_errors(errors: list[ErrorDetails]) -> str:
    """One line per problem, each starting with the dotted path of the field.

    Examples
    --------
    >>> describe_errors([{"loc": ("model", "version"), "msg": "Field required",
    ...                   "type": "missing", "input": {}}])
    'model.version: Field required'
    """
    lines = []
    for error in errors:
        field = ".".join(str(part) for part in error["loc"]) or "request"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{field}: {message}")
    return "; ".join(lines)


def parse(model: type[ModelT], data: Any) -> ModelT:
    """Validate ``data`` as ``model``; raise :class:`ValidationError` naming each bad field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(describe_errors(exc.errors())) from None


def parse_as(adapter: pydantic.TypeAdapter[T], data: Any) -> T:
    """Like :func:`parse`, for a type that is not a model (a union of models, say)."""
    try:
        return adapter.validate_python(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(describe_errors(exc.errors())) from None


__all__ = ["describe_errors", "parse", "parse_as"]
