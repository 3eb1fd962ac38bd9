"""Files on the packaging machine: their digests, and the disk they need.

A model is tens of gigabytes; the job checks the free space before it downloads or converts
and, should the disk fill up all the same, says so as :class:`~maas.exceptions.InsufficientStorage`
with the bytes it needed and had, rather than as a bare ``OSError``.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
from contextlib import contextmanager
from typing import TYPE_CHECKING

from maas.exceptions import InsufficientStorage

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Bytes read at a time when hashing: large enough that hashing runs at memory speed.
READ_CHUNK = 8 * 1024 * 1024

_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, hex.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "a.txt")
    ...     _ = path.write_bytes(b"abc")
    ...     sha256_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def format_size(size: int) -> str:
    """A byte count as a person reads it (decimal units, as disks and networks count).

    Examples
    --------
    >>> format_size(0), format_size(999), format_size(1_500_000), format_size(18_200_000_000)
    ('0 B', '999 B', '1.5 MB', '18.2 GB')
    """
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def free_space(directory: Path) -> int:
    """Bytes free to this process on the file system that holds ``directory``."""
    return shutil.disk_usage(directory).free


def _insufficient(directory: Path, needed: int, available: int) -> InsufficientStorage:
    return InsufficientStorage(
        f"not enough disk under {directory}: needs {format_size(needed)} ({needed} bytes), "
        f"{format_size(available)} ({available} bytes) available"
    )


def ensure_free_space(directory: Path, needed: int) -> None:
    """Raise :class:`~maas.exceptions.InsufficientStorage` unless ``needed`` bytes are free."""
    available = free_space(directory)
    if available < needed:
        raise _insufficient(directory, needed, available)


@contextmanager
def disk_full_as_insufficient_storage(directory: Path, needed: int) -> Iterator[None]:
    """Turn a full disk (``ENOSPC``, ``EDQUOT``) under the block into ``InsufficientStorage``.

    Other errors pass through unchanged.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        raise _insufficient(directory, needed, free_space(directory)) from exc


__all__ = [
    "READ_CHUNK",
    "disk_full_as_insufficient_storage",
    "ensure_free_space",
    "format_size",
    "free_space",
    "sha256_file",
]
