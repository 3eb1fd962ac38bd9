"""Errors of EvalGen: a proposal that fails validation, a grade of an unknown output."""

from __future__ import annotations

from maas.exceptions import NotFound, ValidationError


class InvalidAssertion(ValidationError):
    """A proposed assertion names no vetted kind or carries parameters that kind refuses.

    The message names the kind and each refused parameter, so the proposal can be fixed or
    dropped; nothing proposed by a judge is ever run before it passes this validation.
    """


class UnknownOutput(NotFound):
    """A grade names an output the grading session does not hold."""


__all__ = ["InvalidAssertion", "UnknownOutput"]
