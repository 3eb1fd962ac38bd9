"""Which of a model repository's files serving needs.

A Hub repository often holds more than one copy of its weights (safetensors and PyTorch
``.bin`` files, ``original/`` checkpoints, GGUF or ONNX exports) and files no server reads.
The packager takes the configuration, the tokenizer, the chat template, the Python files of
models that need ``trust_remote_code``, the model card and licence, and one set of weights:
safetensors when there are any, PyTorch ``.bin`` files only when there are none. Only the
repository's top level is considered: subfolders hold other formats or other models.

Examples
--------
>>> serving_files(["config.json", "model.safetensors", "pytorch_model.bin", "original/x.pth",
...                "tokenizer.json", "README.md", ".gitattributes", "model.onnx"])
['README.md', 'config.json', 'model.safetensors', 'tokenizer.json']
>>> serving_files(["config.json", "pytorch_model.bin", "vocab.txt"])
['config.json', 'pytorch_model.bin', 'vocab.txt']
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Configuration, tokenizer and chat template files, by exact name.
SUPPORT_FILES = frozenset(
    {
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "tokenizer.model",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "vocab.txt",
        "merges.txt",
        "spiece.model",
        "chat_template.jinja",
        "chat_template.json",
    }
)

# Model card and licence: the card's front matter names the licence, and a licence travels
# with the weights it covers.
_LICENCE = re.compile(r"(?i)^(readme\.md|licen[cs]e(\.(md|txt))?|notice(\.(md|txt))?)$")
# Tokenizers shipped as tiktoken files, and the code of models that need trust_remote_code.
_PATTERNS = re.compile(r"^[^/]+\.(tiktoken|py)$")
_SAFETENSORS = re.compile(r"^[^/]+\.safetensors(\.index\.json)?$")
_PYTORCH = re.compile(r"^pytorch_model[^/]*\.bin(\.index\.json)?$")


def split_weights(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The small files and the weights (with their index) among ``names``.

    Examples
    --------
    >>> split_weights(["config.json", "model.safetensors", "model.safetensors.index.json"])
    (['config.json'], ['model.safetensors', 'model.safetensors.index.json'])
    """
    small: list[str] = []
    weights: list[str] = []
    for name in names:
        (weights if _SAFETENSORS.match(name) or _PYTORCH.match(name) else small).append(name)
    return small, weights


def _wanted(name: str) -> bool:
    return name in SUPPORT_FILES or bool(_LICENCE.match(name) or _PATTERNS.match(name))


def serving_files(names: Iterable[str]) -> list[str]:
    """The names among ``names`` (paths relative to the repository) to package, sorted."""
    top = [name for name in names if "/" not in name]
    weights = [name for name in top if _SAFETENSORS.match(name)]
    if not any(name.endswith(".safetensors") for name in weights):
        weights = [name for name in top if _PYTORCH.match(name)]
    return sorted({*weights, *(name for name in top if _wanted(name))})


__all__ = ["SUPPORT_FILES", "serving_files", "split_weights"]
