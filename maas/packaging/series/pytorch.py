"""A Hugging Face folder with PyTorch ``.bin`` weights: the shards become safetensors.

A ``.bin`` file is a pickle, which the serving container would have to unpickle (code that
runs on load); safetensors is plain data and loads faster. Each shard becomes the
safetensors shard of the same number, and the index, if any, is rewritten to name them. The
checkpoint is read with ``weights_only`` (no arbitrary objects) and memory-mapped, one shard
at a time. Tensors that share memory in the pickle (tied or sliced weights) are written as
copies, since a safetensors file holds each tensor's bytes once per name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from maas.exceptions import ValidationError
from maas.packaging.files import disk_full_as_insufficient_storage, ensure_free_space
from maas.packaging.reporting import Stage
from maas.packaging.selection import serving_files
from maas.packaging.series.base import ModelFolder, Series

if TYPE_CHECKING:
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from maas.packaging.sources import FetchedSource

INDEX = "pytorch_model.bin.index.json"
SAFETENSORS_INDEX = "model.safetensors.index.json"


def safetensors_name(shard: str) -> str:
    """The safetensors shard for a PyTorch shard, named as transformers names them.

    Examples
    --------
    >>> safetensors_name("pytorch_model-00001-of-00002.bin")
    'model-00001-of-00002.safetensors'
    >>> safetensors_name("pytorch_model.bin")
    'model.safetensors'
    """
    return "model" + shard.removeprefix("pytorch_model").removesuffix(".bin") + ".safetensors"


def convert_shard(shard: Path, target: Path) -> None:
    """Write the tensors of one PyTorch shard as a safetensors file."""
    # Imported here: torch takes seconds to import, and only a conversion needs it.
    import torch  # noqa: PLC0415
    from safetensors.torch import save_file  # noqa: PLC0415

    state = torch.load(shard, map_location="cpu", weights_only=True, mmap=True)
    tensors: dict[str, torch.Tensor] = {}
    storages: set[int] = set()
    for name, tensor in state.items():
        storage = tensor.untyped_storage().data_ptr()
        tensors[name] = tensor.clone() if storage in storages else tensor.contiguous()
        storages.add(storage)
    save_file(tensors, target, metadata={"format": "pt"})


class PytorchFolder(Series):
    """``config.json``, tokenizer and ``pytorch_model*.bin`` shards, no safetensors."""

    name = "pytorch"
    converts = True

    @classmethod
    def matches(cls, path: Path) -> bool:
        """A folder with PyTorch weights and no safetensors."""
        return (
            path.is_dir()
            and any(path.glob("pytorch_model*.bin"))
            and not any(path.glob("*.safetensors"))
        )

    def prepare(self, fetched: FetchedSource, output: Path, progress: Progress) -> ModelFolder:
        """Convert the shards into ``output``; the other files stay where they are."""
        folder = fetched.path
        names = serving_files(item.name for item in folder.iterdir() if item.is_file())
        if "config.json" not in names:
            raise ValidationError(f"source: {folder} has PyTorch weights but no config.json")
        shards = [name for name in names if name.endswith(".bin")]
        needed = sum((folder / name).stat().st_size for name in shards)
        progress.stage(
            Stage.CONVERTING, total_bytes=needed, message=f"{len(shards)} PyTorch shards"
        )
        output.mkdir(parents=True, exist_ok=True)
        ensure_free_space(output, needed)
        files = {name: folder / name for name in names if not name.startswith("pytorch_model")}
        with disk_full_as_insufficient_storage(output, needed):
            for shard in shards:
                target = output / safetensors_name(shard)
                convert_shard(folder / shard, target)
                files[target.name] = target
                progress.advance((folder / shard).stat().st_size)
            if INDEX in names:
                index = json.loads((folder / INDEX).read_text())
                index["weight_map"] = {
                    tensor: safetensors_name(shard) for tensor, shard in index["weight_map"].items()
                }
                (output / SAFETENSORS_INDEX).write_text(json.dumps(index, indent=2) + "\n")
                files[SAFETENSORS_INDEX] = output / SAFETENSORS_INDEX
        return ModelFolder(
            files=files,
            weights=output,
            sha256={name: fetched.sha256[name] for name in files if name in fetched.sha256},
        )


__all__ = ["PytorchFolder", "convert_shard", "safetensors_name"]
