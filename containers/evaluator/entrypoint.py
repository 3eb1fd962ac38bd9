"""The evaluation job's entrypoint, on AWS Batch and on the local runtime alike.

The job definition's command is ``["python", "-m", "containers.evaluator.entrypoint"]``; the
job reads the evaluation's job document from ``MAAS_EVALUATION_JOB`` (an S3 URI) and its
shard's index from ``MAAS_EVALUATION_SHARD``. Before anything else it acts as the
evaluation's tenant (:func:`maas.tenancy.act_as_tenant`): the tenant is the one whose
evaluations folder holds the job document (``evaluations/<tenant>/<id>/job.json``), and the
tenant's session can read nothing else, so a document placed under one tenant cannot make
the job read, or invoke, another's. All the work is :func:`maas.evaluation.shard.main`'s;
this module only gives it a command line and a tenant's session.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from maas.aws import split_s3_uri
from maas.evaluation.plan import JOB_URI_VARIABLE
from maas.evaluation.shard import main
from maas.tenancy import run_as_tenant

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The session's name says what acts (``maas-evaluator-<tenant>``).
PURPOSE = "evaluator"
#: The folder of every evaluation's files (``maas.evaluation.plan.evaluation_prefix``).
EVALUATIONS_FOLDER = "evaluations"


def job_tenant(environ: Mapping[str, str] = os.environ) -> str | None:
    """The tenant whose evaluations folder holds the job document, or None when the URI
    is missing or not an evaluation's (then :func:`maas.evaluation.shard.main` fails on it).

    >>> job_tenant({"MAAS_EVALUATION_JOB": "s3://art/evaluations/acme/e1/job.json"})
    'acme'
    >>> job_tenant({"MAAS_EVALUATION_JOB": "s3://art/acme/job.json"})
    """
    _, key = split_s3_uri(environ.get(JOB_URI_VARIABLE, ""))
    folder, tenant_id, evaluation_id, *_ = [*key.split("/"), "", "", ""]
    if folder != EVALUATIONS_FOLDER or not tenant_id or not evaluation_id:
        return None
    return tenant_id


def run() -> int:
    """Act as the evaluation's tenant, then score the shard."""
    return run_as_tenant(job_tenant(), main, purpose=PURPOSE)


__all__ = ["job_tenant", "main", "run"]

if __name__ == "__main__":
    sys.exit(run())
