"""Packaging: turn a model from the Hub, S3 or local disk into a SageMaker LMI package.

The packaging Batch job (``containers/packager``) runs :func:`main`. It fetches the source
(:mod:`~maas.packaging.sources`), makes a folder the LMI container serves
(:mod:`~maas.packaging.series`: safetensors as is, PyTorch and GGUF converted), sizes it
with the serving-size advisor and picks its image (:mod:`~maas.packaging.sizing`), and
uploads the files and then the manifest under the version's prefix
(:mod:`~maas.packaging.upload`), reporting its progress and any failure to a
:class:`Reporter`. The container image for a custom handler is built from
:mod:`~maas.packaging.byoc`'s build context. See ``docs/packaging.md``.
"""

from __future__ import annotations

from maas.packaging.job import check_destination, main, package_model, run
from maas.packaging.reporting import LogReporter, Progress, Reporter, Stage
from maas.packaging.transfers import TransferSettings

__all__ = [
    "LogReporter",
    "Progress",
    "Reporter",
    "Stage",
    "TransferSettings",
    "check_destination",
    "main",
    "package_model",
    "run",
]
