"""The packaging job's entrypoint, on AWS Batch and on the local runtime alike.

The job definition's command is ``["python", "-m", "containers.packager.entrypoint"]``; the
job reads its :class:`~schemas.packaging.PackagingJob` from ``MAAS_PACKAGING_JOB``. All the
work is :func:`maas.packaging.main`'s; this module only gives it a command line.
"""

from __future__ import annotations

import sys

from maas.packaging import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
