"""Reversible patches of moto internals, applied for as long as a runtime is up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from unittest import mock

if TYPE_CHECKING:
    from contextlib import AbstractContextManager


def replace(owner: object, attribute: str, value: object) -> AbstractContextManager[Any]:
    """Set ``owner.attribute`` to ``value`` until the returned context exits."""
    return mock.patch.object(owner, attribute, value)


def add(owner: object, attribute: str, value: object) -> AbstractContextManager[Any]:
    """Give ``owner`` the ``attribute`` moto lacks (an API it does not implement) until exit."""
    return mock.patch.object(owner, attribute, value, create=True)


def extend(mapping: dict[str, Any], entries: dict[str, Any]) -> AbstractContextManager[Any]:
    """Add ``entries`` to ``mapping`` until the returned context exits."""
    return mock.patch.dict(mapping, entries)


__all__ = ["add", "extend", "replace"]
