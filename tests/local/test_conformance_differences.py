"""Known differences of the local runtime from AWS, each pinned as it is today.

Each test asserts the local behaviour that differs from the AWS page it cites, so that the
difference stays listed (``docs/local.md``) exactly as long as it exists: a change that
closes one fails its test here, which then moves to the conformance tests as AWS's
behaviour, and its line leaves ``docs/local.md``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.local import conformance_support
from tests.local.support import unique

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime
    from maas.local.awslambda import LocalFunction

#: The fixture that deploys this module's functions.
deploy = conformance_support.deploy


def _invoke_machine(function: LocalFunction) -> dict[str, Any]:
    return {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function.arn, "Payload.$": "$"},
                "End": True,
            }
        },
    }


def test_lambda_invoke_request_id_is_the_emulation_s_not_the_invocation_s(
    deploy: Callable[[str], LocalFunction],
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> None:
    """https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html shows
    ``SdkResponseMetadata.RequestId`` as a UUID; here it is moto's 52-character request id,
    not the ``requestId`` the function's context and log report."""
    function = deploy("request_id")

    execution = run_execution(create_state_machine(_invoke_machine(function)))

    request_id = execution.output["SdkResponseMetadata"]["RequestId"]
    assert len(request_id) == 52
    assert request_id != execution.output["Payload"]


def test_an_alias_reports_latest_as_the_executed_version(
    runtime: LocalRuntime, deploy: Callable[[str], LocalFunction]
) -> None:
    """https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: ``ExecutedVersion``
    is "the version the alias resolved to". Here every qualifier runs the function's one
    registered handler, and an alias reports ``$LATEST``."""
    function = deploy("return_text")
    functions = runtime.client("lambda")
    version = functions.publish_version(FunctionName=function.name)["Version"]
    functions.create_alias(FunctionName=function.name, Name="live", FunctionVersion=version)

    response = functions.invoke(FunctionName=function.name, Qualifier="live", Payload=b"{}")

    assert version == "1"
    assert response["ExecutedVersion"] == "$LATEST"


def test_installed_packages_frames_are_reported_under_the_runtime_s_site_packages(
    runtime: LocalRuntime, deploy: Callable[[str], LocalFunction]
) -> None:
    """https://docs.aws.amazon.com/lambda/latest/dg/python-package.html: a dependency is in
    the deployment package (/var/task) or a layer (/opt/python). Here every installed
    package's frame is reported under /var/lang/lib/python3.12/site-packages, where the
    runtime's own boto3 is."""
    function = deploy("call_an_unknown_service")

    response = runtime.client("lambda").invoke(FunctionName=function.name, Payload=b"{}")

    frames = json.loads(response["Payload"].read())["stackTrace"]
    assert frames[0].startswith('  File "/var/task/tests/local/conformance_handlers.py"')
    assert any("/var/lang/lib/python3.12/site-packages/boto3/" in frame for frame in frames)


def test_get_execution_history_returns_execution_data_even_when_told_not_to(
    runtime: LocalRuntime,
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> None:
    """https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html:
    ``includeExecutionData`` false leaves out events' input and output. Here they stay."""
    machine = create_state_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    execution = run_execution(machine, {"secret": 1})

    events = runtime.client("stepfunctions").get_execution_history(
        executionArn=execution.arn, includeExecutionData=False
    )["events"]

    assert events[0]["executionStartedEventDetails"]["input"] == '{"secret": 1}'


def test_a_map_s_tolerated_failure_percentage_is_refused_by_moto_s_parser(
    create_state_machine: Callable[[dict[str, Any]], str],
) -> None:
    """https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html:
    a Distributed Map takes ``ToleratedFailurePercentage`` (0 to 100). moto's parser
    refuses it (``InvalidDefinition``); ``ToleratedFailureCount`` is taken, and
    ``UpdateMapRun`` sets either while the Map Run runs."""
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Done",
        "States": {"Done": {"Type": "Pass", "End": True}},
    }
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemProcessor": processor,
                "ToleratedFailurePercentage": 50,
                "End": True,
            }
        },
    }

    with pytest.raises(ClientError) as refused:
        create_state_machine(definition)

    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"


def test_starting_a_published_version_fails_inside_moto(runtime: LocalRuntime) -> None:
    """https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html:
    ``stateMachineArn`` may be a version's ARN, and the execution runs that version. moto
    fails (an ``AttributeError`` in this process) instead of starting it."""
    stepfunctions = runtime.client("stepfunctions")
    created = stepfunctions.create_state_machine(
        name=unique("published"),
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=runtime.resources.roles["StateMachineRole"],
        publish=True,
    )

    with pytest.raises(AttributeError):
        stepfunctions.start_execution(stateMachineArn=created["stateMachineVersionArn"])


def test_test_event_pattern_accepts_an_event_without_resources(runtime: LocalRuntime) -> None:
    """https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html
    lists ``resources`` among the event's mandatory fields; here an event without it is
    tested (as LocalStack's AWS-validated tests found AWS does)."""
    event = {
        "id": "1",
        "account": "123456789012",
        "source": "a",
        "time": "2016-01-10T01:29:23Z",
        "region": "us-east-1",
        "detail-type": "x",
        "detail": {},
    }

    answer = runtime.client("events").test_event_pattern(
        EventPattern=json.dumps({"source": ["a"]}), Event=json.dumps(event)
    )

    assert answer["Result"] is True
