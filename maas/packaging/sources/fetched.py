"""What fetching a source leaves on the packaging machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class FetchedSource:
    """A model on local disk: a Hugging Face-style folder, or one GGUF file.

    Attributes
    ----------
    path
        The folder or the ``.gguf`` file.
    revision
        The commit a Hub revision resolved to; None for other sources.
    sha256
        SHA-256 digests already computed while checking downloads, by name relative to
        ``path``, so that the manifest need not read those files again.
    """

    path: Path
    revision: str | None = None
    sha256: dict[str, str] = field(default_factory=dict)


__all__ = ["FetchedSource"]
