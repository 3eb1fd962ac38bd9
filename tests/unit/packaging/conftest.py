"""Fixtures for the packaging specs: a recording reporter, a fake Hub, tiny models (the
converted demo model, ``converted_smollm2``, is the root conftest's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import huggingface_hub
import pytest
from huggingface_hub import HfApi

from maas.packaging import Progress
from tests.fixtures.models import write_tiny_llama
from tests.unit.packaging.hub import FakeHub

if TYPE_CHECKING:
    from pathlib import Path

    from schemas.packaging import VersionProgress


class RecordingReporter:
    """Keeps every report, in order."""

    def __init__(self) -> None:
        self.reports: list[VersionProgress] = []
        self.failures: list[tuple[str, str]] = []

    def progress(self, progress: VersionProgress) -> None:
        self.reports.append(progress)

    def failed(self, error: str, cause: str) -> None:
        self.failures.append((error, cause))

    def stages(self) -> list[str]:
        """The stages reported, each once, in order."""
        return list(dict.fromkeys(report.stage for report in self.reports))


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()


@pytest.fixture
def progress(reporter: RecordingReporter) -> Progress:
    return Progress(reporter, interval=0.0)


@pytest.fixture
def tiny_llama(tmp_path: Path) -> Path:
    """A tiny Llama folder (config, safetensors, model card) on local disk."""
    return write_tiny_llama(tmp_path / "tiny-llama")


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """A Hub holding a small model repository; change its files before fetching."""
    fake = FakeHub(
        files={
            "config.json": b'{"model_type": "llama"}',
            "tokenizer.json": b"{}",
            "model.safetensors": b"\x08" * 1000,
            "pytorch_model.bin": b"pickle",
            "README.md": b"---\nlicense: mit\n---\n",
            ".gitattributes": b"*.safetensors filter=lfs",
            "original/consolidated.pth": b"x",
        }
    )

    def model_info(api: HfApi, repo_id: str, **kwargs: object) -> object:
        return fake.model_info(repo_id, **kwargs)

    monkeypatch.setattr(HfApi, "model_info", model_info)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake.hf_hub_download)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return fake
