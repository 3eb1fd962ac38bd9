"""Step Functions' interpreter on the local runtime, as the developer guide documents it.

- ``lambda:invoke``'s output: "Invoke an AWS Lambda function with Step Functions",
  https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html (the result holds
  ``ExecutedVersion``, ``Payload``, ``SdkHttpMetadata``, ``SdkResponseMetadata`` and
  ``StatusCode``).
- A function's error as the workflow sees it: "Handling errors in Step Functions
  workflows", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
  (the error is the function's ``errorType``, the cause its error document), the document
  as https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html shows it.
- The context object: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
  (``"StartTime": "2019-03-26T20:14:13.192Z"``, ``"EnteredTime": "2019-03-26T20:14:13.192Z"``,
  ``"RedriveCount": 0`` for an execution never redriven),
  read from JSONata as ``$states.context``
  (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html) and kept in
  variables (https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html).
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.local import conformance_support

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local.awslambda import LocalFunction

    RunExecution = Callable[..., ExecutionSnapshot]
    CreateStateMachine = Callable[[dict[str, Any]], str]

#: How Step Functions writes a time: ISO 8601, UTC, milliseconds.
AWS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

#: The fixture that deploys this module's functions.
deploy = conformance_support.deploy


def _invoke_machine(function: LocalFunction, **parameters: Any) -> dict[str, Any]:
    return {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function.arn, "Payload.$": "$", **parameters},
                "End": True,
            }
        },
    }


@pytest.fixture(scope="module")
def text_function(deploy: Callable[[str], LocalFunction]) -> LocalFunction:
    return deploy("return_text")


def test_lambda_invoke_output_has_the_fields_aws_documents(
    text_function: LocalFunction,
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    execution = run_execution(create_state_machine(_invoke_machine(text_function)))

    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    assert list(output) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert output["ExecutedVersion"] == "$LATEST"
    assert output["Payload"] == {"name": "café ☕"}
    assert output["StatusCode"] == 200
    metadata = output["SdkHttpMetadata"]
    headers = metadata["HttpHeaders"]
    assert metadata["HttpStatusCode"] == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    assert headers["x-amzn-RequestId"] == output["SdkResponseMetadata"]["RequestId"]
    assert metadata["AllHttpHeaders"] == {name: [value] for name, value in headers.items()}


def test_a_result_selector_reads_the_request_id(
    text_function: LocalFunction,
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    definition = _invoke_machine(text_function)
    definition["States"]["Invoke"]["ResultSelector"] = {
        "requestId.$": "$.SdkResponseMetadata.RequestId",
        "version.$": "$.ExecutedVersion",
    }

    execution = run_execution(create_state_machine(definition))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["version"] == "$LATEST"
    assert execution.output["requestId"]


def test_log_type_tail_adds_the_log_result(
    deploy: Callable[[str], LocalFunction],
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    function = deploy("request_id")

    execution = run_execution(create_state_machine(_invoke_machine(function, LogType="Tail")))

    assert execution.status == "SUCCEEDED", execution.cause
    log = base64.b64decode(execution.output["LogResult"]).decode()
    assert f"START RequestId: {execution.output['Payload']}" in log


def test_a_function_error_is_the_error_document_with_the_handler_frames_only(
    deploy: Callable[[str], LocalFunction],
    create_state_machine: CreateStateMachine,
    run_execution: RunExecution,
) -> None:
    function = deploy("raise_from_a_helper")

    execution = run_execution(create_state_machine(_invoke_machine(function)))

    assert execution.status == "FAILED"
    assert execution.error == "JSONDecodeError"
    document = json.loads(execution.cause or "")
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert document["stackTrace"][0].startswith(
        '  File "/var/task/tests/local/conformance_handlers.py"'
    )
    assert "/work/" not in execution.cause  # type: ignore[operator]
    assert "awslambda.py" not in execution.cause  # type: ignore[operator]


# The context object's times, and datetimes in JSONata


def test_context_times_read_from_jsonpath_are_written_as_aws_does(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    definition = {
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Pass",
                "Parameters": {
                    "start.$": "$$.Execution.StartTime",
                    "entered.$": "$$.State.EnteredTime",
                },
                "End": True,
            }
        },
    }

    execution = run_execution(create_state_machine(definition))

    assert execution.status == "SUCCEEDED", execution.cause
    assert AWS_TIME.match(execution.output["start"])
    assert AWS_TIME.match(execution.output["entered"])


def test_the_context_object_counts_redrives(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    definition = {
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Pass",
                "Parameters": {"redrives.$": "$$.Execution.RedriveCount"},
                "End": True,
            }
        },
    }

    execution = run_execution(create_state_machine(definition))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"redrives": 0}


def test_jsonata_reads_the_context_start_time(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Pass",
                "Output": "{% $states.context.Execution.StartTime %}",
                "End": True,
            }
        },
    }

    execution = run_execution(create_state_machine(definition))

    assert execution.status == "SUCCEEDED", execution.cause
    assert AWS_TIME.match(execution.output)


def test_a_variable_holding_the_start_time_is_read_by_a_later_state(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Keep",
        "States": {
            "Keep": {
                "Type": "Pass",
                "Assign": {"started": "{% $states.context.Execution.StartTime %}"},
                "Next": "Read",
            },
            "Read": {"Type": "Pass", "Output": "{% {'started': $started} %}", "End": True},
        },
    }

    execution = run_execution(create_state_machine(definition))

    assert execution.status == "SUCCEEDED", execution.cause
    assert AWS_TIME.match(execution.output["started"])


def test_jsonata_reads_a_timestamp_from_an_sdk_result(
    create_state_machine: CreateStateMachine, run_execution: RunExecution
) -> None:
    # ListBuckets answers each bucket's CreationDate, a timestamp boto3 gives as a datetime
    # (the runtime provisions the product's bucket).
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "List",
        "States": {
            "List": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
                "Arguments": {},
                "Assign": {"created": "{% $states.result.Buckets[0].CreationDate %}"},
                "Output": "{% {'created': $states.result.Buckets[0].CreationDate} %}",
                "Next": "Read",
            },
            "Read": {
                "Type": "Pass",
                "Output": "{% {'kept': $created, 'read': $states.input.created} %}",
                "End": True,
            },
        },
    }

    execution = run_execution(create_state_machine(definition))

    assert execution.status == "SUCCEEDED", execution.cause
    assert AWS_TIME.match(execution.output["kept"])
    assert execution.output["kept"] == execution.output["read"]
