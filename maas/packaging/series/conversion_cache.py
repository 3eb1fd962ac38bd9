"""Converted models kept on disk, named by what they were converted from, so a conversion runs
once per machine.

Converting a GGUF file to a Hugging Face folder takes tens of seconds of CPU; the same file is
converted again by every packaging of it and by every process that loads it as a judge. The
folder is kept in the model cache (``$MAAS_MODEL_CACHE``, else ``$XDG_CACHE_HOME/maas``, else
``~/.cache/maas``) under the SHA-256 of the source file and the converter's version
(:data:`CONVERTER`, with the transformers version that wrote it): another file, or another
converter, gets a folder of its own, so a kept folder is never stale. A folder appears only
once complete (it is written aside and renamed), and its record (``conversion.json``: source
digest, converter, each file's size) is checked before each use; one that does not match is
converted again. On AWS a job's disk starts empty, and this is an ordinary conversion.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

#: The environment variable naming the folder converted models are kept in.
CACHE_VARIABLE = "MAAS_MODEL_CACHE"
#: The conversion's own version: raise it when :func:`convert_gguf` writes something else.
CONVERTER = "gguf-bf16-1"
RECORD = "conversion.json"
_CHUNK = 1 << 20


def model_cache_directory() -> Path:
    """Where converted models are kept: ``$MAAS_MODEL_CACHE``, ``$XDG_CACHE_HOME/maas``, ..."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "maas"


def file_digest(path: Path) -> str:
    """The SHA-256 of ``path``'s bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def converter_version() -> str:
    """:data:`CONVERTER` and the transformers version behind it."""
    from importlib.metadata import version  # noqa: PLC0415

    return f"{CONVERTER}+transformers-{version('transformers')}"


def cached_conversion(
    source: Path, convert: Callable[[Path, Path], None], cache: Path | None = None
) -> Path:
    """The folder ``convert(source, folder)`` writes, converted once per cache and kept.

    Raises what ``convert`` raises; an :class:`OSError` when the cache cannot be written.
    """
    root = (cache or model_cache_directory()) / "converted"
    digest = file_digest(source)
    version = converter_version()
    key = hashlib.sha256(f"{digest}\n{version}".encode()).hexdigest()[:32]
    folder = root / f"{source.stem.lower()}-{key}"
    if _valid(folder, digest, version):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".converting-"))
    try:
        convert(source, staging)
        record = {
            "source": source.name,
            "sha256": digest,
            "converter": version,
            "files": {item.name: item.stat().st_size for item in staging.iterdir()},
        }
        (staging / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users
        if folder.exists() and not _valid(folder, digest, version):
            shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except OSError:
        if not _valid(folder, digest, version):
            raise
        # Another process converted it first: its folder is as good as ours.
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _valid(folder: Path, digest: str, version: str) -> bool:
    """Whether ``folder`` holds a complete conversion of the file with ``digest``."""
    try:
        record: dict[str, Any] = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        files: dict[str, int] = record["files"]
        return (
            record.get("sha256") == digest
            and record.get("converter") == version
            and bool(files)
            and all((folder / name).stat().st_size == size for name, size in files.items())
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


__all__ = [
    "CACHE_VARIABLE",
    "CONVERTER",
    "cached_conversion",
    "converter_version",
    "file_digest",
    "model_cache_directory",
]
