"""Tensor names, dtypes and shapes from safetensors headers, without reading the weights.

A safetensors file starts with an 8-byte little-endian header length and a JSON header that
maps every tensor's name to its ``dtype``, ``shape`` and ``data_offsets``. That is all the
advisor needs to count parameters and bytes exactly: of a checkpoint on disk
(:func:`read_safetensors_headers`) or on the Hugging Face Hub
(:func:`fetch_safetensors_headers`, which reads the headers with HTTP range requests).
"""

from __future__ import annotations

import importlib
import json
import math
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from maas.exceptions import NotFound, ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Bits per element of every dtype the safetensors format defines.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E4M3": 8,
    "F8_E5M2": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}

#: Dtypes of an unquantized checkpoint; any other dtype holds packed or low-bit weights.
FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})

#: The reference implementation refuses headers above 100 MB; so does this one.
MAX_HEADER_BYTES = 100_000_000

#: Names of the input embedding, whichever family wrote the checkpoint.
_EMBEDDING_SUFFIXES = ("embed_tokens.weight", "word_embeddings.weight", "wte.weight")


class TensorInfo(BaseModel):
    """One tensor as a safetensors header declares it."""

    model_config = ConfigDict(frozen=True)

    dtype: str
    shape: tuple[int, ...]
    nbytes: int = Field(ge=0, description="Bytes the tensor takes in the file.")

    @property
    def parameters(self) -> int:
        """Elements in the tensor (packed integer tensors count their stored elements)."""
        return math.prod(self.shape)


class CheckpointSize(BaseModel):
    """A checkpoint's size from its headers: exact, tied embeddings counted once."""

    model_config = ConfigDict(frozen=True)

    parameters: int
    bytes: int
    bytes_by_dtype: dict[str, int]
    quantized: bool = Field(description="Whether any tensor has a packed or low-bit dtype.")


def parse_safetensors_header(data: bytes, *, source: str = "header") -> dict[str, TensorInfo]:
    """The tensors of one file's header; ``data`` is the file's start (at least the header).

    Examples
    --------
    >>> import json, struct
    >>> header = json.dumps({"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}})
    >>> blob = struct.pack("<Q", len(header)) + header.encode()
    >>> parse_safetensors_header(blob)["w"]
    TensorInfo(dtype='BF16', shape=(2, 3), nbytes=12)
    """
    if len(data) < 8:
        raise ValidationError(f"{source}: shorter than the 8-byte safetensors header length")
    (length,) = struct.unpack("<Q", data[:8])
    if length > MAX_HEADER_BYTES or length > len(data) - 8:
        raise ValidationError(f"{source}: header length {length} is not that of a safetensors file")
    try:
        header = json.loads(data[8 : 8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError(f"{source}: the safetensors header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise ValidationError(f"{source}: the safetensors header is not a JSON object")
    return {
        name: _tensor(entry, source=f"{source}: tensor {name!r}")
        for name, entry in header.items()
        if name != "__metadata__"
    }


def _tensor(entry: Any, *, source: str) -> TensorInfo:
    if not isinstance(entry, dict):
        raise ValidationError(f"{source}: expected an object with dtype, shape and data_offsets")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPE_BITS:
        raise ValidationError(f"{source}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ValidationError(f"{source}: shape must be a list of sizes, not {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1]):
        raise ValidationError(f"{source}: data_offsets must be [begin, end], not {offsets!r}")
    nbytes = offsets[1] - offsets[0]
    expected = math.ceil(math.prod(shape) * DTYPE_BITS[dtype] / 8)
    if nbytes != expected:
        raise ValidationError(
            f"{source}: data_offsets span {nbytes} bytes, but {dtype} {shape} takes {expected}"
        )
    return TensorInfo(dtype=dtype, shape=tuple(shape), nbytes=nbytes)


def read_safetensors_header(path: Path | str) -> dict[str, TensorInfo]:
    """The tensors of one local ``.safetensors`` file, reading only its header."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            start = file.read(8)
            if len(start) < 8:
                raise ValidationError(f"{path}: shorter than the 8-byte safetensors header length")
            (length,) = struct.unpack("<Q", start)
            if length > MAX_HEADER_BYTES:
                raise ValidationError(f"{path}: header length {length} exceeds {MAX_HEADER_BYTES}")
            return parse_safetensors_header(start + file.read(length), source=str(path))
    except FileNotFoundError:
        raise NotFound(f"safetensors: no file {path}") from None


def read_safetensors_headers(directory: Path | str) -> dict[str, TensorInfo]:
    """The tensors of every ``*.safetensors`` file in ``directory`` (a checkpoint's shards)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise NotFound(f"safetensors: {directory} is not a directory")
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise NotFound(f"safetensors: no *.safetensors files in {directory}")
    tensors: dict[str, TensorInfo] = {}
    for path in files:
        for name, tensor in read_safetensors_header(path).items():
            if name in tensors:
                raise ValidationError(f"safetensors: tensor {name!r} is in more than one shard")
            tensors[name] = tensor
    return tensors


def fetch_safetensors_headers(
    repo_id: str, *, revision: str | None = None
) -> dict[str, TensorInfo]:
    """The tensors of a Hub model, via ``huggingface_hub.HfApi().get_safetensors_metadata``.

    Needs the optional ``huggingface_hub`` package (and network access to the Hub).

    Raises
    ------
    ImportError
        When ``huggingface_hub`` is not installed; the message says how to install it.
    """
    try:
        # Not a dependency of the control plane (nor of its Lambda functions): imported only
        # when a caller asks for a Hub model.
        hub = importlib.import_module("huggingface_hub")
    except ImportError:
        raise ImportError(
            "reading safetensors headers from the Hugging Face Hub needs huggingface_hub: "
            "pip install huggingface_hub"
        ) from None
    metadata = hub.HfApi().get_safetensors_metadata(repo_id, revision=revision)
    tensors: dict[str, TensorInfo] = {}
    for file in metadata.files_metadata.values():
        for name, info in file.tensors.items():
            begin, end = info.data_offsets
            tensors[name] = TensorInfo(
                dtype=info.dtype, shape=tuple(info.shape), nbytes=end - begin
            )
    return tensors


def checkpoint_size(
    tensors: Mapping[str, TensorInfo], *, tie_word_embeddings: bool
) -> CheckpointSize:
    """Parameters and bytes of a checkpoint's tensors, a tied ``lm_head`` counted once.

    Examples
    --------
    >>> tensors = {
    ...     "model.embed_tokens.weight": TensorInfo(dtype="BF16", shape=(8, 4), nbytes=64),
    ...     "lm_head.weight": TensorInfo(dtype="BF16", shape=(8, 4), nbytes=64),
    ... }
    >>> checkpoint_size(tensors, tie_word_embeddings=True).parameters
    32
    """
    names = set(tensors)
    has_embedding = any(name.endswith(_EMBEDDING_SUFFIXES) for name in names)
    if tie_word_embeddings and has_embedding:
        # Some writers store the tied matrix twice; it is one tensor in memory.
        names = {name for name in names if not name.endswith("lm_head.weight")}
    by_dtype: dict[str, int] = {}
    for name in names:
        tensor = tensors[name]
        by_dtype[tensor.dtype] = by_dtype.get(tensor.dtype, 0) + tensor.nbytes
    return CheckpointSize(
        parameters=sum(tensors[name].parameters for name in names),
        bytes=sum(by_dtype.values()),
        bytes_by_dtype=dict(sorted(by_dtype.items())),
        quantized=any(dtype not in FLOAT_DTYPES for dtype in by_dtype),
    )


__all__ = [
    "DTYPE_BITS",
    "FLOAT_DTYPES",
    "CheckpointSize",
    "TensorInfo",
    "checkpoint_size",
    "fetch_safetensors_headers",
    "parse_safetensors_header",
    "read_safetensors_header",
    "read_safetensors_headers",
]
