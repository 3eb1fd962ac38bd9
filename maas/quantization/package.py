"""The packaging job's quantization step: the parent's package in, a quantized folder out.

The ``quantize_model`` workflow hands the packaging job a parent version's package as its
source and a :class:`~schemas.quantization.VersionLineage`. After the source is fetched,
:func:`make_quantized_version` quantizes it, measures both folders' weight bytes and their
perplexity on the bundled text, and returns what the job sizes and uploads instead, with the
lineage completed by the measurements.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maas.packaging.files import format_size
from maas.packaging.reporting import Stage
from maas.packaging.selection import split_weights
from maas.packaging.series.base import ModelFolder
from maas.quantization.perplexity import EVALUATION_TEXT, perplexity
from maas.quantization.quantize import library_version, quantize_folder
from schemas.quantization import QuantizationMeasurements

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from schemas.quantization import VersionLineage


@dataclass(frozen=True)
class QuantizedVersion:
    """What the packaging job packages for a quantized version.

    Attributes
    ----------
    folder
        The quantized checkpoint, uploaded as the version's package.
    sized_as
        The same folder with a ``config.json`` without ``quantization_config``: the advisor
        sizes the 16-bit layout, an upper bound of what the quantized weights take.
    lineage
        The lineage with the measurements.
    """

    folder: ModelFolder
    sized_as: ModelFolder
    lineage: VersionLineage


def weight_bytes(folder: ModelFolder) -> int:
    """Bytes of the folder's weight files (safetensors shards and their index)."""
    _, weights = split_weights(folder.files)
    return sum(folder.files[name].stat().st_size for name in weights)


def sizing_folder(quantized: ModelFolder, workdir: Path) -> ModelFolder:
    """What the advisor sizes for a quantized checkpoint: its config without
    ``quantization_config``, so the 16-bit layout, an upper bound of its memory.

    The advisor sizes only the pre-quantized formats LMI is told about with
    ``option.quantize`` (AWQ, GPTQ, FP8); vLLM reads a compressed-tensors checkpoint's scheme
    from its ``config.json``, so the properties written for it carry no ``option.quantize``
    and match the checkpoint as it is.
    """
    config = json.loads(quantized.files["config.json"].read_text())
    config.pop("quantization_config", None)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(json.dumps(config))
    return ModelFolder(files={"config.json": workdir / "config.json"}, weights=quantized.weights)


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
        sized_as=sizing_folder(quantized, workdir / "sizing"),
        lineage=lineage.model_copy(
            update={"library": library_version(), "measurements": measurements}
        ),
    )


__all__ = ["QuantizedVersion", "make_quantized_version", "sizing_folder", "weight_bytes"]
