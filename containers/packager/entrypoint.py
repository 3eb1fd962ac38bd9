"""The packaging job's entrypoint, on AWS Batch and on the local runtime alike.

The job definition's command is ``["python", "-m", "containers.packager.entrypoint"]``; the
job reads its :class:`~schemas.packaging.PackagingJob` from ``MAAS_PACKAGING_JOB``. Before
anything else it acts as the job's tenant (:func:`maas.tenancy.act_as_tenant`): its own role
may do nothing but assume the tenant role, so every file, record and secret it then touches
is the tenant's. All the work is :func:`maas.packaging.main`'s; this module only gives it a
command line and a tenant's session.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import pydantic

from maas.packaging import main
from maas.registry.packaging_steps import JOB_ENVIRONMENT_VARIABLE
from maas.tenancy import run_as_tenant
from schemas.packaging import PackagingJob

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The session's name says what acts (``maas-packager-<tenant>``).
PURPOSE = "packager"


def job_tenant(environ: Mapping[str, str] = os.environ) -> str | None:
    """The tenant of the job the workflow passed, or None when there is no valid job (then
    :func:`maas.packaging.main` reports why, without touching anything).

    >>> job_tenant({})
    >>> job_tenant({"MAAS_PACKAGING_JOB": '{"tenant_id": "acme"}'})
    """
    try:
        job = PackagingJob.model_validate_json(environ.get(JOB_ENVIRONMENT_VARIABLE, ""))
    except pydantic.ValidationError:
        return None
    return job.tenant_id


def run() -> int:
    """Act as the job's tenant, then package."""
    return run_as_tenant(job_tenant(), main, purpose=PURPOSE)


__all__ = ["job_tenant", "main", "run"]

if __name__ == "__main__":
    sys.exit(run())
