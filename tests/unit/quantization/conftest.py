"""Fixtures for the quantization specs: the demo model, converted once per run."""

from __future__ import annotations

from tests.fixtures.models import converted_smollm2

__all__ = ["converted_smollm2"]
