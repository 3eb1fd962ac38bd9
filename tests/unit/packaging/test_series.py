"""Model series: which a fetched source is, and the folder each makes of it."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest
import torch
from safetensors.torch import load_file

from maas.exceptions import ValidationError
from maas.local.demo_model import demo_model_path
from maas.packaging.series import GgufFile, PytorchFolder, SafetensorsFolder, series_of
from maas.packaging.series import gguf as gguf_series
from maas.packaging.series.gguf_metadata import read_gguf_metadata
from maas.packaging.sources import FetchedSource
from tests.fixtures.models import TINY_LLAMA_CONFIG

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging import Progress
    from tests.unit.packaging.conftest import RecordingReporter


def test_a_folder_with_safetensors_is_served_as_it_is(
    tiny_llama: Path, tmp_path: Path, progress: Progress
) -> None:
    (tiny_llama / "notes.txt").write_text("not for serving")
    fetched = FetchedSource(path=tiny_llama, sha256={"config.json": "ab" * 32})

    series = series_of(tiny_llama)
    folder = series.prepare(fetched, tmp_path / "out", progress)

    assert isinstance(series, SafetensorsFolder)
    assert folder.files == {
        name: tiny_llama / name for name in ("README.md", "config.json", "model.safetensors")
    }
    assert folder.weights == tiny_llama
    assert folder.sha256 == {"config.json": "ab" * 32}
    assert not (tmp_path / "out").exists()


def test_a_folder_with_weights_but_no_config_is_rejected(
    tiny_llama: Path, tmp_path: Path, progress: Progress
) -> None:
    (tiny_llama / "config.json").unlink()

    with pytest.raises(ValidationError, match=r"has safetensors but no config\.json"):
        series_of(tiny_llama).prepare(FetchedSource(path=tiny_llama), tmp_path, progress)


def test_a_folder_without_weights_belongs_to_no_series(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")

    with pytest.raises(ValidationError, match="no safetensors, PyTorch or"):
        series_of(tmp_path)


def test_pytorch_shards_become_safetensors_shards_and_the_index_names_them(
    tmp_path: Path, progress: Progress, reporter: RecordingReporter
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "config.json").write_text(json.dumps(TINY_LLAMA_CONFIG))
    embed = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    # Tied weights share memory in the pickle; safetensors needs each name's own bytes.
    first = {"model.embed_tokens.weight": embed, "lm_head.weight": embed}
    second = {"model.norm.weight": torch.ones(3)}
    torch.save(first, source / "pytorch_model-00001-of-00002.bin")
    torch.save(second, source / "pytorch_model-00002-of-00002.bin")
    weight_map = {name: "pytorch_model-00001-of-00002.bin" for name in first}
    weight_map["model.norm.weight"] = "pytorch_model-00002-of-00002.bin"
    index = {"metadata": {"total_size": 100}, "weight_map": weight_map}
    (source / "pytorch_model.bin.index.json").write_text(json.dumps(index))

    series = series_of(source)
    folder = series.prepare(FetchedSource(path=source), tmp_path / "out", progress)

    assert isinstance(series, PytorchFolder)
    assert sorted(folder.files) == [
        "config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
    ]
    converted = load_file(folder.files["model-00001-of-00002.safetensors"])
    assert torch.equal(converted["lm_head.weight"], embed)
    assert torch.equal(converted["model.embed_tokens.weight"], embed)
    written = json.loads(folder.files["model.safetensors.index.json"].read_text())
    assert written["weight_map"]["model.norm.weight"] == "model-00002-of-00002.safetensors"
    assert folder.weights == tmp_path / "out"
    assert "converting" in reporter.stages()


def test_the_gguf_header_gives_architecture_and_licence_without_loading_the_file() -> None:
    metadata = read_gguf_metadata(demo_model_path(), {"general.architecture", "general.license"})

    assert metadata == {"general.architecture": "llama", "general.license": "apache-2.0"}


def test_a_file_that_is_not_gguf_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "fake.gguf").write_bytes(b"PK\x03\x04 not gguf")

    with pytest.raises(ValidationError, match=r"fake\.gguf is not a GGUF file"):
        read_gguf_metadata(tmp_path / "fake.gguf", {"general.license"})


def test_a_gguf_file_is_converted_and_keeps_the_licence_its_header_names(
    converted_smollm2: Path,
    tmp_path: Path,
    progress: Progress,
    reporter: RecordingReporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The conversion itself is specified in test_gguf_conversion; here it is the fixture's.
    monkeypatch.setattr(
        gguf_series, "convert_gguf", lambda gguf, out: shutil.copytree(converted_smollm2, out)
    )
    gguf = demo_model_path()

    series = series_of(gguf)
    folder = series.prepare(FetchedSource(path=gguf), tmp_path / "out", progress)

    assert isinstance(series, GgufFile)
    assert folder.licence == "apache-2.0"
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(folder.files)
    assert reporter.reports[-1].stage == "converting"
    assert "(llama, 98.4 MB) to safetensors in bf16" in (reporter.reports[-1].message or "")


def test_a_folder_with_one_gguf_file_is_the_gguf_series(tmp_path: Path) -> None:
    (tmp_path / "model.Q4.gguf").write_bytes(b"GGUF")

    assert isinstance(series_of(tmp_path), GgufFile)
