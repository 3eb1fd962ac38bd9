"""Model sources: bring a request's model onto the packaging machine's disk.

One module per kind of source (:mod:`~maas.packaging.sources.huggingface`,
:mod:`~maas.packaging.sources.s3`, :mod:`~maas.packaging.sources.local`); each leaves a
:class:`FetchedSource`, a Hugging Face-style folder or one GGUF file, and raises the typed
errors of :mod:`maas.exceptions` when the source is missing, refused, unreachable or corrupt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.packaging.reporting import Stage
from maas.packaging.sources.fetched import FetchedSource
from maas.packaging.sources.huggingface import RetryPolicy, fetch_huggingface, hub_token
from maas.packaging.sources.local import fetch_local
from maas.packaging.sources.s3 import fetch_s3
from schemas.packaging import HuggingFaceSource, S3Source

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from maas.packaging.reporting import Progress
    from schemas.packaging import LocalSource


def fetch_source(
    source: HuggingFaceSource | S3Source | LocalSource,
    workdir: Path,
    progress: Progress,
    *,
    tenant_id: str,
    before_weights: Callable[[Path], None] | None = None,
) -> FetchedSource:
    """Bring ``source`` onto local disk; downloads go to ``workdir / "source"``.

    ``tenant_id`` is whose request it is: a Hub token's secret must be that tenant's.

    ``before_weights`` is called with the folder once its small files (``config.json``, the
    tokenizer) are there and before any weights are fetched, so that a model that cannot be
    served fails before gigabytes move. A GGUF source has no such moment.
    """
    if isinstance(source, HuggingFaceSource):
        return fetch_huggingface(
            source,
            workdir / "source",
            progress,
            before_weights=before_weights,
            tenant_id=tenant_id,
        )
    if isinstance(source, S3Source):
        return fetch_s3(source, workdir / "source", progress, before_weights=before_weights)
    progress.stage(Stage.RESOLVING, message=source.path)
    fetched = fetch_local(source)
    if before_weights is not None and fetched.path.is_dir():
        before_weights(fetched.path)
    return fetched


__all__ = [
    "FetchedSource",
    "RetryPolicy",
    "fetch_huggingface",
    "fetch_local",
    "fetch_s3",
    "fetch_source",
    "hub_token",
]
