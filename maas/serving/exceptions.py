"""Errors of the inference server, each with the HTTP status it answers with.

Examples
--------
>>> BadRequest("parameters.temperature: Input should be greater than or equal to 0").status
400
"""

from __future__ import annotations

from typing import ClassVar


class ServingError(Exception):
    """Root of the errors the inference server raises on purpose."""

    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ServingError):
    """The request cannot be served as sent; the message names the field at fault."""

    status = 400


class ModelLoadError(ServingError):
    """The model directory cannot be loaded: the container never becomes healthy."""


__all__ = ["BadRequest", "ModelLoadError", "ServingError"]
