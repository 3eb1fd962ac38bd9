"""Helpers for the advisor's tests: the fixture configs and hand-written safetensors files."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maas.advisor.architecture import ModelArchitecture
from maas.advisor.safetensors import DTYPE_BITS, TensorInfo
from maas.advisor.sizing import parameter_groups

if TYPE_CHECKING:
    from collections.abc import Mapping

HERE = Path(__file__).parent
CONFIGS = HERE / "configs"
TRUTH = HERE / "gpu_memory_truth_h200.jsonl"


def config(name: str) -> dict[str, Any]:
    """The public ``config.json`` of a checkpoint, from ``configs/<name>.json``."""
    loaded: dict[str, Any] = json.loads((CONFIGS / f"{name}.json").read_text())
    return loaded


def architecture(name: str) -> ModelArchitecture:
    return ModelArchitecture.from_config(config(name))


def safetensors_bytes(
    tensors: Mapping[str, tuple[str, tuple[int, ...]]], *, metadata: dict[str, str] | None = None
) -> bytes:
    """A complete safetensors file, written by hand per the format: an 8-byte little-endian
    header length, the JSON header, then the (zero) tensor data."""
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.ceil(math.prod(shape) * DTYPE_BITS[dtype] / 8)
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(encoded)) + encoded + bytes(offset)


def write_safetensors(
    path: Path, tensors: Mapping[str, tuple[str, tuple[int, ...]]], **kwargs: Any
) -> Path:
    path.write_bytes(safetensors_bytes(tensors, **kwargs))
    return path


def headers_of(arch: ModelArchitecture, dtype: str = "BF16") -> dict[str, TensorInfo]:
    """The tensors a checkpoint of ``arch`` would hold, all in ``dtype``."""
    bits = DTYPE_BITS[dtype]
    tensors = {}
    for group in parameter_groups(arch):
        for index in range(group.count):
            size = math.prod(group.shape) * bits // 8
            tensors[f"{group.name}.{index}"] = TensorInfo(
                dtype=dtype, shape=group.shape, nbytes=size
            )
    return tensors
