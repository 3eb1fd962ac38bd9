"""Parsing helpers for the events Step Functions sends to task handlers."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict

from maas.exceptions import ValidationError
from schemas import CorrelationId


class StepInput(BaseModel):
    """Base of a task's input: what the state machine's ``Parameters`` build, exactly."""

    model_config = ConfigDict(extra="forbid")


class VersionPlanInput(StepInput):
    """The input of a step that opens a model version for its workflow's request: the
    request as the workflow got it (parsed by the step), and the execution that runs it."""

    request: dict[str, Any]
    correlation_id: CorrelationId
    execution_arn: str


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


__all__ = ["StepInput", "VersionPlanInput", "int_setting"]
