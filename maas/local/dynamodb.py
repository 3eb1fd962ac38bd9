"""DynamoDB on the local runtime: one item operation at a time, as atomic as on AWS.

Why this exists: DynamoDB applies a write to an item atomically, its condition included, and
a read sees an item before or after a write, never halfway. moto does neither under threads:
its ``UpdateItem`` checks the condition, then applies the ``SET`` clauses one by one, with no
lock, so two conditional writes that race can both pass their condition (two deployments
both taking the last unit of a tenant's quota) and a read can see part of a write. The local
runtime runs workflows, Lambda handlers and the API on many threads, in process and behind
the threaded server, so every item operation of moto's DynamoDB backend is serialised here
under one lock. Both paths reach the same backend, so one patch covers both.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import TYPE_CHECKING, Any

from moto.dynamodb.models import DynamoDBBackend

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

#: The backend's operations on items. Writes so that a condition and its write are one step;
#: reads so that none sees a write half applied. Reentrant: ``TransactWriteItems`` and the
#: PartiQL batch call the single-item operations themselves.
SERIALISED = (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
    "get_item",
    "batch_get_item",
    "transact_get_items",
    "query",
    "scan",
)


def install(stack: ExitStack) -> None:
    """Serialise moto's DynamoDB item operations until ``stack`` closes."""
    lock = threading.RLock()
    for name in SERIALISED:
        stack.enter_context(
            replace(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name), lock))
        )


def _serialised(operation: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(operation)
    def under_lock(*args: Any, **kwargs: Any) -> Any:
        with lock:
            # moto answers with its live items and serialises them after the call returns:
            # a copy taken under the lock is what the item was, not what a later write makes
            # of it while it is being read.
            return copy.deepcopy(operation(*args, **kwargs))

    return under_lock


__all__ = ["SERIALISED", "install"]
