"""The packaging job's progress and failures, written to its version's record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.aws import client
from maas.registry.versions import ModelRegistry

if TYPE_CHECKING:
    from schemas.packaging import VersionProgress


class RegistryReporter:
    """Reports one version's packaging to the model registry table.

    Parameters
    ----------
    table_name
        The models table.
    tenant_id, model_name, version
        The version being packaged.
    """

    def __init__(self, table_name: str, *, tenant_id: str, model_name: str, version: int) -> None:
        self._registry = ModelRegistry(table_name, client("dynamodb"))
        self._version = (tenant_id, model_name, version)

    def progress(self, progress: VersionProgress) -> None:
        """Record what the job is doing now."""
        self._registry.record_progress(*self._version, progress)

    def failed(self, error: str, cause: str) -> None:
        """Record why the job failed, for the workflow to report."""
        self._registry.record_job_failure(*self._version, error=error, cause=cause)


__all__ = ["RegistryReporter"]
