"""What every model series turns its source into: a folder ready to serve."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from maas.packaging.sources import FetchedSource


@dataclass(frozen=True)
class ModelFolder:
    """A model as the serving container loads it: ``config.json``, tokenizer, safetensors.

    Attributes
    ----------
    files
        The package's files: the name under the version's prefix, and where it is on disk.
    weights
        The folder that holds the safetensors shards (and nothing else named so).
    licence
        The licence the weights' own metadata names, when it names one.
    sha256
        Digests already known, by package name.
    """

    files: dict[str, Path]
    weights: Path
    licence: str | None = None
    sha256: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        """The model's ``config.json``."""
        if "config.json" not in self.files:
            raise ValidationError("source: the model has no config.json")
        config: dict[str, Any] = json.loads(self.files["config.json"].read_text())
        return config


class Series(ABC):
    """One family of model sources and how it becomes a :class:`ModelFolder`."""

    #: The series' name, in progress messages and the manifest's advisor notes.
    name: ClassVar[str]
    #: Whether preparing it converts weights (a stage of its own in the job's progress).
    converts: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def matches(cls, path: Path) -> bool:
        """Whether the fetched source at ``path`` belongs to this series."""

    @abstractmethod
    def prepare(self, fetched: FetchedSource, output: Path, progress: Progress) -> ModelFolder:
        """Make the folder to serve; anything written goes under ``output``."""


__all__ = ["ModelFolder", "Series"]
