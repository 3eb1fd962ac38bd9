"""Packaged models for the serving tests: a tiny random Llama with SmolLM2's tokenizer.

The model has SmolLM2's vocabulary and chat template but two layers of 64 units and random
weights: it loads and generates in a fraction of a second and writes gibberish, which is
all a contract test needs. The tokenizer comes from the demo model's GGUF file (no network);
reading it takes a while, so it is converted once and kept in pytest's cache.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from maas.local.demo_model import demo_model_path

#: serving.properties as the packager writes it for the tiny model.
TINY_SERVING_PROPERTIES = (
    "engine=Python\n"
    "option.rolling_batch=vllm\n"
    "option.max_rolling_batch_size=4\n"
    "option.max_model_len=256\n"
    "option.dtype=bf16\n"
    "option.tensor_parallel_degree=1\n"
)


#: Changes whenever :func:`save_tiny_llama` builds something else, so caches are rebuilt.
TINY_RECIPE = "1"


def smollm2_tokenizer(cache: Path) -> Path:
    """A folder with SmolLM2's tokenizer files, converted from the GGUF file once per cache."""
    gguf = demo_model_path()
    folder = cache / f"smollm2-tokenizer-{gguf.stat().st_size}"
    if (folder / "tokenizer.json").is_file():
        return folder
    from transformers import AutoTokenizer

    staging = Path(tempfile.mkdtemp(dir=cache))
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(staging)
    try:
        staging.rename(folder)
    except OSError:  # another worker got there first
        shutil.rmtree(staging)
    return folder


def tiny_llama(cache: Path) -> Path:
    """A packaged tiny Llama, built once per cache (its weights are seeded: always the same)."""
    folder = cache / f"tiny-llama-{TINY_RECIPE}"
    if (folder / "serving.properties").is_file():
        return folder
    staging = Path(tempfile.mkdtemp(dir=cache))
    save_tiny_llama(staging, smollm2_tokenizer(cache))
    try:
        staging.rename(folder)
    except OSError:  # another worker got there first
        shutil.rmtree(staging)
    return folder


def save_tiny_llama(
    directory: Path, tokenizer: Path, serving_properties: str = TINY_SERVING_PROPERTIES
) -> Path:
    """Write a packaged tiny Llama into ``directory``: weights, config, tokenizer, properties."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    loaded = AutoTokenizer.from_pretrained(tokenizer)
    config = LlamaConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        vocab_size=49152,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=loaded.bos_token_id,
        eos_token_id=loaded.eos_token_id,
        pad_token_id=loaded.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(directory)
    loaded.save_pretrained(directory)
    (directory / "serving.properties").write_text(serving_properties, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packaged tiny Llama (``max_model_len`` 256, batches of up to 4 sequences).

    Built once per pytest cache, so that a test process need not import torch to get it;
    each session gets its own copy.
    """
    cache = getattr(pytestconfig, "cache", None)
    built = tiny_llama(cache.mkdir("maas-serving") if cache else tmp_path_factory.mktemp("cache"))
    return Path(shutil.copytree(built, tmp_path_factory.mktemp("tiny") / "model"))
