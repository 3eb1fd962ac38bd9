"""A GGUF file (llama.cpp's format): converted to safetensors in bf16 with transformers.

The LMI container serves Hugging Face folders, not GGUF. transformers reads a GGUF file's
tokenizer, config and (de-quantized) weights; the packager saves them as a Hugging Face
folder in bf16. transformers marks a model loaded from GGUF as quantized and refuses to
save it, although its weights are plain bf16 tensors by then: dropping that mark makes the
model an ordinary one, which ``save_pretrained`` writes as safetensors.

The conversion is CPU work of tens of seconds for a small model and needs memory for the
whole model in bf16; torch and transformers are imported only when it runs. Its result is
kept in the model cache, named by the GGUF file's content
(:mod:`~maas.packaging.series.conversion_cache`): packaging the same file again, or loading
it as the local judge, reuses it.
"""

from __future__ import annotations

import functools
import os
import shutil
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from maas.exceptions import UnsupportedArchitecture, ValidationError
from maas.packaging.files import (
    disk_full_as_insufficient_storage,
    ensure_free_space,
    format_size,
)
from maas.packaging.reporting import Stage
from maas.packaging.selection import serving_files
from maas.packaging.series.base import ModelFolder, Series
from maas.packaging.series.conversion_cache import RECORD, cached_conversion
from maas.packaging.series.gguf_metadata import read_gguf_metadata

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from maas.packaging.sources import FetchedSource

ARCHITECTURE_KEY = "general.architecture"
LICENCE_KEY = "general.license"
#: Bytes per parameter of the converted weights (bf16).
BF16_BYTES = 2


@contextmanager
def _tensor_name_maps_built_once() -> Iterator[None]:
    # transformers asks gguf for a TensorNameMap (hundreds of compiled patterns) once per
    # module of the model: a third of a small model's conversion. The map depends only on
    # the architecture and the layer count, so during a conversion it is built once.
    import gguf  # noqa: PLC0415

    original = gguf.get_tensor_name_map
    gguf.get_tensor_name_map = functools.cache(original)
    try:
        yield
    finally:
        gguf.get_tensor_name_map = original


def convert_gguf(gguf: Path, output: Path) -> None:
    """Write the GGUF model at ``gguf`` as a Hugging Face folder (bf16 safetensors) in ``output``.

    Raises
    ------
    UnsupportedArchitecture
        When transformers cannot read the GGUF file's architecture.
    InsufficientStorage
        When ``output``'s disk cannot hold the converted weights.
    """
    # Imported here: torch and transformers take seconds to import, and only this needs them.
    import torch  # noqa: PLC0415
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    try:
        with _tensor_name_maps_built_once():
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model: Any = AutoModelForCausalLM.from_pretrained(
                gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16
            )
    except ValueError as exc:
        if "not supported" not in str(exc):
            raise
        raise UnsupportedArchitecture(f"source: {gguf.name}: {exc}") from exc
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    needed = model.num_parameters() * BF16_BYTES
    output.mkdir(parents=True, exist_ok=True)
    ensure_free_space(output, needed)
    with disk_full_as_insufficient_storage(output, needed):
        model.save_pretrained(output)
        tokenizer.save_pretrained(output)


def _convert_once(gguf: Path, output: Path) -> None:
    """Put ``gguf``'s conversion in ``output``, converting it only when no conversion of the
    same file (by content) is kept (:mod:`~maas.packaging.series.conversion_cache`)."""
    try:
        kept = cached_conversion(gguf, convert_gguf)
    except OSError:
        # No writable cache (a read-only home, say): convert in place, as without one.
        convert_gguf(gguf, output)
        return
    output.mkdir(parents=True, exist_ok=True)
    for item in kept.iterdir():
        if item.name == RECORD:
            continue
        target = output / item.name
        try:
            # A link costs nothing; the packager only reads the files it uploads.
            os.link(item, target)
        except OSError:
            shutil.copy2(item, target)


class GgufFile(Series):
    """One ``.gguf`` file, or a folder holding exactly one and no other weights."""

    name = "gguf"
    converts = True

    @classmethod
    def _gguf(cls, path: Path) -> Path | None:
        if path.is_file():
            return path if path.suffix.lower() == ".gguf" else None
        if not path.is_dir() or any(path.glob("*.safetensors")) or any(path.glob("*.bin")):
            return None
        found = sorted(path.glob("*.gguf"))
        return found[0] if len(found) == 1 else None

    @classmethod
    def matches(cls, path: Path) -> bool:
        """A GGUF file, or a folder with one GGUF file as its only weights."""
        return cls._gguf(path) is not None

    def prepare(self, fetched: FetchedSource, output: Path, progress: Progress) -> ModelFolder:
        """Convert the GGUF file into ``output``."""
        gguf = self._gguf(fetched.path)
        if gguf is None:
            raise ValidationError(f"source: no single GGUF file at {fetched.path}")
        metadata = read_gguf_metadata(gguf, {ARCHITECTURE_KEY, LICENCE_KEY})
        architecture = metadata.get(ARCHITECTURE_KEY, "unknown architecture")
        progress.stage(
            Stage.CONVERTING,
            message=f"{gguf.name} ({architecture}, {format_size(gguf.stat().st_size)}) "
            "to safetensors in bf16",
        )
        _convert_once(gguf, output)
        names = serving_files(item.name for item in output.iterdir() if item.is_file())
        licence = metadata.get(LICENCE_KEY)
        return ModelFolder(
            files={name: output / name for name in names},
            weights=output,
            licence=licence if isinstance(licence, str) else None,
        )


__all__ = ["GgufFile", "convert_gguf"]
