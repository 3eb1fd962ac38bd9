"""A Hugging Face folder with safetensors weights: served as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.exceptions import ValidationError
from maas.packaging.selection import serving_files
from maas.packaging.series.base import ModelFolder, Series

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from maas.packaging.sources import FetchedSource


class SafetensorsFolder(Series):
    """``config.json``, tokenizer and ``*.safetensors``: nothing to convert or copy."""

    name = "safetensors"

    @classmethod
    def matches(cls, path: Path) -> bool:
        """A folder with safetensors weights."""
        return path.is_dir() and any(path.glob("*.safetensors"))

    def prepare(self, fetched: FetchedSource, output: Path, progress: Progress) -> ModelFolder:
        """The folder's serving files, where they are."""
        folder = fetched.path
        names = serving_files(item.name for item in folder.iterdir() if item.is_file())
        if "config.json" not in names:
            raise ValidationError(f"source: {folder} has safetensors but no config.json")
        return ModelFolder(
            files={name: folder / name for name in names},
            weights=folder,
            sha256={name: fetched.sha256[name] for name in names if name in fetched.sha256},
        )


__all__ = ["SafetensorsFolder"]
