"""AWS Batch on the local runtime: a job runs its container's command as a local process.

Why this exists: moto runs a Batch job in a Docker container (there is no Docker here) or,
in its "simple" mode, marks every job SUCCEEDED without running anything. This adapter runs
the job definition's command (with the job's overrides and ``Ref::`` parameters) as a
subprocess of this Python, with the job definition's environment, and lets its exit code
decide: 0 is SUCCEEDED, anything else FAILED with the exit code in the job description.
The process reaches the emulated AWS through ``AWS_ENDPOINT_URL``; its output goes to the
job's CloudWatch Logs stream, as on AWS. The job's description lists each environment
variable once (moto's adds another copy at every ``DescribeJobs``). A job with
``dependsOn`` waits for those jobs, as moto's own runner did.

Batch's ``Batch Job State Change`` events, which moto never emits, are announced on the
default bus with AWS's detail (the job as ``DescribeJobs`` describes it) when
:meth:`LocalBatch.announce_state_changes` is asked to: RUNNABLE and STARTING as the job is
picked up (no compute to wait for here), RUNNING, then SUCCEEDED or FAILED.

A container image is not run: the command must exist in this checkout (the image's
entrypoint is the same code, see ``containers/``). ``python`` and ``python3`` mean this
interpreter; an evaluator job runs in a child forked from a process that has already imported
what such jobs import (:mod:`maas.local.jobworker`), with the job's own environment.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moto.batch.models import Job
from moto.batch.utils import JobStatus

from maas.local.events import put_service_event
from maas.local.jobworker import JobWorkers
from maas.local.patching import replace
from maas.manifest import PROJECT_ROOT
from schemas.aws_events import BATCH_SOURCE, JOB_STATE_CHANGE

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import ExitStack

logger = logging.getLogger(__name__)

_PYTHON_NAMES = frozenset({"python", "python3"})
BATCH_LOG_GROUP = "/aws/batch/job"


def job_command(command: list[str], parameters: Mapping[str, str]) -> list[str]:
    """The command as Batch runs it: ``Ref::name`` replaced by the job's parameter.

    Examples
    --------
    >>> job_command(["python", "-m", "pkg", "Ref::source"], {"source": "s3://b/k"})[2:]
    ['pkg', 's3://b/k']
    """
    resolved = [
        parameters.get(part.removeprefix("Ref::"), part) if part.startswith("Ref::") else part
        for part in command
    ]
    if resolved and resolved[0] in _PYTHON_NAMES:
        resolved[0] = sys.executable
    return resolved


class LocalBatch:
    """Runs jobs as subprocesses.

    Parameters
    ----------
    aws_environment
        Returns the variables a job needs to reach the emulated AWS (endpoint URL, region,
        credentials); called when a job starts.
    write_logs
        Called with ``(log_group, stream, lines)`` when a job ends.
    """

    def __init__(
        self,
        aws_environment: Callable[[], Mapping[str, str]],
        write_logs: Callable[[str, str, list[str]], None],
    ) -> None:
        self._aws_environment = aws_environment
        self._write_logs = write_logs
        self._on_status_change: list[Callable[[Job, dict[str, Any]], None]] = []
        self._credentials: Callable[[str, str], Mapping[str, str]] | None = None
        # Evaluator jobs run in children of a warm, pre-imported process (see jobworker).
        self._worker = JobWorkers(PROJECT_ROOT)

    def use_credentials(self, credentials: Callable[[str, str], Mapping[str, str]]) -> None:
        """Give each job whose definition names a ``jobRoleArn`` the variables
        ``credentials(job_id, role_arn)`` returns: its role session's credentials, as ECS
        gives a task its task role's ("IAM roles for tasks",
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html)."""
        self._credentials = credentials

    def on_status_change(self, listener: Callable[[Job, dict[str, Any]], None]) -> None:
        """Call ``listener(job, detail)`` at each status a job passes through here.

        ``detail`` is the job as ``DescribeJobs`` would describe it at that status:
        RUNNABLE and STARTING as the job is picked up, RUNNING, then SUCCEEDED or FAILED
        (SUBMITTED is never announced, as on AWS). A listener that raises is logged and
        does not stop the job.
        """
        self._on_status_change.append(listener)

    def announce_state_changes(self, events: Callable[[], Any]) -> None:
        """Put ``Batch Job State Change`` on the default bus at each status, as Batch does.

        ``events()`` gives an in-process EventBridge client.
        """

        def announce(job: Job, detail: dict[str, Any]) -> None:
            put_service_event(
                events(),
                source=BATCH_SOURCE,
                detail_type=JOB_STATE_CHANGE,
                detail=detail,
                resources=[job.arn],
            )

        self.on_status_change(announce)

    def install(self, stack: ExitStack) -> None:
        """Replace moto's Docker job runner until ``stack`` closes."""
        original_details: Callable[[Job], dict[str, Any]] = Job._container_details
        original_property: Callable[[Job, str, Any], Any] = Job._get_container_property
        local = self

        def run(job: Job) -> None:
            local.run(job)

        def container_details(job: Job) -> dict[str, Any]:
            # moto drops the exit code from the full description; AWS reports it there.
            details = original_details(job)
            if job.exit_code is not None:
                details["exitCode"] = job.exit_code
            if job.job_stopped_reason:
                details["reason"] = job.job_stopped_reason
            return details

        def container_property(job: Job, name: str, default: Any) -> Any:
            if name != "environment":
                return original_property(job, name, default)
            # moto appends the definition's variables and AWS_BATCH_JOB_ID to the override's
            # own list, so each DescribeJobs (a ``.sync`` task polls it) lists them once more.
            overrides = [dict(item) for item in job.container_overrides.get(name, [])]
            overridden = {item["name"] for item in overrides}
            defined = (job.job_definition.container_properties or {}).get(name, [])
            return [
                *overrides,
                *(dict(item) for item in defined if item["name"] not in overridden),
                {"name": "AWS_BATCH_JOB_ID", "value": job.job_id},
            ]

        stack.enter_context(replace(Job, "run", run))
        stack.enter_context(replace(Job, "_get_container_property", container_property))
        stack.enter_context(replace(Job, "_container_details", container_details))
        stack.callback(self._worker.close)

    def run(self, job: Job) -> None:
        """Run ``job`` to completion and record its outcome on the moto job."""
        # moto's own runner, replaced here, is what waited for the jobs in ``dependsOn``: a
        # job starts once they all succeed, and fails without running when one fails.
        if job.depends_on and not job._wait_for_dependencies():
            job.job_stopped_reason = "Dependent Job failed"
            return
        for waiting in (JobStatus.RUNNABLE, JobStatus.STARTING):
            self._changed(job, waiting)
        job.job_started_at = datetime.now()
        job.log_stream_name = job._stream_name
        job.status = JobStatus.RUNNING
        job._start_attempt()
        self._changed(job, JobStatus.RUNNING)
        try:
            command = job_command(job._get_container_property("command", []), job.parameters)
            environment = {
                **os.environ,
                **self._aws_environment(),
                **{
                    item["name"]: item["value"]
                    for item in job._get_container_property("environment", [])
                },
                "AWS_BATCH_JOB_ID": job.job_id,
                "AWS_BATCH_JQ_NAME": job.job_queue.name,
            }
            role_arn = job._get_container_property("jobRoleArn", None)
            if self._credentials is not None and role_arn:
                environment.update(self._credentials(job.job_id, role_arn))
            timeout = (job.timeout or {}).get("attemptDurationSeconds")
            completed = self._worker.run(
                command, env=environment, cwd=PROJECT_ROOT, timeout=timeout
            )
            job.exit_code = completed.returncode
            output = (completed.stdout + completed.stderr).splitlines()
            if completed.returncode != 0:
                # AWS's words; the exit code is the container's ``exitCode``.
                job.job_stopped_reason = "Essential container in task exited"
        except subprocess.TimeoutExpired as exc:
            job.exit_code = 137
            job.job_stopped_reason = f"Job attempt duration exceeded timeout ({exc.timeout}s)"
            output = [str(exc)]
        except OSError as exc:
            job.exit_code = 127
            job.job_stopped_reason = f"CannotStartContainerError: {exc}"
            output = [str(exc)]
        self._write_logs(BATCH_LOG_GROUP, job._stream_name, output)
        job._mark_stopped(success=job.exit_code == 0)
        self._changed(job, JobStatus.SUCCEEDED if job.exit_code == 0 else JobStatus.FAILED)

    def _changed(self, job: Job, status: JobStatus) -> None:
        # moto's job status runs ahead of the job ("immediate" transitions): the detail
        # says the status this run is at.
        detail = {**job.describe(), "status": status.value}
        if status in (JobStatus.RUNNABLE, JobStatus.STARTING):
            detail.pop("startedAt", None)
        for listener in self._on_status_change:
            try:
                listener(job, detail)
            except Exception:
                # On AWS a job's status changes whether or not anyone hears of it.
                logger.exception("status %s of job %s not told", status.value, job.job_id)


__all__ = ["BATCH_LOG_GROUP", "LocalBatch", "job_command"]
