"""The serving plan of a package: its ``serving.properties`` always match its checkpoint.

LMI's vLLM engine loads AWQ (and GPTQ) weights only from a checkpoint already quantized that
way (https://docs.djl.ai/master/docs/serving/serving/docs/lmi/user_guides/vllm_user_guide.html,
and ``option.quantize`` on the LMI configurations page): a bf16 checkpoint packaged with
``option.quantize=awq`` never starts on SageMaker.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.advisor.architecture import ModelArchitecture
from maas.exceptions import ValidationError
from maas.packaging.series.base import ModelFolder
from maas.packaging.sizing import ServingPlan, plan_serving
from maas.quantization.quantize import check_quantizable
from schemas.lineage import QuantizationSettings
from schemas.packaging import ServingPreferences
from tests.unit.advisor.support import CONFIGS, config, headers_of

if TYPE_CHECKING:
    from pathlib import Path

BUNDLED = sorted(path.stem for path in CONFIGS.glob("*.json"))


def plan(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    model_config: dict[str, Any],
    preferences: ServingPreferences,
) -> ServingPlan:
    (tmp_path / "config.json").write_text(json.dumps(model_config))
    arch = ModelArchitecture.from_config(model_config)
    # The shards' headers as a 16-bit checkpoint stores them (no tensor data is written); a
    # quantized checkpoint is sized from its config alone.
    headers = headers_of(arch) if arch.checkpoint_quantization is None else {}
    monkeypatch.setattr("maas.packaging.sizing.read_safetensors_headers", lambda _: headers)
    folder = ModelFolder(files={"config.json": tmp_path / "config.json"}, weights=tmp_path)
    return plan_serving(folder, preferences, model="m", revision=None, region="us-east-1")


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_the_bundled_configurations_are_the_twelve_the_advisor_is_checked_against() -> None:
    assert len(BUNDLED) == 12


@pytest.mark.parametrize("preference", ["cost", "latency"])
@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_configuration_is_served_as_its_checkpoint_is_stored(
    name: str, preference: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_config = config(name)
    serving = plan(tmp_path, monkeypatch, model_config, ServingPreferences(preference=preference))
    written = properties(serving.serving_properties)
    method = model_config.get("quantization_config", {}).get("quant_method")
    assert written.get("option.quantize") == method
    best = serving.report.recommendation
    assert best.requires is None
    if method is None:
        # Sized for the unquantized weights: each GPU holds its share of the bf16 bytes.
        bf16 = serving.report.weight_bytes_by_format["bf16"]
        assert best.weight_bytes_per_gpu == pytest.approx(bf16 / best.tensor_parallel_degree, abs=1)


def test_a_cheaper_quantized_version_is_only_proposed_with_the_step_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving = plan(tmp_path, monkeypatch, config("llama-3.1-8b-instruct"), ServingPreferences())
    report = serving.report
    assert report.recommendation.quantization == "none"
    alternative = report.quantized_alternative
    assert alternative is not None
    assert alternative.quantization == "awq"
    assert alternative.requires is not None
    assert "`maas versions quantize <model> <version> --scheme W4A16" in alternative.requires
    assert alternative.price_per_hour_usd < report.recommendation.price_per_hour_usd
    assert "quantize" not in serving.serving_properties


def test_a_checkpoint_quantized_with_awq_is_served_as_awq(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    awq = {
        **config("llama-3.1-8b-instruct"),
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128},
    }
    serving = plan(tmp_path, monkeypatch, awq, ServingPreferences())
    assert properties(serving.serving_properties)["option.quantize"] == "awq"
    assert serving.report.quantized_alternative is None


def compressed_tensors_config(scheme: str) -> dict[str, Any]:
    """The ``quantization_config`` compressed-tensors writes for ``scheme`` (as
    ``maas.quantization.quantize_folder`` leaves it in ``config.json``)."""
    weights: dict[str, Any] = {
        "W8A16": {"num_bits": 8, "type": "int", "strategy": "channel", "group_size": None},
        "W4A16": {"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128},
        "FP8_DYNAMIC": {"num_bits": 8, "type": "float", "strategy": "channel"},
    }[scheme]
    return {
        "quant_method": "compressed-tensors",
        "format": "float-quantized" if scheme == "FP8_DYNAMIC" else "pack-quantized",
        "quantization_status": "compressed",
        "config_groups": {
            "group_0": {"targets": ["Linear"], "weights": {**weights, "symmetric": True}}
        },
        "ignore": ["lm_head"],
    }


UNQUANTIZED = [name for name in BUNDLED if "quantization_config" not in config(name)]
PREQUANTIZED = [name for name in BUNDLED if name not in UNQUANTIZED]
#: The versions the quantization step makes (it refuses W4A16 where a width is not whole
#: 128-groups: tests/unit/advisor/test_quantized_versions.py lists those).
MADE = [
    (name, scheme)
    for name in UNQUANTIZED
    for scheme in ("W8A16", "W4A16", "FP8_DYNAMIC")
    if not (scheme == "W4A16" and name in ("deepseek-v2-lite", "smollm2-135m-instruct"))
]


@pytest.mark.parametrize(("name", "scheme"), MADE)
def test_every_quantized_version_of_a_bundled_configuration_is_served_as_its_checkpoint_is(
    name: str, scheme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the quantization job packages and sizes: the quantized checkpoint itself. vLLM
    # reads the scheme from config.json, so no option.quantize may name another format.
    quantized = {**config(name), "quantization_config": compressed_tensors_config(scheme)}
    serving = plan(tmp_path, monkeypatch, quantized, ServingPreferences())
    recommendation = serving.report.recommendation
    assert recommendation.quantization == "compressed-tensors"
    # Sized from its own bytes per parameter, not as the 16-bit layout.
    bf16 = serving.report.weight_bytes_by_format["bf16"]
    stored = recommendation.weight_bytes_per_gpu * recommendation.tensor_parallel_degree
    assert stored < 0.75 * bf16
    written = properties(serving.serving_properties)
    assert "option.quantize" not in written
    assert serving.report.recommendation.requires is None
    assert written["option.dtype"] == "bf16"


@pytest.mark.parametrize("name", PREQUANTIZED)
def test_a_bundled_checkpoint_already_quantized_is_not_quantized_again(name: str) -> None:
    with pytest.raises(ValidationError, match="already quantized"):
        check_quantizable(config(name), QuantizationSettings())
