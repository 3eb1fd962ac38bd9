"""Parsing helpers for the events Step Functions sends to task handlers."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict

from maas.exceptions import ValidationError


class StepInput(BaseModel):
    """Base of a task's input: what the state machine's ``Parameters`` build, exactly."""

    model_config = ConfigDict(extra="forbid")


def int_setting(name: str) -> int:
    """A positive integer from the function's environment, or a clear error at cold start."""
    raw = os.environ.get(name)
    try:
        value = int(raw or "")
    except ValueError:
        raise ValidationError(f"{name}: expected a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValidationError(f"{name}: expected a positive integer, got {value}")
    return value


__all__ = ["StepInput", "int_setting"]
