"""The evaluation job's entrypoint, on AWS Batch and on the local runtime alike.

The job definition's command is ``["python", "-m", "containers.evaluator.entrypoint"]``; the
job reads the evaluation's job document from ``MAAS_EVALUATION_JOB`` (an S3 URI) and its
shard's index from ``MAAS_EVALUATION_SHARD``. All the work is
:func:`maas.evaluation.shard.main`'s; this module only gives it a command line.
"""

from __future__ import annotations

import sys

from maas.evaluation.shard import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
