"""The key-value metadata at the head of a GGUF file, read without loading the file.

``gguf.GGUFReader`` parses every field and memory-maps every tensor, several seconds for a
small model; the packager wants two strings from the header (the architecture and the
licence), which llama.cpp writes first.

Format (GGUF v2 and v3, little-endian): ``GGUF``, version (u32), tensor count (u64),
key-value count (u64), then each pair as key (string), value type (u32), value; a string is
a u64 length and UTF-8 bytes, an array an element type (u32), a count (u64) and elements.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, BinaryIO

from maas.exceptions import ValidationError

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

_STRING = 8
_ARRAY = 9
#: struct formats of the fixed-size value types, by GGUF type number.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ValidationError("source: the GGUF file ends inside its header")
    return data


def _u64(stream: BinaryIO) -> int:
    value: int = struct.unpack("<Q", _read(stream, 8))[0]
    return value


def _u32(stream: BinaryIO) -> int:
    value: int = struct.unpack("<I", _read(stream, 4))[0]
    return value


def _value(stream: BinaryIO, kind: int, *, keep: bool) -> Any:
    """Read (or, unless ``keep``, skip) one value of GGUF type ``kind``."""
    if kind == _STRING:
        data = _read(stream, _u64(stream))
        return data.decode("utf-8", errors="replace") if keep else None
    if kind == _ARRAY:
        element, count = _u32(stream), _u64(stream)
        if element in _SCALARS and not keep:
            stream.seek(struct.calcsize(_SCALARS[element]) * count, 1)
            return None
        return [_value(stream, element, keep=keep) for _ in range(count)]
    if kind not in _SCALARS:
        raise ValidationError(f"source: unknown GGUF value type {kind}")
    fmt = _SCALARS[kind]
    return struct.unpack(fmt, _read(stream, struct.calcsize(fmt)))[0]


def read_gguf_metadata(path: Path, keys: Collection[str]) -> dict[str, Any]:
    """The values of ``keys`` found in the GGUF file's header.

    Reading stops once every key has been found.

    Raises
    ------
    ValidationError
        When the file is not GGUF (v2 or later) or its header is cut short.
    """
    found: dict[str, Any] = {}
    with path.open("rb") as stream:
        if stream.read(4) != b"GGUF":
            raise ValidationError(f"source: {path.name} is not a GGUF file")
        if _u32(stream) < 2:
            raise ValidationError(f"source: {path.name} is GGUF v1, which is not supported")
        _u64(stream)  # tensor count
        for _ in range(_u64(stream)):
            key = _read(stream, _u64(stream)).decode("utf-8", errors="replace")
            wanted = key in keys
            value = _value(stream, _u32(stream), keep=wanted)
            if wanted:
                found[key] = value
                if len(found) == len(keys):
                    break
    return found


__all__ = ["read_gguf_metadata"]
