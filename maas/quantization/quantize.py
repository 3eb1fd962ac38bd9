"""Weight-only quantization of a packaged model with compressed-tensors.

Why compressed-tensors: its checkpoint format (``quant_method: compressed-tensors`` in
``config.json``, ``pack-quantized`` int4/int8 or ``float-quantized`` FP8 weights) is the one
vLLM, the engine of SageMaker's LMI container, loads natively with no ``option.quantize``
(https://docs.vllm.ai/en/latest/features/quantization/), and transformers loads it on a CPU as
well, so the local engine serves the very same files. It adds one small dependency (loguru).

The scales are round-to-nearest from each weight's own range (per output channel, or per
group of inputs for int4): no calibration data, minutes on a CPU for a small model. Methods
that calibrate on activations (AWQ, GPTQ) need a GPU and a data set; on AWS that is
SageMaker's inference optimization job's work, not this step's.
"""

from __future__ import annotations

import json
import shutil
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from maas.exceptions import ValidationError
from maas.packaging.selection import split_weights
from maas.packaging.series.base import ModelFolder
from maas.quantization.steps import LIBRARY

if TYPE_CHECKING:
    from pathlib import Path

    from schemas.quantization import QuantizationSettings

#: How each scheme's weights are stored (compressed-tensors' format names).
FORMATS = {"W8A16": "pack-quantized", "W4A16": "pack-quantized", "FP8_DYNAMIC": "float-quantized"}
#: Layers kept in 16 bits: the output head, which vLLM also leaves unquantized.
IGNORED = ("lm_head",)
#: Files the quantized checkpoint writes itself; the others are copied from the parent.
_WRITTEN = frozenset({"config.json", "generation_config.json"})


def library_version() -> str:
    """What quantizes, as the lineage records it (``compressed-tensors 0.20.0``)."""
    return f"{LIBRARY} {version(LIBRARY)}"


def check_quantizable(config: dict[str, Any], settings: QuantizationSettings) -> None:
    """Refuse a checkpoint already quantized, or sizes the int4 groups do not divide.

    Examples
    --------
    >>> from schemas.quantization import QuantizationSettings
    >>> settings = QuantizationSettings(scheme="W4A16", group_size=128)
    >>> check_quantizable({"hidden_size": 576}, settings)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    maas.exceptions.ValidationError: settings.group_size: 128 does not divide ... (576)
    """
    existing = config.get("quantization_config")
    if isinstance(existing, dict):
        raise ValidationError(
            f"version: the checkpoint is already quantized ({existing.get('quant_method')}); "
            "quantize its unquantized parent instead: quantizing twice compounds the loss"
        )
    if settings.group_size is None:
        return
    for name in ("hidden_size", "intermediate_size"):
        size = config.get(name)
        if isinstance(size, int) and size % settings.group_size:
            raise ValidationError(
                f"settings.group_size: {settings.group_size} does not divide the model's "
                f"{name} ({size})"
            )


def quantize_folder(
    folder: ModelFolder, settings: QuantizationSettings, output: Path
) -> ModelFolder:
    """Quantize the model in ``folder`` into ``output``; return the new folder.

    The tokenizer, chat template and licence files are copied as they are; ``config.json``
    gains the ``quantization_config`` that tells vLLM and transformers how to load it.

    Raises
    ------
    ValidationError
        The checkpoint is quantized already, or the int4 group size does not fit it.
    """
    check_quantizable(folder.config(), settings)
    import torch  # noqa: PLC0415
    from compressed_tensors.compressors import ModelCompressor  # noqa: PLC0415
    from compressed_tensors.quantization import (  # noqa: PLC0415
        QuantizationConfig,
        QuantizationStatus,
        apply_quantization_config,
        preset_name_to_scheme,
    )
    from transformers import AutoModelForCausalLM  # noqa: PLC0415

    source = folder.files["config.json"].parent
    model = AutoModelForCausalLM.from_pretrained(
        source, dtype=torch.bfloat16, local_files_only=True
    )
    scheme = preset_name_to_scheme(settings.scheme, ["Linear"])
    if scheme.weights is not None and settings.scheme != "FP8_DYNAMIC":
        # The presets group int weights by 128 inputs: int8 gets one scale per output channel
        # (vLLM's W8A16 layout), int4 the group size asked for.
        scheme.weights = scheme.weights.model_copy(
            update={"strategy": "group", "group_size": settings.group_size}
            if settings.group_size is not None
            else {"strategy": "channel", "group_size": None}
        )
    config = QuantizationConfig(
        config_groups={"group_0": scheme},
        ignore=list(IGNORED),
        quantization_status=QuantizationStatus.FROZEN,
    )
    apply_quantization_config(model, config, show_progress=False)
    with torch.no_grad():
        for module in model.modules():
            _set_weight_scales(module)
    compressor = ModelCompressor.from_pretrained_model(
        model, quantization_format=FORMATS[settings.scheme]
    )
    compressor.compress_model(model)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    compressor.update_config(str(output))
    small, _ = split_weights(folder.files)
    for name in small:
        if name not in _WRITTEN:
            shutil.copyfile(folder.files[name], output / name)
    files = {path.name: path for path in sorted(output.iterdir()) if path.is_file()}
    if not (output / "config.json").is_file() or "quantization_config" not in json.loads(
        (output / "config.json").read_text()
    ):
        raise RuntimeError(f"{LIBRARY} wrote no quantization_config to {output}/config.json")
    return ModelFolder(files=files, weights=output, licence=folder.licence)


def _set_weight_scales(module: Any) -> None:
    """Round-to-nearest scales (and zero points) from the weight's own minimum and maximum."""
    from compressed_tensors.quantization.utils import calculate_qparams  # noqa: PLC0415

    scheme = getattr(module, "quantization_scheme", None)
    if scheme is None or scheme.weights is None:
        return
    arguments = scheme.weights
    weight = module.weight.float()
    if arguments.strategy == "group":
        grouped = weight.reshape(weight.shape[0], -1, arguments.group_size)
        low, high = grouped.amin(dim=-1), grouped.amax(dim=-1)
    elif arguments.strategy == "channel":
        low, high = weight.amin(dim=1, keepdim=True), weight.amax(dim=1, keepdim=True)
    else:
        low, high = weight.amin().reshape(1), weight.amax().reshape(1)
    scale, zero_point = calculate_qparams(low, high, arguments)
    module.weight_scale.copy_(scale.reshape(module.weight_scale.shape))
    if getattr(module, "weight_zero_point", None) is not None:
        module.weight_zero_point.copy_(zero_point.reshape(module.weight_zero_point.shape))


__all__ = ["FORMATS", "LIBRARY", "check_quantizable", "library_version", "quantize_folder"]
