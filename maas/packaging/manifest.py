"""The files of a package, as its manifest lists them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.packaging.files import sha256_file
from schemas.packaging import PackagedFile

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def packaged_files(files: Mapping[str, Path], known: Mapping[str, str]) -> list[PackagedFile]:
    """Each file's size and SHA-256, sorted by name; ``known`` digests are not computed again.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "config.json")
    ...     _ = path.write_text("{}")
    ...     files = packaged_files({"config.json": path}, {})
    >>> [(item.path, item.size, item.sha256[:8]) for item in files]
    [('config.json', 2, '44136fa3')]
    """
    return [
        PackagedFile(
            path=name,
            size=path.stat().st_size,
            sha256=known.get(name) or sha256_file(path),
        )
        for name, path in sorted(files.items())
    ]


__all__ = ["packaged_files"]
