"""The job definition's command runs from the repository root, as the local runtime runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from maas.manifest import PROJECT_ROOT


def test_the_entrypoint_module_runs_main_and_exits_with_its_code() -> None:
    environment = {**os.environ, "MAAS_PACKAGING_JOB": "not json"}

    completed = subprocess.run(
        [sys.executable, "-m", "containers.packager.entrypoint"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 2, completed.stderr
    assert completed.stdout.startswith("failed  Maas.ValidationError: MAAS_PACKAGING_JOB: ")
