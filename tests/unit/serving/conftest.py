"""Fixtures for the serving container's tests: a tiny packaged model, loaded once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.serving.model import ServedModel
from maas.serving.service import InferenceService

# A fixture shared with the local runtime's tests, made visible here by importing it.

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="session")
def served_model(tiny_model_dir: Path) -> ServedModel:
    """The tiny model, loaded."""
    return ServedModel.load(tiny_model_dir)


@pytest.fixture(scope="session")
def service(served_model: ServedModel) -> Iterator[InferenceService]:
    """Invocations answered by the tiny model."""
    running = InferenceService(served_model)
    yield running
    running.close()
