"""Safetensors headers: parsed from local files by hand-written bytes, fetched from the Hub."""

from __future__ import annotations

import importlib
import json
import struct
import sys
import types
from typing import TYPE_CHECKING, Any

import pytest

from maas.advisor import ServingRequest, TensorInfo, advise, read_safetensors_headers
from maas.advisor.safetensors import (
    checkpoint_size,
    fetch_safetensors_headers,
    parse_safetensors_header,
    read_safetensors_header,
)
from maas.advisor.sizing import parameter_count, weight_bytes
from maas.exceptions import NotFound, ValidationError
from tests.unit.advisor.support import (
    architecture,
    config,
    headers_of,
    safetensors_bytes,
    write_safetensors,
)

if TYPE_CHECKING:
    from pathlib import Path

REQUEST = ServingRequest(context_tokens=2048, concurrent_requests=4)


def test_a_header_gives_each_tensors_dtype_shape_and_bytes(tmp_path: Path) -> None:
    path = write_safetensors(
        tmp_path / "model.safetensors",
        {"embed.weight": ("BF16", (10, 4)), "scale": ("F32", (3,)), "packed": ("I32", (2, 2))},
        metadata={"format": "pt"},
    )
    assert read_safetensors_header(path) == {
        "embed.weight": TensorInfo(dtype="BF16", shape=(10, 4), nbytes=80),
        "scale": TensorInfo(dtype="F32", shape=(3,), nbytes=12),
        "packed": TensorInfo(dtype="I32", shape=(2, 2), nbytes=16),
    }


def test_the_shards_of_a_directory_are_read_together(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "model-00001-of-00002.safetensors", {"a": ("F16", (2,))})
    write_safetensors(tmp_path / "model-00002-of-00002.safetensors", {"b": ("BF16", (3,))})
    (tmp_path / "config.json").write_text("{}")
    assert set(read_safetensors_headers(tmp_path)) == {"a", "b"}


def test_a_tensor_in_two_shards_is_refused(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "one.safetensors", {"a": ("F16", (2,))})
    write_safetensors(tmp_path / "two.safetensors", {"a": ("F16", (2,))})
    with pytest.raises(ValidationError, match="tensor 'a' is in more than one shard"):
        read_safetensors_headers(tmp_path)


def test_a_directory_without_safetensors_files_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"^safetensors: no \*\.safetensors files in "):
        read_safetensors_headers(tmp_path)
    with pytest.raises(NotFound, match="is not a directory"):
        read_safetensors_headers(tmp_path / "missing")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x02", "shorter than the 8-byte"),
        (struct.pack("<Q", 10**12) + b"{}", "is not that of a safetensors file"),
        (struct.pack("<Q", 3) + b"{x}", "is not JSON"),
        (struct.pack("<Q", 2) + b"[]", "is not a JSON object"),
    ],
)
def test_a_malformed_header_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_safetensors_header(data)


def test_offsets_that_disagree_with_dtype_and_shape_are_refused() -> None:
    header = json.dumps({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 4]}}).encode()
    with pytest.raises(ValidationError, match=r"span 4 bytes, but BF16 \[4\] takes 8"):
        parse_safetensors_header(struct.pack("<Q", len(header)) + header)


def test_an_unknown_dtype_is_refused() -> None:
    data = safetensors_bytes({"w": ("BF16", (1,))}).replace(b"BF16", b"XF16")
    with pytest.raises(ValidationError, match="unknown dtype 'XF16'"):
        parse_safetensors_header(data)


def test_the_safetensors_package_reads_what_the_hand_written_files_say(tmp_path: Path) -> None:
    safe_open = pytest.importorskip("safetensors").safe_open
    path = write_safetensors(tmp_path / "m.safetensors", {"w": ("BF16", (3, 5))})
    with safe_open(str(path), framework="numpy") as opened:
        assert opened.get_slice("w").get_shape() == [3, 5]
    assert read_safetensors_header(path)["w"].shape == (3, 5)


def test_a_tied_lm_head_stored_twice_is_counted_once() -> None:
    tensors = {
        "model.embed_tokens.weight": TensorInfo(dtype="BF16", shape=(100, 8), nbytes=1600),
        "lm_head.weight": TensorInfo(dtype="BF16", shape=(100, 8), nbytes=1600),
    }
    assert checkpoint_size(tensors, tie_word_embeddings=True).parameters == 800
    assert checkpoint_size(tensors, tie_word_embeddings=False).parameters == 1600


def test_headers_give_the_parameter_count_exactly() -> None:
    smol = architecture("smollm2-135m-instruct")
    headers = headers_of(smol)
    headers["vision_tower.patch_embed"] = TensorInfo(dtype="BF16", shape=(1000,), nbytes=2000)
    report = advise(config("smollm2-135m-instruct"), REQUEST, safetensors_headers=headers)
    assert report.parameters_source == "safetensors"
    assert report.parameters == parameter_count(smol) + 1000
    assert report.weight_bytes == weight_bytes(smol) + 2000


def test_an_fp32_checkpoint_is_served_at_bf16() -> None:
    smol = architecture("smollm2-135m-instruct")
    report = advise(
        config("smollm2-135m-instruct"), REQUEST, safetensors_headers=headers_of(smol, "F32")
    )
    assert report.checkpoint_bytes == 4 * parameter_count(smol)
    assert report.weight_bytes == 2 * parameter_count(smol)


def test_a_quantized_checkpoint_is_sized_from_its_stored_bytes() -> None:
    awq = {
        **config("llama-3.1-8b-instruct"),
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128},
    }
    headers = {
        "model.embed_tokens.weight": TensorInfo(dtype="F16", shape=(128256, 4096), nbytes=2),
        "model.layers.0.mlp.down_proj.qweight": TensorInfo(
            dtype="I32", shape=(14336, 512), nbytes=5_000_000_000
        ),
    }
    report = advise(awq, REQUEST, safetensors_headers=headers)
    assert report.checkpoint_bytes == 5_000_000_002
    assert report.parameters_source == "config"
    assert report.recommendation.quantization == "awq"
    assert (
        report.recommendation.weight_bytes_per_gpu * report.recommendation.tensor_parallel_degree
        == (pytest.approx(5_000_000_002, rel=1e-6))
    )
    assert "already quantized" in report.recommendation.reasons["quantization"]


def test_hub_headers_come_from_get_safetensors_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str | None]] = []

    class HfApi:
        def get_safetensors_metadata(self, repo_id: str, revision: str | None = None) -> Any:
            calls.append((repo_id, revision))
            info = types.SimpleNamespace(dtype="BF16", shape=[4, 2], data_offsets=(0, 16))
            file = types.SimpleNamespace(tensors={"w": info})
            return types.SimpleNamespace(files_metadata={"model.safetensors": file})

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(HfApi=HfApi))
    tensors = fetch_safetensors_headers("org/model", revision="abc123")
    assert tensors == {"w": TensorInfo(dtype="BF16", shape=(4, 2), nbytes=16)}
    assert calls == [("org/model", "abc123")]


def test_without_huggingface_hub_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.import_module

    def without_hub(name: str, package: str | None = None) -> Any:
        if name == "huggingface_hub":
            raise ModuleNotFoundError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_hub)
    with pytest.raises(ImportError, match="pip install huggingface_hub"):
        fetch_safetensors_headers("org/model")
