"""Models on the packaging machine's own disk, for offline use: a folder or a GGUF file.

Nothing is copied: the packager reads the folder where it is, and writes only into its own
working directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from maas.exceptions import SourceAccessDenied, SourceNotFound, ValidationError
from maas.packaging.sources.fetched import FetchedSource

if TYPE_CHECKING:
    from schemas.packaging import LocalSource


def fetch_local(source: LocalSource) -> FetchedSource:
    """The local folder or GGUF file, once it is known to be there and readable."""
    path = Path(source.path)
    if not path.exists():
        raise SourceNotFound(f"source.path: {path} does not exist on the packaging machine")
    if path.is_file() and path.suffix.lower() != ".gguf":
        raise ValidationError(
            f"source.path: {path} is a file but not a .gguf model; give a GGUF file or a "
            "folder with config.json and weights"
        )
    if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
        raise SourceAccessDenied(f"source.path: the packaging job may not read {path}")
    return FetchedSource(path=path)


__all__ = ["fetch_local"]
