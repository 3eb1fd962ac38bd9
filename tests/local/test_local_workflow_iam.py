"""The local runtime refuses a state machine's calls that its execution role does not allow.

Step Functions calls services with the state machine's execution role (or the role a Task
state's ``Credentials`` names), so a call outside that role's statements fails in the
workflow with the service's AccessDenied error, which a ``Catch`` may handle
(:mod:`maas.local.workflow_credentials`, ``enforce_workflow_iam``, on in this module). The
machines here run as the Teardown machine's role, as the stacks synthesize it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.manifest import MANIFEST
from tests.local.support import unique
from tests.local.test_local_stepfunctions import caught, invoke_task, machine

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime, LocalSettings
    from maas.local.awslambda import LocalFunction
    from maas.manifest import Manifest

    RunExecution = Callable[..., ExecutionSnapshot]
    DeployFunction = Callable[..., LocalFunction]

#: The manifest's state machine whose role the machines here run as.
MACHINE = "Teardown"
SAGEMAKER = "arn:aws:states:::aws-sdk:sagemaker"


@pytest.fixture(scope="module")
def settings(settings: LocalSettings) -> LocalSettings:
    """The local tests' settings, with each state machine acting as its own role."""
    return settings.model_copy(update={"enforce_workflow_iam": True})


@pytest.fixture(scope="module")
def manifest(manifest: Manifest) -> Manifest:
    """The local tests' manifest, with :data:`MACHINE` (so its role) and its functions."""
    spec = next(spec for spec in MANIFEST.state_machines if spec.id == MACHINE)
    called = {ref.target for ref in spec.substitutions.values()}
    functions = tuple(function for function in MANIFEST.functions if function.id in called)
    return manifest.model_copy(update={"functions": functions, "state_machines": (spec,)})


@pytest.fixture(scope="module")
def create_as_machine_role(runtime: LocalRuntime) -> Callable[[dict[str, Any]], str]:
    """Create a state machine that runs as :data:`MACHINE`'s execution role."""
    role = runtime.resources.roles[f"{MACHINE}StateMachineRole"]

    def create(definition: dict[str, Any]) -> str:
        created = runtime.client("stepfunctions").create_state_machine(
            name=unique("machine"), definition=json.dumps(definition), roleArn=role
        )
        return str(created["stateMachineArn"])

    return create


def delete_missing_schedule(**fields: Any) -> dict[str, Any]:
    """``aws-sdk:scheduler:deleteSchedule`` of a time-to-live schedule that does not exist,
    which the role may delete (its endpoint calls are the tenant's workflow role's): the
    scheduler answers that it is not found."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:scheduler:deleteSchedule",
        "Parameters": {"Name": unique("maas-ttl-missing")},
        **fields,
    }


def test_a_call_the_role_allows_reaches_the_service(
    create_as_machine_role: Callable[[dict[str, Any]], str], run_execution: RunExecution
) -> None:
    arn = create_as_machine_role(
        machine(
            "Delete",
            Delete=delete_missing_schedule(
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Answered"}], End=True
            ),
            Answered=caught("States.ALL"),
        )
    )

    execution = run_execution(arn)

    assert execution.status == "SUCCEEDED"
    assert execution.output["error"] == "Scheduler.ResourceNotFoundException"


def test_an_sdk_call_outside_the_role_is_caught_as_the_service_refusing_it(
    create_as_machine_role: Callable[[dict[str, Any]], str], run_execution: RunExecution
) -> None:
    # The Teardown role deletes endpoints; it reads no model package group. AccessDenied is
    # no error SageMaker's API models, so the task fails as ``SageMaker.SageMakerException``
    # (as any unmodelled error does), its cause the service's message.
    arn = create_as_machine_role(
        machine(
            "Describe",
            Describe={
                "Type": "Task",
                "Resource": f"{SAGEMAKER}:describeModelPackageGroup",
                "Parameters": {"ModelPackageGroupName": unique("group")},
                "Catch": [{"ErrorEquals": ["SageMaker.SageMakerException"], "Next": "Refused"}],
                "End": True,
            },
            Refused=caught("SageMaker.SageMakerException"),
        )
    )

    execution = run_execution(arn)

    assert execution.output["caught_by"] == "SageMaker.SageMakerException"
    cause = execution.output["cause"]
    assert f"assumed-role/maas-{MACHINE.lower()}-state-machine-role/" in cause
    assert "is not authorized to perform: sagemaker:DescribeModelPackageGroup" in cause


def test_invoking_a_function_outside_the_role_fails_the_execution_in_a_parallel_branch(
    create_as_machine_role: Callable[[dict[str, Any]], str],
    run_execution: RunExecution,
    deploy_function: DeployFunction,
) -> None:
    # A branch runs on a thread of its own, with its execution's role all the same.
    function = deploy_function("echo")
    arn = create_as_machine_role(
        machine(
            "Both",
            Both={
                "Type": "Parallel",
                "Branches": [
                    machine(
                        "Delete",
                        Delete=delete_missing_schedule(End=True)
                        | {"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Answered"}]},
                        Answered={"Type": "Succeed"},
                    ),
                    machine("Invoke", Invoke=invoke_task(function, End=True)),
                ],
                "End": True,
            },
        )
    )

    execution = run_execution(arn)

    assert execution.status == "FAILED"
    assert execution.error == "Lambda.AccessDeniedException"
    assert f"lambda:InvokeFunction on resource: {function.arn}" in str(execution.cause)


def test_a_task_naming_another_role_in_credentials_calls_as_that_role(
    runtime: LocalRuntime,
    create_as_machine_role: Callable[[dict[str, Any]], str],
    run_execution: RunExecution,
) -> None:
    # The Task's Credentials name the PublishEvent function's role, which may not delete
    # schedules, though the machine's own role may.
    other = runtime.resources.roles["PublishEventFunctionRole"]
    arn = create_as_machine_role(
        machine(
            "Delete",
            Delete=delete_missing_schedule(
                Credentials={"RoleArn": other},
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Answered"}],
                End=True,
            ),
            Answered=caught("States.ALL"),
        )
    )

    execution = run_execution(arn)

    cause = execution.output["cause"]
    assert "assumed-role/maas-publish-event-function-role/" in cause
    assert "is not authorized to perform: scheduler:DeleteSchedule" in cause
