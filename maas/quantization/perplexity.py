"""Perplexity of a packaged model on a bundled text: the quality a quantization costs.

The text is the opening of *Alice's Adventures in Wonderland* (public domain; source and
licence in ``maas/data/quantization/README.md``). Both the parent and the quantized version
are scored in float32, in windows of at most :data:`WINDOW` tokens, so that the difference
is the weights' and not the arithmetic's.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

#: The bundled text, and the name the lineage records it by.
EVALUATION_TEXT = (
    Path(__file__).resolve().parent.parent / "data" / "quantization" / ("alice-chapter-1.txt")
)
#: Tokens per scored window (each window's first token is context only).
WINDOW = 512


class Perplexity(NamedTuple):
    """A model's perplexity on a text, and the tokens it was measured on."""

    value: float
    tokens: int


def perplexity(model_dir: Path, text: str, *, window: int = WINDOW) -> Perplexity:
    """The perplexity of the model in ``model_dir`` on ``text`` (exp of the mean token NLL).

    A quantized checkpoint (compressed-tensors) is decompressed by transformers as it loads.
    """
    import torch  # noqa: PLC0415
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model: Any = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32, local_files_only=True
    )
    model.eval()
    ids = tokenizer(text, return_tensors="pt").input_ids[0]
    total, scored = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(ids) - 1, window):
            chunk = ids[start : start + window + 1].unsqueeze(0)
            if chunk.shape[1] < 2:
                break
            logits = model(chunk[:, :-1]).logits.float()
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1), reduction="sum"
            )
            total += float(loss)
            scored += chunk.shape[1] - 1
    if scored == 0:
        raise ValueError("the text has fewer than two tokens")
    return Perplexity(value=math.exp(total / scored), tokens=scored)


__all__ = ["EVALUATION_TEXT", "WINDOW", "Perplexity", "perplexity"]
