"""A job for the job worker's tests: says what it sees, then exits with the code it is given.

``python -m tests.local.jobworker_job CODE [SLEEP]``. Imported by the worker before it forks,
so a forked job finds this module already imported by another process (its parent).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

IMPORTED_BY = os.getpid()


def main() -> int:
    preloaded = sys.modules.get("tests.local.jobworker_job")
    imported_by = getattr(preloaded, "IMPORTED_BY", os.getpid())
    print(f"variable={os.environ.get('JOB_VARIABLE')}")
    print(f"cwd={Path.cwd()}")
    print(f"argv={sys.argv[1:]}")
    print(f"preloaded={imported_by != os.getpid()}", file=sys.stderr)
    if len(sys.argv) > 2:
        time.sleep(float(sys.argv[2]))
    return int(sys.argv[1])


if __name__ == "__main__":
    sys.exit(main())
