"""Step Functions on the local runtime: moto's interpreter, completed where it stops short."""

from __future__ import annotations

import json
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.local import handlers
from tests.local.support import unique

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime
    from maas.local.awslambda import LocalFunction

    RunExecution = Callable[..., ExecutionSnapshot]
    CreateStateMachine = Callable[[dict[str, Any]], str]
    DeployFunction = Callable[..., LocalFunction]


AUTOSCALING = "arn:aws:states:::aws-sdk:applicationautoscaling"


def machine(start_at: str, **states: dict[str, Any]) -> dict[str, Any]:
    """A definition with these states, each keyword one state's name."""
    return {"Comment": "test", "StartAt": start_at, "States": states}


def invoke_task(function: LocalFunction, **fields: Any) -> dict[str, Any]:
    """A Task that invokes ``function`` with the state's input, its result the payload."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function.arn, "Payload.$": "$"},
        "OutputPath": "$.Payload",
        **fields,
    }


def caught(name: str) -> dict[str, Any]:
    """A Pass state that reports which catcher led to it, and the error it caught."""
    return {
        "Type": "Pass",
        "Parameters": {"caught_by": name, "error.$": "$.Error", "cause.$": "$.Cause"},
        "End": True,
    }


# Execution names


def test_unnamed_executions_get_distinct_arns(
    runtime: LocalRuntime, create_state_machine: CreateStateMachine
) -> None:
    arn = create_state_machine(machine("Done", Done={"Type": "Succeed"}))
    stepfunctions = runtime.client("stepfunctions")

    first = stepfunctions.start_execution(stateMachineArn=arn)["executionArn"]
    second = stepfunctions.start_execution(stateMachineArn=arn)["executionArn"]

    assert first != second
    for execution_arn in (first, second):
        name = execution_arn.rsplit(":", 1)[1]
        assert str(uuid.UUID(name)) == name
        assert stepfunctions.describe_execution(executionArn=execution_arn)["name"] == name


def test_a_named_execution_keeps_its_name(
    runtime: LocalRuntime, create_state_machine: CreateStateMachine
) -> None:
    arn = create_state_machine(machine("Done", Done={"Type": "Succeed"}))

    started = runtime.client("stepfunctions").start_execution(stateMachineArn=arn, name="first")

    assert started["executionArn"].endswith(":first")


# Output


@pytest.mark.parametrize("result", ["a string", None, 3, ["a", 1], {"endpoint": "chat"}])
def test_describe_execution_answers_the_result_as_json_text(
    result: Any,
    runtime: LocalRuntime,
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    arn = create_state_machine(machine("Answer", Answer={"Type": "Pass", "End": True}))

    execution = run_execution(arn, result)

    described = runtime.client("stepfunctions").describe_execution(executionArn=execution.arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == result


# Errors raised by Lambda handlers


def test_a_catch_on_maas_validation_error_catches_a_handler_raising_it(
    deploy_function: DeployFunction,
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    function = deploy_function("raise_validation_error")
    arn = create_state_machine(
        machine(
            "Plan",
            Plan=invoke_task(
                function,
                End=True,
                Catch=[
                    {"ErrorEquals": ["Maas.ValidationError"], "Next": "Rejected"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Broken"},
                ],
            ),
            Rejected=caught("Maas.ValidationError"),
            Broken=caught("States.ALL"),
        )
    )

    execution = run_execution(arn, {"message": "endpoint_name: too long"})

    assert execution.status == "SUCCEEDED"
    assert execution.path == ["Plan", "Rejected"]
    assert execution.output["caught_by"] == "Maas.ValidationError"
    assert execution.output["error"] == "Maas.ValidationError"
    assert json.loads(execution.output["cause"])["errorMessage"] == "endpoint_name: too long"


def test_a_catch_naming_another_error_lets_the_error_fall_to_states_all(
    deploy_function: DeployFunction,
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    function = deploy_function("raise_validation_error")
    arn = create_state_machine(
        machine(
            "Plan",
            Plan=invoke_task(
                function,
                End=True,
                Catch=[
                    {"ErrorEquals": ["Maas.NotFound"], "Next": "Missing"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Broken"},
                ],
            ),
            Missing=caught("Maas.NotFound"),
            Broken=caught("States.ALL"),
        )
    )

    execution = run_execution(arn, {})

    assert execution.path == ["Plan", "Broken"]
    assert execution.output["error"] == "Maas.ValidationError"


def test_an_uncaught_handler_error_fails_the_execution_with_its_name(
    deploy_function: DeployFunction,
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    function = deploy_function("raise_validation_error")
    arn = create_state_machine(machine("Plan", Plan=invoke_task(function, End=True)))

    execution = run_execution(arn, {"message": "tenant_id: missing"})

    assert execution.status == "FAILED"
    assert execution.error == "Maas.ValidationError"
    assert json.loads(execution.cause or "")["errorMessage"] == "tenant_id: missing"


# Map


def test_map_iterations_run_concurrently_each_with_its_own_function_environment_and_input(
    deploy_function: DeployFunction,
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    functions = [
        deploy_function("environment", environment={"MARKER": f"function-{index}"})
        for index in range(4)
    ]
    rendezvous = unique("map")
    # Every iteration waits here for the three others: only concurrent iterations pass.
    handlers.RENDEZVOUS[rendezvous] = threading.Barrier(4)
    arn = create_state_machine(
        machine(
            "EachFunction",
            EachFunction={
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 4,
                "ItemProcessor": machine(
                    "Invoke",
                    Invoke={
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {
                            "FunctionName.$": "$.function",
                            "Payload": {
                                "names": ["MARKER"],
                                "input.$": "$.input",
                                "rendezvous": rendezvous,
                            },
                        },
                        "OutputPath": "$.Payload",
                        "End": True,
                    },
                ),
                "End": True,
            },
        )
    )
    items = [{"function": function.arn, "input": index} for index, function in enumerate(functions)]

    execution = run_execution(arn, {"items": items})

    assert execution.status == "SUCCEEDED", execution.cause
    assert [(seen["input"], seen["invocation"]["MARKER"]) for seen in execution.output] == [
        (index, f"function-{index}") for index in range(4)
    ]


# Variables and JSONata


def remember_and_recall(assign: dict[str, Any]) -> dict[str, Any]:
    """Assign variables in one state; output them from the next."""
    names = [name.removesuffix(".$") for name in assign]
    return machine(
        "Remember",
        Remember={"Type": "Pass", "Assign": assign, "Next": "Recall"},
        Recall={
            "Type": "Pass",
            "Parameters": {f"{name}.$": f"${name}" for name in names},
            "End": True,
        },
    )


def test_assigned_variables_are_read_by_later_jsonpath_states(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    arn = create_state_machine(remember_and_recall({"tenant.$": "$.tenant", "replicas": 2}))

    execution = run_execution(arn, {"tenant": "acme"})

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"tenant": "acme", "replicas": 2}


def test_an_assigned_literal_string_may_hold_a_double_quote_and_a_backslash(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    arn = create_state_machine(
        remember_and_recall({"quoted": 'say "hi"', "nested": {"path": "C:\\models"}})
    )

    execution = run_execution(arn, {})

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"quoted": 'say "hi"', "nested": {"path": "C:\\models"}}


def test_a_variable_assigned_from_the_input_may_hold_a_double_quote(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    arn = create_state_machine(remember_and_recall({"reason.$": "$.reason"}))

    execution = run_execution(arn, {"reason": 'model "chat" is missing'})

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"reason": 'model "chat" is missing'}


def test_a_jsonata_state_evaluates_its_output_expression(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    arn = create_state_machine(
        machine(
            "Describe",
            Describe={
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": {
                    "total": "{% $states.input.a + $states.input.b %}",
                    "name": "{% $uppercase($states.input.name) %}",
                },
                "End": True,
            },
        )
    )

    execution = run_execution(arn, {"a": 2, "b": 3, "name": "chat"})

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"total": 5, "name": "CHAT"}


def test_jsonata_reads_variables_assigned_by_a_jsonata_state(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    definition = machine(
        "Remember",
        Remember={
            "Type": "Pass",
            "Assign": {"greeting": "{% 'hello ' & $states.input.name %}"},
            "Next": "Recall",
        },
        Recall={"Type": "Pass", "Output": {"said": "{% $greeting %}"}, "End": True},
    )
    arn = create_state_machine({**definition, "QueryLanguage": "JSONata"})

    execution = run_execution(arn, {"name": "chat"})

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"said": "hello chat"}


# AWS SDK integrations' error names


def test_an_sdk_call_on_a_missing_sagemaker_endpoint_fails_as_sagemaker_exception(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    arn = create_state_machine(
        machine(
            "Describe",
            Describe={
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                "Parameters": {"EndpointName": "missing"},
                "Catch": [{"ErrorEquals": ["SageMaker.SageMakerException"], "Next": "Missing"}],
                "End": True,
            },
            Missing=caught("SageMaker.SageMakerException"),
        )
    )

    execution = run_execution(arn, {})

    assert execution.path == ["Describe", "Missing"]
    assert execution.output["error"] == "SageMaker.SageMakerException"
    assert "Could not find endpoint" in execution.output["cause"]


def test_deregistering_a_missing_scalable_target_fails_as_object_not_found(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    arn = create_state_machine(
        machine(
            "Deregister",
            Deregister={
                "Type": "Task",
                "Resource": f"{AUTOSCALING}:deregisterScalableTarget",
                "Parameters": {
                    "ServiceNamespace": "sagemaker",
                    "ResourceId": "endpoint/missing/variant/AllTraffic",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                },
                "Catch": [
                    {
                        "ErrorEquals": ["ApplicationAutoScaling.ObjectNotFoundException"],
                        "Next": "AlreadyGone",
                    }
                ],
                "End": True,
            },
            AlreadyGone=caught("ApplicationAutoScaling.ObjectNotFoundException"),
        )
    )

    execution = run_execution(arn, {})

    assert execution.path == ["Deregister", "AlreadyGone"]
    assert execution.output["error"] == "ApplicationAutoScaling.ObjectNotFoundException"
    assert "No scalable target found" in execution.output["cause"]


def test_an_sdk_call_that_succeeds_returns_the_pascal_case_response(
    runtime: LocalRuntime, create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    resource_id = f"endpoint/{unique('chat')}/variant/AllTraffic"
    arn = create_state_machine(
        machine(
            "Register",
            Register={
                "Type": "Task",
                "Resource": f"{AUTOSCALING}:registerScalableTarget",
                "Parameters": {
                    "ServiceNamespace": "sagemaker",
                    "ResourceId": resource_id,
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "MinCapacity": 1,
                    "MaxCapacity": 2,
                },
                "End": True,
            },
        )
    )

    execution = run_execution(arn, {})

    assert execution.status == "SUCCEEDED", execution.cause
    assert "ScalableTargetARN" in execution.output
    targets = runtime.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource_id]
    )["ScalableTargets"]
    assert [(target["MinCapacity"], target["MaxCapacity"]) for target in targets] == [(1, 2)]


# Child executions (states:startExecution.sync:2)


def start_child(child_arn: str) -> dict[str, Any]:
    """A Task that runs ``child_arn`` on ``$.child_input`` as ``<execution name>-child``."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {
            "StateMachineArn": child_arn,
            "Name.$": "States.Format('{}-child', $$.Execution.Name)",
            "Input.$": "$.child_input",
        },
        "End": True,
    }


def test_a_child_execution_runs_under_a_derived_name_and_its_output_is_json(
    runtime: LocalRuntime, create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    child = create_state_machine(
        machine("Answer", Answer={"Type": "Pass", "Parameters": {"got.$": "$.n"}, "End": True})
    )
    parent = create_state_machine(machine("Run child", **{"Run child": start_child(child)}))

    execution = run_execution(parent, {"child_input": {"n": 7}})

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["Output"] == {"got": 7}
    assert execution.output["Status"] == "SUCCEEDED"
    assert execution.output["ExecutionArn"].endswith(f":{execution.name}-child")


def test_a_failed_child_fails_the_task_with_its_error_in_the_cause(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    child = create_state_machine(
        machine("Fail", Fail={"Type": "Fail", "Error": "Maas.NotFound", "Cause": "no such"})
    )
    parent = create_state_machine(
        machine(
            "Run child",
            **{
                "Run child": {
                    **start_child(child),
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                },
                "Caught": caught("States.ALL"),
            },
        )
    )

    execution = run_execution(parent, {"child_input": {}})

    assert execution.output["error"] == "States.TaskFailed"
    described_child = json.loads(execution.output["cause"])
    assert (described_child["Error"], described_child["Cause"]) == ("Maas.NotFound", "no such")
