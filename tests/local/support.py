"""Helpers for the local runtime's tests (the fixtures are in ``conftest.py``)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

#: Where the handlers of :mod:`tests.local.handlers` are, as a function's ``Handler``.
HANDLERS = "tests.local.handlers"


def unique(prefix: str) -> str:
    """A name no other test uses: ``prefix`` and a random suffix."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_until(probe: Callable[[], Any], timeout: float = 10, interval: float = 0.05) -> Any:
    """Poll ``probe`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing after {timeout}s from {probe}")
        time.sleep(interval)
