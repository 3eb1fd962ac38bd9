"""AWS Batch on the local runtime: a job runs its command as a process, its exit code decides."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.local.support import unique, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime

    RunExecution = Callable[..., ExecutionSnapshot]
    CreateStateMachine = Callable[[dict[str, Any]], str]

BATCH_LOG_GROUP = "/aws/batch/job"


def python(script: str) -> list[str]:
    """A container command that runs ``script`` with Python."""
    return ["python", "-c", script]


@pytest.fixture(scope="module")
def job_queue(runtime: LocalRuntime) -> str:
    """A job queue on an unmanaged compute environment; its name."""
    batch = runtime.client("batch")
    environment = batch.create_compute_environment(
        computeEnvironmentName=unique("local"),
        type="UNMANAGED",
        state="ENABLED",
        serviceRole=runtime.resources.roles["StateMachineRole"],
    )
    name = unique("jobs")
    batch.create_job_queue(
        jobQueueName=name,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[
            {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
        ],
    )
    return name


@pytest.fixture(scope="module")
def job_definition(runtime: LocalRuntime) -> Callable[..., str]:
    """Register a container job definition with this command; return its name."""

    def register(
        command: list[str],
        *,
        environment: dict[str, str] | None = None,
        parameters: dict[str, str] | None = None,
    ) -> str:
        name = unique("job")
        runtime.client("batch").register_job_definition(
            jobDefinitionName=name,
            type="container",
            parameters=parameters or {},
            containerProperties={
                "image": "maas/local-test:latest",
                "command": command,
                "environment": [
                    {"name": key, "value": value} for key, value in (environment or {}).items()
                ],
                "resourceRequirements": [
                    {"type": "VCPU", "value": "1"},
                    {"type": "MEMORY", "value": "512"},
                ],
            },
        )
        return name

    return register


@pytest.fixture(scope="module")
def run_job(runtime: LocalRuntime, job_queue: str) -> Callable[..., dict[str, Any]]:
    """Submit a job of this definition and wait until it stops; return its description."""
    batch = runtime.client("batch")

    def run(definition: str, **submit: Any) -> dict[str, Any]:
        job_id = batch.submit_job(
            jobName=unique("job"), jobQueue=job_queue, jobDefinition=definition, **submit
        )["jobId"]

        def stopped() -> dict[str, Any] | None:
            job: dict[str, Any] = batch.describe_jobs(jobs=[job_id])["jobs"][0]
            return job if job["status"] in ("SUCCEEDED", "FAILED") else None

        return wait_until(stopped, timeout=20)  # type: ignore[no-any-return]

    return run


@pytest.fixture(scope="module")
def job_output(runtime: LocalRuntime) -> Callable[[dict[str, Any]], list[str]]:
    """The lines in a stopped job's CloudWatch Logs stream."""

    def read(job: dict[str, Any]) -> list[str]:
        events = runtime.client("logs").get_log_events(
            logGroupName=BATCH_LOG_GROUP, logStreamName=job["container"]["logStreamName"]
        )["events"]
        return [event["message"] for event in events]

    return read


# Exit codes


def test_a_job_whose_command_exits_0_succeeds(
    job_definition: Callable[..., str], run_job: Callable[..., dict[str, Any]]
) -> None:
    job = run_job(job_definition(python("raise SystemExit(0)")))

    assert job["status"] == "SUCCEEDED"
    assert job["container"]["exitCode"] == 0


def test_a_job_whose_command_exits_3_fails_with_exit_code_3(
    job_definition: Callable[..., str], run_job: Callable[..., dict[str, Any]]
) -> None:
    job = run_job(job_definition(python("raise SystemExit(3)")))

    assert job["status"] == "FAILED"
    assert job["container"]["exitCode"] == 3
    assert job["statusReason"].startswith("Essential container in task exited")


def test_a_job_whose_command_does_not_exist_fails_to_start(
    job_definition: Callable[..., str], run_job: Callable[..., dict[str, Any]]
) -> None:
    job = run_job(job_definition(["/no/such/entrypoint"]))

    assert job["status"] == "FAILED"
    assert job["container"]["reason"].startswith("CannotStartContainerError:")


# Dependencies


def test_a_job_that_depends_on_another_starts_after_it_succeeds(
    runtime: LocalRuntime,
    job_queue: str,
    job_definition: Callable[..., str],
    run_job: Callable[..., dict[str, Any]],
) -> None:
    first = runtime.client("batch").submit_job(
        jobName=unique("first"),
        jobQueue=job_queue,
        jobDefinition=job_definition(python("import time; time.sleep(0.5)")),
    )["jobId"]

    second = run_job(job_definition(python("pass")), dependsOn=[{"jobId": first}])

    [before] = runtime.client("batch").describe_jobs(jobs=[first])["jobs"]
    assert (before["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert second["startedAt"] >= before["stoppedAt"]


def test_a_job_whose_dependency_fails_fails_without_running(
    runtime: LocalRuntime,
    job_queue: str,
    job_definition: Callable[..., str],
    run_job: Callable[..., dict[str, Any]],
) -> None:
    first = runtime.client("batch").submit_job(
        jobName=unique("first"),
        jobQueue=job_queue,
        jobDefinition=job_definition(python("raise SystemExit(1)")),
    )["jobId"]

    second = run_job(job_definition(python("pass")), dependsOn=[{"jobId": first}])

    assert second["status"] == "FAILED"
    assert second["statusReason"] == "Dependent Job failed"
    assert "exitCode" not in second["container"]
    assert "logStreamName" not in second["container"]


# What the job's process is given


def test_ref_parameters_in_the_command_are_replaced_by_the_job_parameters(
    job_definition: Callable[..., str],
    run_job: Callable[..., dict[str, Any]],
    job_output: Callable[[dict[str, Any]], list[str]],
) -> None:
    definition = job_definition(
        [*python("import sys; print(sys.argv[1:])"), "Ref::source", "Ref::mode"],
        parameters={"mode": "default-mode"},
    )

    job = run_job(definition, parameters={"source": "s3://artifacts/chat/1/"})

    assert job["status"] == "SUCCEEDED"
    assert job_output(job) == ["['s3://artifacts/chat/1/', 'default-mode']"]


def test_the_job_environment_holds_the_definition_and_override_variables(
    job_definition: Callable[..., str],
    run_job: Callable[..., dict[str, Any]],
    job_output: Callable[[dict[str, Any]], list[str]],
) -> None:
    script = "import os; print([os.environ.get(name) for name in ('STAGE', 'MODEL', 'RUN')])"
    definition = job_definition(python(script), environment={"STAGE": "local", "MODEL": "old"})

    job = run_job(
        definition,
        containerOverrides={
            "environment": [{"name": "MODEL", "value": "chat"}, {"name": "RUN", "value": "7"}]
        },
    )

    assert job["status"] == "SUCCEEDED"
    assert job_output(job) == ["['local', 'chat', '7']"]


def test_describe_jobs_lists_each_environment_variable_once_the_override_winning(
    runtime: LocalRuntime,
    job_definition: Callable[..., str],
    run_job: Callable[..., dict[str, Any]],
) -> None:
    definition = job_definition(python("pass"), environment={"STAGE": "local", "MODEL": "old"})
    job = run_job(
        definition, containerOverrides={"environment": [{"name": "MODEL", "value": "chat"}]}
    )

    described = [
        runtime.client("batch").describe_jobs(jobs=[job["jobId"]])["jobs"][0]["container"]
        for _ in range(2)
    ]

    for container in described:
        names = [item["name"] for item in container["environment"]]
        assert len(names) == len(set(names)), names
        values = {item["name"]: item["value"] for item in container["environment"]}
        assert (values["STAGE"], values["MODEL"]) == ("local", "chat")


def test_the_job_reaches_the_same_emulated_account_through_aws_endpoint_url(
    runtime: LocalRuntime,
    job_definition: Callable[..., str],
    run_job: Callable[..., dict[str, Any]],
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    key = f"{unique('packaged')}/model.tar.gz"
    script = (
        "import boto3, os, sys; "
        "assert os.environ['AWS_ENDPOINT_URL'].startswith('http://127.0.0.1:'); "
        "boto3.client('s3').put_object(Bucket=sys.argv[1], Key=sys.argv[2], Body=b'weights')"
    )

    job = run_job(job_definition([*python(script), bucket, key]))

    assert job["status"] == "SUCCEEDED"
    written = runtime.client("s3").get_object(Bucket=bucket, Key=key)
    assert written["Body"].read() == b"weights"


def test_job_output_lands_in_the_batch_log_group(
    runtime: LocalRuntime,
    job_definition: Callable[..., str],
    run_job: Callable[..., dict[str, Any]],
    job_output: Callable[[dict[str, Any]], list[str]],
) -> None:
    script = "import sys; print('packaging'); print('no weights', file=sys.stderr); sys.exit(2)"

    job = run_job(job_definition(python(script)))

    assert job["container"]["logStreamName"].endswith(f"/default/{job['jobId']}")
    assert job_output(job) == ["packaging", "no weights"]


# The Step Functions integration (PascalCase both ways)


@pytest.fixture(scope="module")
def sync_machine(job_queue: str, create_state_machine: CreateStateMachine) -> Callable[[str], str]:
    """A state machine running a job of this definition with ``batch:submitJob.sync``."""

    def create(definition: str) -> str:
        return create_state_machine(submit_job_sync(job_queue, definition))

    return create


def submit_job_sync(job_queue: str, definition: str) -> dict[str, Any]:
    """One ``batch:submitJob.sync`` task, as AWS documents it; ``$.model`` goes in MODEL."""
    return {
        "StartAt": "Package",
        "States": {
            "Package": {
                "Type": "Task",
                "Resource": "arn:aws:states:::batch:submitJob.sync",
                "Parameters": {
                    "JobName": "package-model",
                    "JobQueue": job_queue,
                    "JobDefinition": definition,
                    "ContainerOverrides": {
                        "Environment": [{"Name": "MODEL", "Value.$": "$.model"}]
                    },
                },
                "End": True,
            }
        },
    }


def test_submit_job_sync_takes_pascal_case_parameters_and_returns_pascal_case(
    runtime: LocalRuntime,
    job_definition: Callable[..., str],
    sync_machine: Callable[[str], str],
    run_execution: RunExecution,
    job_output: Callable[[dict[str, Any]], list[str]],
) -> None:
    definition = job_definition(python("import os; print(os.environ['MODEL'])"))
    arn = sync_machine(definition)

    execution = run_execution(arn, {"model": "chat"})

    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    assert output["JobName"] == "package-model"
    assert output["Status"] == "SUCCEEDED"
    assert output["Container"]["ExitCode"] == 0
    job = runtime.client("batch").describe_jobs(jobs=[output["JobId"]])["jobs"][0]
    assert job_output(job) == ["chat"]


def test_a_failing_job_fails_its_submit_job_sync_task_with_states_task_failed(
    job_definition: Callable[..., str],
    sync_machine: Callable[[str], str],
    run_execution: RunExecution,
) -> None:
    arn = sync_machine(job_definition(python("raise SystemExit(3)")))

    execution = run_execution(arn, {"model": "chat"})

    assert execution.status == "FAILED"
    assert execution.error == "States.TaskFailed"
    cause = json.loads(execution.cause or "")
    assert cause["Status"] == "FAILED"
    assert cause["Container"]["ExitCode"] == 3
