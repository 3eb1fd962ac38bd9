"""Converted models are kept by their source's content and checked before each use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.packaging.series.conversion_cache import cached_conversion

if TYPE_CHECKING:
    from pathlib import Path


class Converter:
    """Writes the source's bytes, reversed, as ``model.safetensors``; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, source: Path, output: Path) -> None:
        self.calls += 1
        (output / "model.safetensors").write_bytes(source.read_bytes()[::-1])


def test_a_source_is_converted_once_and_its_folder_reused(tmp_path: Path) -> None:
    source = tmp_path / "model.gguf"
    source.write_bytes(b"weights")
    convert = Converter()
    first = cached_conversion(source, convert, tmp_path / "cache")
    again = cached_conversion(source, convert, tmp_path / "cache")
    assert first == again
    assert convert.calls == 1
    assert (first / "model.safetensors").read_bytes() == b"sthgiew"


def test_a_source_with_other_content_is_converted_anew(tmp_path: Path) -> None:
    source = tmp_path / "model.gguf"
    source.write_bytes(b"weights")
    convert = Converter()
    first = cached_conversion(source, convert, tmp_path / "cache")
    # Same name and size, other bytes: the content names the folder, never the name.
    source.write_bytes(b"WEIGHTS")
    second = cached_conversion(source, convert, tmp_path / "cache")
    assert second != first
    assert convert.calls == 2
    assert (second / "model.safetensors").read_bytes() == b"STHGIEW"


def test_a_kept_folder_that_does_not_match_its_record_is_converted_again(
    tmp_path: Path,
) -> None:
    source = tmp_path / "model.gguf"
    source.write_bytes(b"weights")
    convert = Converter()
    folder = cached_conversion(source, convert, tmp_path / "cache")
    (folder / "model.safetensors").write_bytes(b"truncated")
    again = cached_conversion(source, convert, tmp_path / "cache")
    assert convert.calls == 2
    assert (again / "model.safetensors").read_bytes() == b"sthgiew"
