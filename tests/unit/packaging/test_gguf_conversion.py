"""GGUF to safetensors: the demo model converted once per run (``converted_smollm2``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer

from maas.advisor import read_safetensors_headers

if TYPE_CHECKING:
    from pathlib import Path


def test_the_converted_folder_is_a_hugging_face_folder_with_bf16_safetensors(
    converted_smollm2: Path,
) -> None:
    names = {path.name for path in converted_smollm2.iterdir()}
    config = json.loads((converted_smollm2 / "config.json").read_text())

    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= names
    assert config["model_type"] == "llama"
    assert "quantization_config" not in config
    with safe_open(converted_smollm2 / "model.safetensors", "pt") as weights:
        dtypes = {weights.get_slice(name).get_dtype() for name in weights.keys()}  # noqa: SIM118
    assert dtypes == {"BF16"}


def test_the_advisor_counts_the_converted_weights(converted_smollm2: Path) -> None:
    tensors = read_safetensors_headers(converted_smollm2)

    assert sum(tensor.parameters for tensor in tensors.values()) == 134_515_008


def test_the_converted_model_loads_and_answers(converted_smollm2: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(converted_smollm2)
    model = AutoModelForCausalLM.from_pretrained(converted_smollm2)
    prompt = tokenizer("The capital of France is", return_tensors="pt")

    output = model.generate(**prompt, max_new_tokens=4, do_sample=False)

    assert "Paris" in tokenizer.decode(output[0][prompt["input_ids"].shape[1] :])
