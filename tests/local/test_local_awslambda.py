"""Lambda on the local runtime: boto3 ``Invoke`` runs the handler as AWS Lambda would."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from maas.local.awslambda import LocalFunction
from tests.local import handlers
from tests.local.support import unique, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime


def invoke(runtime: LocalRuntime, function: LocalFunction, event: Any) -> dict[str, Any]:
    """A synchronous invocation: the response, with the payload read and decoded."""
    response: dict[str, Any] = runtime.client("lambda").invoke(
        FunctionName=function.name, Payload=json.dumps(event).encode()
    )
    response["Payload"] = json.loads(response["Payload"].read())
    return response


def test_invoke_answers_with_the_handler_result(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("echo")

    response = invoke(runtime, function, {"greeting": "hello"})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["Payload"] == {"event": {"greeting": "hello"}, "function_name": function.name}


def test_invoke_by_arn_reaches_the_same_handler(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("echo")

    response = runtime.client("lambda").invoke(FunctionName=function.arn, Payload=b"{}")

    assert json.loads(response["Payload"].read())["function_name"] == function.name


def test_handler_sees_its_environment_at_cold_start_and_in_each_invocation(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("environment", environment={"TABLE_NAME": "endpoints"})
    names = ["TABLE_NAME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_DEFAULT_REGION"]

    seen = invoke(runtime, function, {"names": names})["Payload"]

    expected = {
        "TABLE_NAME": "endpoints",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_DEFAULT_REGION": runtime.settings.region,
    }
    assert seen["cold_start"] == expected
    assert seen["invocation"] == expected


def test_function_environment_stays_out_of_the_caller_process(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    variable = unique("ONLY_IN_FUNCTION").replace("-", "_")
    function = deploy_function("environment", environment={variable: "yes"})

    seen = invoke(runtime, function, {"names": [variable]})["Payload"]

    assert seen["invocation"] == {variable: "yes"}
    assert variable not in os.environ


def test_functions_running_at_the_same_time_see_only_their_own_environment(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    first = deploy_function("environment", environment={"COLOUR": "red", "ONLY_FIRST": "1"})
    second = deploy_function("environment", environment={"COLOUR": "blue", "ONLY_SECOND": "2"})
    rendezvous = unique("pair")
    handlers.RENDEZVOUS[rendezvous] = threading.Barrier(2)
    event = {"names": ["COLOUR", "ONLY_FIRST", "ONLY_SECOND"], "rendezvous": rendezvous}

    with ThreadPoolExecutor(max_workers=2) as pool:
        seen = list(pool.map(lambda function: invoke(runtime, function, event), [first, second]))

    assert [response["Payload"]["invocation"] for response in seen] == [
        {"COLOUR": "red", "ONLY_FIRST": "1", "ONLY_SECOND": None},
        {"COLOUR": "blue", "ONLY_FIRST": None, "ONLY_SECOND": "2"},
    ]
    assert [response["Payload"]["cold_start"] for response in seen] == [
        {"COLOUR": "red", "ONLY_FIRST": "1", "ONLY_SECOND": None},
        {"COLOUR": "blue", "ONLY_FIRST": None, "ONLY_SECOND": "2"},
    ]


def test_concurrent_invocations_of_a_function_get_sandboxes_of_their_own(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("sandbox")
    rendezvous = unique("sandboxes")
    handlers.RENDEZVOUS[rendezvous] = threading.Barrier(2)

    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(
            pool.map(
                lambda _: invoke(runtime, function, {"rendezvous": rendezvous})["Payload"],
                range(2),
            )
        )
    later = invoke(runtime, function, {})["Payload"]

    assert together[0]["sandbox"] != together[1]["sandbox"]
    assert together[0]["log_stream"] != together[1]["log_stream"]
    # Warm: a later invocation is served by a sandbox that already exists.
    assert later in together


def test_an_exception_becomes_an_unhandled_function_error_named_after_its_type(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("raise_value_error")

    response = invoke(runtime, function, {"message": "count: not a number"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "ValueError"
    assert response["Payload"]["errorMessage"] == "count: not a number"
    assert response["Payload"]["stackTrace"]


def test_a_maas_error_reports_its_error_name_as_the_error_type(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("raise_validation_error")

    response = invoke(runtime, function, {"message": "endpoint_name: too long"})

    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Maas.ValidationError"
    assert response["Payload"]["errorMessage"] == "endpoint_name: too long"


def test_a_handler_past_its_timeout_returns_sandbox_timedout(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("sleep", timeout=1)

    response = invoke(runtime, function, {"seconds": 3})

    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Sandbox.Timedout"
    assert response["Payload"]["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_event_invocation_answers_202_and_runs_the_handler_in_the_background(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    log_messages: Callable[[str], list[str]],
) -> None:
    function = deploy_function("print_event")
    rendezvous = unique("background")
    handlers.RENDEZVOUS[rendezvous] = threading.Barrier(2)
    event = {"rendezvous": rendezvous}

    response = runtime.client("lambda").invoke(
        FunctionName=function.name, InvocationType="Event", Payload=json.dumps(event).encode()
    )
    # Had the invocation run in the caller's thread, the handler would still be waiting.
    handlers.RENDEZVOUS[rendezvous].wait(timeout=5)

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    printed = json.dumps({"received": event}, sort_keys=True)
    wait_until(lambda: printed in log_messages(function.log_group))


def test_handler_output_lands_in_the_function_log_group_between_start_and_end(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    log_messages: Callable[[str], list[str]],
) -> None:
    function = deploy_function("print_event")

    request_id = invoke(runtime, function, {"n": 1})["Payload"]["printed"]

    assert log_messages(f"/aws/lambda/{function.name}") == [
        f"START RequestId: {request_id} Version: $LATEST",
        '{"received": {"n": 1}}',
        f"END RequestId: {request_id}",
    ]


def test_a_dry_run_invocation_answers_204_and_runs_nothing(
    runtime: LocalRuntime,
    deploy_function: Callable[..., LocalFunction],
    log_messages: Callable[[str], list[str]],
) -> None:
    function = deploy_function("print_event")

    response = runtime.client("lambda").invoke(
        FunctionName=function.name, InvocationType="DryRun", Payload=b"{}"
    )

    assert response["StatusCode"] == 204
    assert log_messages(function.log_group) == []


def test_a_handler_missing_from_its_module_is_runtime_handler_not_found(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("no_such_handler")

    response = invoke(runtime, function, {})

    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Runtime.HandlerNotFound"
    assert response["Payload"]["errorMessage"] == (
        "Handler 'no_such_handler' missing on module 'tests.local.handlers'"
    )


def test_a_module_that_fails_to_import_is_runtime_import_module_error(
    runtime: LocalRuntime,
) -> None:
    name = unique("broken")
    created = runtime.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=runtime.resources.roles["FunctionRole"],
        Handler="tests.local.no_such_module.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    runtime.lambda_.register(
        LocalFunction(
            name=name,
            handler="tests.local.no_such_module.handler",
            environment={},
            timeout_seconds=5,
            memory_mb=128,
            arn=created["FunctionArn"],
        )
    )

    function = runtime.lambda_.get(name)
    assert function is not None
    response = invoke(runtime, function, {})

    assert response["Payload"]["errorType"] == "Runtime.ImportModuleError"
    assert response["Payload"]["errorMessage"].startswith(
        "Unable to import module 'tests.local.no_such_module'"
    )


def test_a_result_that_is_not_json_is_runtime_marshal_error(
    runtime: LocalRuntime, deploy_function: Callable[..., LocalFunction]
) -> None:
    function = deploy_function("return_a_set")

    response = invoke(runtime, function, {})

    assert response["Payload"]["errorType"] == "Runtime.MarshalError"
    assert "is not JSON serializable" in response["Payload"]["errorMessage"]
