"""A handler that does nothing but answer, so a benchmark measures the runtime around it."""

from __future__ import annotations

from typing import Any


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return the event."""
    return event
