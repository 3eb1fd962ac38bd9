"""Model series: each kind of source, and how it becomes a folder the LMI container serves.

The series of a fetched source is the first of :data:`SERIES` that matches it: a
safetensors folder is served as it is (:mod:`~maas.packaging.series.folder`), PyTorch
``.bin`` shards become safetensors (:mod:`~maas.packaging.series.pytorch`), and a GGUF
file is converted to safetensors in bf16 (:mod:`~maas.packaging.series.gguf`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.exceptions import ValidationError
from maas.packaging.series.base import ModelFolder, Series
from maas.packaging.series.folder import SafetensorsFolder
from maas.packaging.series.gguf import GgufFile, convert_gguf
from maas.packaging.series.pytorch import PytorchFolder

if TYPE_CHECKING:
    from pathlib import Path

#: The series, most specific first.
SERIES: tuple[type[Series], ...] = (SafetensorsFolder, PytorchFolder, GgufFile)


def series_of(path: Path) -> Series:
    """The series of the fetched source at ``path``.

    Raises
    ------
    ValidationError
        When ``path`` holds no weights the packager can serve.
    """
    for series in SERIES:
        if series.matches(path):
            return series()
    raise ValidationError(
        f"source: no safetensors, PyTorch or (single) GGUF weights at {path.name or path}"
    )


__all__ = [
    "SERIES",
    "GgufFile",
    "ModelFolder",
    "PytorchFolder",
    "SafetensorsFolder",
    "Series",
    "convert_gguf",
    "series_of",
]
