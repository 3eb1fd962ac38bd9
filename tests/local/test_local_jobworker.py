"""The local runtime's warm job worker: a ``python -m`` job runs in a forked child as it would
in a process of its own (its environment, arguments, folder, output and exit code)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from maas.local.jobworker import JobWorker, JobWorkers
from maas.manifest import PROJECT_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

JOB = "tests.local.jobworker_job"


@pytest.fixture(scope="module")
def worker() -> Iterator[JobWorker]:
    started = JobWorker(PROJECT_ROOT, preload=(JOB,))
    yield started
    started.close()


def command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", JOB, *arguments]


def test_a_forked_job_has_its_own_environment_arguments_folder_and_exit_code(
    worker: JobWorker, tmp_path: Path
) -> None:
    environment = {**os.environ, "JOB_VARIABLE": "the job's own"}
    completed = worker.run(command("3", "0"), env=environment, cwd=tmp_path, timeout=60)
    assert completed.returncode == 3
    assert "variable=the job's own" in completed.stdout
    assert f"cwd={tmp_path}" in completed.stdout
    assert "argv=['3', '0']" in completed.stdout
    # The module was imported by the worker, before the fork: the job did not import it.
    assert "preloaded=True" in completed.stdout


def test_a_job_past_its_timeout_is_killed(worker: JobWorker, tmp_path: Path) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        worker.run(command("0", "60"), env=dict(os.environ), cwd=tmp_path, timeout=1)


def test_a_command_that_is_not_python_m_runs_as_a_subprocess(
    worker: JobWorker, tmp_path: Path
) -> None:
    completed = worker.run(
        [sys.executable, "-c", "print('plain')"], env=dict(os.environ), cwd=tmp_path, timeout=60
    )
    assert (completed.returncode, completed.stdout.strip()) == (0, "plain")


def test_only_the_entrypoints_with_a_preload_list_run_warm() -> None:
    workers = JobWorkers(PROJECT_ROOT, preloads={"some.other.entrypoint": ("json",)})
    try:
        completed = workers.run(command("0"), env=dict(os.environ), cwd=PROJECT_ROOT, timeout=60)
        assert completed.returncode == 0
        assert "preloaded=False" in completed.stdout + completed.stderr
        workers = JobWorkers(PROJECT_ROOT, preloads={JOB: (JOB,)})
        completed = workers.run(command("0"), env=dict(os.environ), cwd=PROJECT_ROOT, timeout=60)
        assert "preloaded=True" in completed.stdout + completed.stderr
    finally:
        workers.close()
