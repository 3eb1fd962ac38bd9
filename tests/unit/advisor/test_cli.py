"""``maas recommend``: one JSON object with --json, tables without, one line on bad input."""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from maas.cli.main import app
from tests.unit.advisor.support import CONFIGS, config, write_safetensors

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
LLAMA_8B = str(CONFIGS / "llama-3.1-8b-instruct.json")


def recommend(*arguments: str) -> Any:
    return runner.invoke(app, ["recommend", *arguments])


def test_json_output_is_the_report() -> None:
    result = recommend("--config", LLAMA_8B, "--batch", "8", "--prompt-tokens", "512", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["weight_bytes"] == 16_060_522_496
    assert report["kv_bytes_per_token"] == 131_072
    assert report["request"]["concurrent_requests"] == 8
    assert report["prefill_peak_over_weights_bytes"] > 0
    assert report["recommendation"]["reasons"]["engine"]


def test_options_reach_the_request() -> None:
    result = recommend(
        "--config",
        LLAMA_8B,
        "--json",
        "--context-tokens",
        "16384",
        "--preference",
        "latency",
        "--instance-type",
        "ml.p5.48xlarge",
        "--quantization",
        "none",
    )
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["recommendation"]
    assert (best["instance_type"], best["max_model_len"], best["engine"]) == (
        "ml.p5.48xlarge",
        16384,
        "trtllm",
    )


def test_without_json_the_choice_and_its_reasons_are_shown() -> None:
    result = recommend("--config", LLAMA_8B, "--batch", "8")
    assert result.exit_code == 0, result.output
    assert "why" in result.stdout
    assert "instance_type:" in result.stdout
    assert "8,030,261,248" in result.stdout


def test_a_checkpoint_directory_brings_its_safetensors_headers(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config("smollm2-135m-instruct")))
    write_safetensors(
        tmp_path / "model.safetensors", {"model.embed_tokens.weight": ("BF16", (49152, 576))}
    )
    result = recommend("--config", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["parameters_source"], report["parameters"]) == ("safetensors", 49152 * 576)
    assert report["model"] == tmp_path.name


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda path: None, "error: --config: no such file: "),
        (lambda path: path.write_text("{not json"), "is not valid JSON"),
        (lambda path: path.write_text("[1, 2]"), "does not hold a JSON object"),
        (
            lambda path: path.write_text('{"model_type": "mixtral"}'),
            "error: Maas.UnsupportedArchitecture: config: model_type 'mixtral' is not supported",
        ),
    ],
    ids=["missing", "invalid-json", "not-an-object", "unsupported"],
)
def test_bad_input_exits_1_with_one_line(tmp_path: Path, setup: Any, message: str) -> None:
    path = tmp_path / "config.json"
    setup(path)
    result = recommend("--config", str(path), "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_request_that_nothing_serves_exits_1_with_the_reason() -> None:
    result = recommend("--config", LLAMA_8B, "--instance-type", "ml.g5.xlarge", "--batch", "64")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Maas.NoInstanceFits: none of ml.g5.xlarge can serve")


def test_an_invalid_request_exits_1_naming_the_field() -> None:
    result = recommend("--config", LLAMA_8B, "--prompt-tokens", "9000", "--context-tokens", "4096")
    assert result.exit_code == 1
    assert "prompt_tokens (9000) exceeds context_tokens (4096)" in result.stderr


def test_config_and_model_are_exclusive() -> None:
    result = recommend()
    assert result.exit_code == 1
    assert result.stderr == "error: give exactly one of --config and --model\n"


def test_model_without_huggingface_hub_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.import_module

    def without_hub(name: str, package: str | None = None) -> Any:
        if name == "huggingface_hub":
            raise ModuleNotFoundError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_hub)
    result = recommend("--model", "Qwen/Qwen2.5-0.5B-Instruct")
    assert result.exit_code == 1
    assert "pip install huggingface_hub" in result.stderr


def test_model_reads_the_config_and_headers_from_the_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys
    import types

    downloaded = tmp_path / "config.json"
    downloaded.write_text(json.dumps(config("qwen2.5-0.5b-instruct")))
    calls: list[tuple[str, str | None]] = []

    def hf_hub_download(repo_id: str, filename: str, revision: str | None = None) -> str:
        calls.append((f"{repo_id}/{filename}", revision))
        return str(downloaded)

    class HfApi:
        def get_safetensors_metadata(self, repo_id: str, revision: str | None = None) -> Any:
            calls.append((repo_id, revision))
            info = types.SimpleNamespace(
                dtype="BF16", shape=[151936, 896], data_offsets=(0, 151936 * 896 * 2)
            )
            file = types.SimpleNamespace(tensors={"model.embed_tokens.weight": info})
            return types.SimpleNamespace(files_metadata={"model.safetensors": file})

    hub = types.SimpleNamespace(hf_hub_download=hf_hub_download, HfApi=HfApi)
    monkeypatch.setitem(sys.modules, "huggingface_hub", hub)
    result = recommend(
        "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--revision", "7ae557604adf", "--json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert report["parameters_source"] == "safetensors"
    assert calls == [
        ("Qwen/Qwen2.5-0.5B-Instruct/config.json", "7ae557604adf"),
        ("Qwen/Qwen2.5-0.5B-Instruct", "7ae557604adf"),
    ]


def test_a_hub_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    def hf_hub_download(repo_id: str, filename: str, revision: str | None = None) -> str:
        raise OSError("401 Client Error\nmore detail")

    monkeypatch.setitem(
        sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download)
    )
    result = recommend("--model", "meta-llama/Llama-3.1-8B-Instruct")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --model: cannot read meta-llama/Llama-3.1-8B-Instruct from the Hub: "
        "OSError: 401 Client Error\n"
    )


def test_the_alternatives_are_shown_with_the_step_each_needs() -> None:
    """A bf16 checkpoint is recommended as stored; what quantizing or Neuron would give is
    shown apart, with what it needs first, never as the choice."""
    result = recommend("--config", LLAMA_8B, "--batch", "8")
    assert result.exit_code == 0, result.output
    assert "Alternatives (each needs a step first)" in result.stdout
    assert "quantized needs:" in result.stdout
    # The quantized alternative names the command that makes its checkpoint.
    assert "maas versions quantize" in " ".join(result.stdout.split())
