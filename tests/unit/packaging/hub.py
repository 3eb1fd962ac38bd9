"""A stand-in for the Hugging Face Hub at huggingface_hub's boundary.

``HfApi.model_info`` and ``huggingface_hub.hf_hub_download`` are replaced; everything the
packager does with their answers (pinning, selecting, verifying, retrying) runs for real.
Errors are huggingface_hub's own classes, built on real HTTP responses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub.hf_api import ModelInfo

COMMIT = "0123456789abcdef0123456789abcdef01234567"
#: Files the Hub stores with LFS (and so declares a SHA-256 for).
LFS_SUFFIXES = (".safetensors", ".bin", ".gguf")


def response(status: int, url: str = "https://huggingface.co/api/models/acme/model") -> Any:
    """An HTTP response as huggingface_hub's errors carry it."""
    return httpx2.Response(status, request=httpx2.Request("GET", url))


def git_blob_id(content: bytes) -> str:
    """The git object id of a small file."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


@dataclass
class FakeHub:
    """One model repository at one commit.

    Attributes
    ----------
    files
        The repository's files and their content.
    declared
        Overrides of what the Hub declares for a file (``size``, ``sha256``, ``blob_id``).
    failures
        Exceptions to raise, in turn, for the next downloads of a file (or ``model_info``
        under the key ``"model_info"``).
    """

    files: dict[str, bytes]
    commit: str = COMMIT
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    info_calls: list[dict[str, Any]] = field(default_factory=list)
    downloads: list[dict[str, Any]] = field(default_factory=list)

    def _fail(self, key: str) -> None:
        queued = self.failures.get(key)
        if queued:
            raise queued.pop(0)

    def _sibling(self, name: str, content: bytes) -> dict[str, Any]:
        declared = self.declared.get(name, {})
        size = declared.get("size", len(content))
        sibling: dict[str, Any] = {
            "rfilename": name,
            "size": size,
            "blobId": declared.get("blob_id", git_blob_id(content)),
        }
        if name.endswith(LFS_SUFFIXES):
            sha256 = declared.get("sha256", hashlib.sha256(content).hexdigest())
            sibling["lfs"] = {"size": size, "sha256": sha256, "pointerSize": 134}
        return sibling

    def model_info(self, repo_id: str, **kwargs: Any) -> ModelInfo:
        self.info_calls.append({"repo_id": repo_id, **kwargs})
        self._fail("model_info")
        siblings = [self._sibling(name, content) for name, content in self.files.items()]
        return ModelInfo(id=repo_id, sha=self.commit, siblings=siblings)  # type: ignore[no-untyped-call]

    def hf_hub_download(
        self, repo_id: str, filename: str, *, local_dir: Path, tqdm_class: Any, **kwargs: Any
    ) -> str:
        self.downloads.append({"repo_id": repo_id, "filename": filename, **kwargs})
        content = self.files[filename]
        with tqdm_class(total=len(content), initial=0, unit="B") as bar:
            # Half the file arrives before a failure strikes, as on a dropped connection.
            bar.update(len(content) // 2)
            self._fail(filename)
            bar.update(len(content) - len(content) // 2)
        target = Path(local_dir, filename)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return str(target)
