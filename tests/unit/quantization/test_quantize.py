"""Quantizing SmolLM2-135M-Instruct (the demo model) W8A16 with compressed-tensors: a smaller
checkpoint that the local engine serves with the answers it gave before, its perplexity on
the bundled text within a few percent of the parent's, measured and recorded as lineage."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from safetensors import safe_open

from maas.exceptions import ValidationError
from maas.packaging import Progress
from maas.packaging.series.base import ModelFolder
from maas.packaging.sizing import plan_serving
from maas.quantization.package import QuantizedVersion, make_quantized_version
from maas.quantization.quantize import quantize_folder
from maas.serving.model import ServedModel
from maas.serving.protocol import SamplingParams
from schemas.lineage import QuantizationSettings, VersionLineage
from schemas.packaging import ServingPreferences
from tests.unit.packaging.conftest import RecordingReporter

if TYPE_CHECKING:
    from pathlib import Path


def parent_folder(converted: Path) -> ModelFolder:
    names = [path.name for path in converted.iterdir() if path.name != "conversion.json"]
    return ModelFolder(files={name: converted / name for name in names}, weights=converted)


@pytest.fixture(scope="module")
def reporter() -> RecordingReporter:
    return RecordingReporter()


@pytest.fixture(scope="module")
def quantized(
    converted_smollm2: Path, tmp_path_factory: pytest.TempPathFactory, reporter: RecordingReporter
) -> QuantizedVersion:
    lineage = VersionLineage(
        parent_version=1, library="compressed-tensors", settings=QuantizationSettings()
    )
    return make_quantized_version(
        parent_folder(converted_smollm2),
        lineage,
        tmp_path_factory.mktemp("quantized"),
        Progress(reporter, interval=0.0),
    )


def test_the_checkpoint_holds_int8_weights_and_says_so_in_its_config(
    quantized: QuantizedVersion,
) -> None:
    config = json.loads(quantized.folder.files["config.json"].read_text())
    scheme = config["quantization_config"]
    assert (scheme["quant_method"], scheme["format"]) == ("compressed-tensors", "pack-quantized")
    assert scheme["config_groups"]["group_0"]["weights"]["num_bits"] == 8
    with safe_open(quantized.folder.files["model.safetensors"], framework="pt") as weights:
        names = set(weights.keys())
    assert "model.layers.0.self_attn.q_proj.weight_packed" in names
    assert "model.layers.0.self_attn.q_proj.weight_scale" in names
    assert "model.layers.0.self_attn.q_proj.weight" not in names
    # The tokenizer and chat template travel with it.
    assert {"tokenizer.json", "chat_template.jinja"} <= set(quantized.folder.files)


def test_the_size_and_perplexity_change_are_measured_into_the_lineage(
    quantized: QuantizedVersion, reporter: RecordingReporter
) -> None:
    measured = quantized.lineage.measurements
    assert measured is not None
    assert quantized.lineage.library.startswith("compressed-tensors 0.")
    # 107M parameters of linear layers to one byte each, the 28M of the tied embedding kept
    # 16-bit: 0.61 of the bf16 bytes.
    assert 0.58 < measured.size_ratio < 0.64
    # SmolLM2 scores the text near 25; int8 per channel moves it by about 1%.
    assert 15 < measured.parent_perplexity < 40
    assert 0 < measured.perplexity_change < 0.05
    assert measured.tokens > 700
    assert "quantizing" in reporter.stages()
    assert any("perplexity 25." in (report.message or "") for report in reporter.reports)


def test_the_local_engine_serves_it_as_the_parent_answered(
    quantized: QuantizedVersion, tmp_path: Path
) -> None:
    plan = plan_serving(
        quantized.folder,
        ServingPreferences(context_tokens=2048),
        model="smollm2",
        revision=None,
        region="us-east-1",
    )
    (quantized.folder.weights / "serving.properties").write_text(plan.serving_properties)
    served = ServedModel.load(quantized.folder.weights)
    prompt = served.encode("The capital of France is")
    [completion] = served.generate([prompt], SamplingParams(max_new_tokens=3))
    assert completion.text.strip().startswith("Paris")
    assert "option.quantize" not in plan.serving_properties
    # Sized as what it is: W8A16 from its own headers, not as the 16-bit parent.
    report = plan.report
    assert report.recommendation.quantization == "compressed-tensors"
    assert report.recommendation.reasons["quantization"].startswith("compressed-tensors W8A16")
    measured = quantized.lineage.measurements
    assert measured is not None
    assert report.checkpoint_bytes is not None
    assert report.checkpoint_bytes == pytest.approx(measured.weight_bytes, rel=0.01)
    assert report.recommendation.weight_bytes_per_gpu == report.checkpoint_bytes


def test_a_group_size_the_model_does_not_fit_is_refused_before_loading_it(
    converted_smollm2: Path, tmp_path: Path
) -> None:
    settings = QuantizationSettings(scheme="W4A16", group_size=128)
    with pytest.raises(ValidationError) as refused:
        quantize_folder(parent_folder(converted_smollm2), settings, tmp_path / "out")
    assert refused.value.message == (
        "settings.group_size: 128 does not divide the model's hidden_size (576)"
    )
    assert not (tmp_path / "out").exists()
