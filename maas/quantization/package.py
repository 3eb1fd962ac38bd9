"""The packaging job's quantization step: the parent's package in, a quantized folder out.

The ``quantize_model`` workflow hands the packaging job a parent version's package as its
source and a :class:`~schemas.quantization.VersionLineage`. After the source is fetched,
:func:`make_quantized_version` quantizes it, measures both folders' weight bytes and their
perplexity on the bundled text, and returns what the job sizes and uploads instead, with the
lineage completed by the measurements.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maas.packaging.files import format_size
from maas.packaging.reporting import Stage
from maas.packaging.selection import split_weights
from maas.quantization.perplexity import EVALUATION_TEXT, perplexity
from maas.quantization.quantize import library_version, quantize_folder
from schemas.quantization import QuantizationMeasurements

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from maas.packaging.series.base import ModelFolder
    from schemas.quantization import VersionLineage


@dataclass(frozen=True)
class QuantizedVersion:
    """What the packaging job packages for a quantized version.

    Attributes
    ----------
    folder
        The quantized checkpoint, uploaded as the version's package; the advisor sizes it from
        its ``quantization_config`` and its safetensors headers (its real bytes per
        parameter), and writes no ``option.quantize`` for it: vLLM reads the scheme from
        ``config.json``.
    lineage
        The lineage with the measurements.
    """

    folder: ModelFolder
    lineage: VersionLineage


def weight_bytes(folder: ModelFolder) -> int:
    """Bytes of the folder's weight files (safetensors shards and their index)."""
    _, weights = split_weights(folder.files)
    return sum(folder.files[name].stat().st_size for name in weights)


def make_quantized_version(
    folder: ModelFolder, lineage: VersionLineage, workdir: Path, progress: Progress
) -> QuantizedVersion:
    """Quantize ``folder`` as ``lineage`` says, measure it against ``folder``, and return it.

    Raises
    ------
    ValidationError
        The parent is quantized already, or the settings do not fit the model.
    """
    started = time.monotonic()
    settings = lineage.settings
    progress.stage(Stage.QUANTIZING, message=f"{settings.scheme} with {library_version()}")
    quantized = quantize_folder(folder, settings, workdir / "quantized")
    text = EVALUATION_TEXT.read_text(encoding="utf-8")
    progress.stage(Stage.QUANTIZING, message=f"perplexity on {EVALUATION_TEXT.name}")
    before = perplexity(folder.files["config.json"].parent, text)
    after = perplexity(quantized.weights, text)
    parent_bytes, new_bytes = weight_bytes(folder), weight_bytes(quantized)
    measurements = QuantizationMeasurements(
        parent_weight_bytes=parent_bytes,
        weight_bytes=new_bytes,
        size_ratio=round(new_bytes / parent_bytes, 4),
        text=EVALUATION_TEXT.name,
        tokens=after.tokens,
        parent_perplexity=round(before.value, 4),
        perplexity=round(after.value, 4),
        perplexity_change=round(after.value / before.value - 1, 4),
        seconds=round(time.monotonic() - started, 1),
    )
    progress.stage(
        Stage.QUANTIZING,
        message=f"weights {format_size(parent_bytes)} -> {format_size(new_bytes)}, perplexity "
        f"{measurements.parent_perplexity:.2f} -> {measurements.perplexity:.2f}",
    )
    return QuantizedVersion(
        folder=quantized,
        lineage=lineage.model_copy(
            update={"library": library_version(), "measurements": measurements}
        ),
    )


__all__ = ["QuantizedVersion", "make_quantized_version", "weight_bytes"]
